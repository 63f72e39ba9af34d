"""A derived TaskManager memory layout and the two strings Flink starts a TaskManager with.

``jvm_parameters`` is ``ProcessMemoryUtils.generateJvmParametersStr`` and ``dynamic_configs`` is
``TaskExecutorProcessUtils.generateDynamicConfigsStr``: every component pinned as ``-D key=<bytes>b``,
in the iteration order of the Java ``HashMap`` Flink fills (simulated in ``java_hash_map``).
"""

from __future__ import annotations

from flink_tm_memory.memory import options as opt
from flink_tm_memory.memory.java_hash_map import hash_map_order, hash_set_capacity
from flink_tm_memory.memory.javanum import java_double_to_string
from flink_tm_memory.memory.records import FrozenRecord
from flink_tm_memory.memory.sizes import format_flag_bytes

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see memory/records.py)
if TYPE_CHECKING:
    from typing import Final

COMPONENT_NAMES: tuple[str, ...] = (
    "frameworkHeap",
    "taskHeap",
    "frameworkOffHeap",
    "taskOffHeap",
    "network",
    "managed",
    "jvmMetaspace",
    "jvmOverhead",
    "totalFlink",
    "totalProcess",
)
"""Component names, as in Flink's REST API and the oracle's output."""


class MemoryLayout(FrozenRecord):
    """Every TaskManager memory component in bytes, with CPU and slots, as Flink derived them."""

    __slots__ = (
        "cpu_cores",
        "external_resources",
        "framework_heap_bytes",
        "framework_off_heap_bytes",
        "jvm_metaspace_bytes",
        "jvm_overhead_bytes",
        "managed_bytes",
        "network_bytes",
        "num_slots",
        "task_heap_bytes",
        "task_off_heap_bytes",
    )

    def __init__(
        self,
        *,
        framework_heap_bytes: int,
        task_heap_bytes: int,
        framework_off_heap_bytes: int,
        task_off_heap_bytes: int,
        network_bytes: int,
        managed_bytes: int,
        jvm_metaspace_bytes: int,
        jvm_overhead_bytes: int,
        cpu_cores: float,
        num_slots: int,
        external_resources: tuple[tuple[str, int], ...] = (),
    ) -> None:
        self.framework_heap_bytes: Final = framework_heap_bytes
        self.task_heap_bytes: Final = task_heap_bytes
        self.framework_off_heap_bytes: Final = framework_off_heap_bytes
        self.task_off_heap_bytes: Final = task_off_heap_bytes
        self.network_bytes: Final = network_bytes
        self.managed_bytes: Final = managed_bytes
        self.jvm_metaspace_bytes: Final = jvm_metaspace_bytes
        self.jvm_overhead_bytes: Final = jvm_overhead_bytes
        self.cpu_cores: Final = cpu_cores
        self.num_slots: Final = num_slots
        self.external_resources: Final = external_resources

    @property
    def total_flink_bytes(self) -> int:
        return (
            self.framework_heap_bytes
            + self.task_heap_bytes
            + self.framework_off_heap_bytes
            + self.task_off_heap_bytes
            + self.network_bytes
            + self.managed_bytes
        )

    @property
    def total_process_bytes(self) -> int:
        return self.total_flink_bytes + self.jvm_metaspace_bytes + self.jvm_overhead_bytes

    @property
    def jvm_heap_bytes(self) -> int:
        return self.framework_heap_bytes + self.task_heap_bytes

    @property
    def jvm_direct_bytes(self) -> int:
        return self.framework_off_heap_bytes + self.task_off_heap_bytes + self.network_bytes

    @property
    def total_off_heap_bytes(self) -> int:
        return self.managed_bytes + self.jvm_direct_bytes

    def components(self) -> dict[str, int]:
        """The ten components by their Flink names, in bytes."""
        values = (
            self.framework_heap_bytes,
            self.task_heap_bytes,
            self.framework_off_heap_bytes,
            self.task_off_heap_bytes,
            self.network_bytes,
            self.managed_bytes,
            self.jvm_metaspace_bytes,
            self.jvm_overhead_bytes,
            self.total_flink_bytes,
            self.total_process_bytes,
        )
        return dict(zip(COMPONENT_NAMES, values, strict=True))

    def jvm_parameters(self) -> str:
        return (
            f"-Xmx{self.jvm_heap_bytes} -Xms{self.jvm_heap_bytes} "
            f"-XX:MaxDirectMemorySize={self.jvm_direct_bytes} "
            f"-XX:MaxMetaspaceSize={self.jvm_metaspace_bytes}"
        )

    def pinned_options(self) -> dict[str, str]:
        """The options Flink pins for the TaskManager, in Flink's insertion order."""
        pinned = {
            opt.CPU_CORES.key: java_double_to_string(self.cpu_cores),
            opt.FRAMEWORK_HEAP.key: format_flag_bytes(self.framework_heap_bytes),
            opt.FRAMEWORK_OFF_HEAP.key: format_flag_bytes(self.framework_off_heap_bytes),
            opt.TASK_HEAP.key: format_flag_bytes(self.task_heap_bytes),
            opt.TASK_OFF_HEAP.key: format_flag_bytes(self.task_off_heap_bytes),
            opt.NETWORK_MIN.key: format_flag_bytes(self.network_bytes),
            opt.NETWORK_MAX.key: format_flag_bytes(self.network_bytes),
            opt.MANAGED_SIZE.key: format_flag_bytes(self.managed_bytes),
            opt.METASPACE.key: format_flag_bytes(self.jvm_metaspace_bytes),
            opt.OVERHEAD_MIN.key: format_flag_bytes(self.jvm_overhead_bytes),
            opt.OVERHEAD_MAX.key: format_flag_bytes(self.jvm_overhead_bytes),
            opt.NUM_TASK_SLOTS.key: str(self.num_slots),
        }
        if self.external_resources:
            names = ";".join(name for name, _ in self.external_resources)
            pinned[opt.EXTERNAL_RESOURCES.key] = f'"{names}"'
            for name, amount in self.external_resources:
                pinned[f"external-resource.{name}.amount"] = str(amount)
        else:
            pinned[opt.EXTERNAL_RESOURCES.key] = "none"
        return pinned

    def dynamic_configs(self) -> str:
        pinned = self.pinned_options()
        return " ".join(f"-D {key}={pinned[key]}" for key in java_hash_map_order(tuple(pinned)))


_ORDERS: dict[tuple[tuple[str, ...], int], tuple[str, ...]] = {}


def java_hash_map_order(keys: tuple[str, ...], initial_capacity: int = 16) -> tuple[str, ...]:
    """Iteration order of ``new HashMap<>(initial_capacity)`` after ``put`` of ``keys`` in this order.

    Simulated by :mod:`~flink_tm_memory.memory.java_hash_map` (collisions, tree bins and resizes included).
    Remembered (by hand: functools stays off the one-shot path): Flink pins the same keys for every
    TaskManager.
    """
    order = _ORDERS.get((keys, initial_capacity))
    if order is None:
        order = _ORDERS[keys, initial_capacity] = hash_map_order(keys, initial_capacity)
    return order


def java_hash_set_order(items: list[str]) -> tuple[str, ...]:
    """Iteration order of ``new HashSet<>(items)``, whose table is sized for the list up front."""
    return java_hash_map_order(tuple(items), hash_set_capacity(len(items)))
