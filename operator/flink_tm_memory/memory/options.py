"""Flink's TaskManager option definitions: keys, types, defaults and fallback keys.

Keys are spelled exactly as Flink spells them. ``describe()`` reproduces Java's
``ConfigOption.toString()``, because several of Flink's messages embed it verbatim.
"""

from __future__ import annotations

from flink_tm_memory.memory.constants import Named
from flink_tm_memory.memory.javanum import java_float_to_string, to_binary32
from flink_tm_memory.memory.records import FrozenRecord
from flink_tm_memory.memory.sizes import GIB, MAX_BYTES, MIB, format_option_value
from flink_tm_memory.memory.versions import FlinkVersion

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see memory/records.py)
if TYPE_CHECKING:
    from typing import ClassVar, Final


class OptionType(Named):
    MEMORY: ClassVar[OptionType]
    FLOAT: ClassVar[OptionType]
    DOUBLE: ClassVar[OptionType]
    INTEGER: ClassVar[OptionType]
    LONG: ClassVar[OptionType]
    MAP: ClassVar[OptionType]
    STRING: ClassVar[OptionType]
    LIST: ClassVar[OptionType]


OptionType.define_all(
    MEMORY="MemorySize",
    FLOAT="Float",
    DOUBLE="Double",
    INTEGER="Integer",
    LONG="Long",
    MAP="Map",
    STRING="String",
    LIST="List<String>",
)


class FallbackKey(FrozenRecord):
    __slots__ = ("deprecated", "key")

    def __init__(self, key: str, deprecated: bool = True) -> None:
        self.key: Final = key
        self.deprecated: Final = deprecated


class ConfigOption(FrozenRecord):
    __slots__ = ("all_keys", "default", "description", "fallback_keys", "key", "type")

    def __init__(
        self,
        key: str,
        type: OptionType,
        default: int | float | None = None,
        fallback_keys: tuple[FallbackKey, ...] = (),
        description: str = "",
    ) -> None:
        self.key: Final = key
        self.type: Final = type
        self.default: Final = default
        self.fallback_keys: Final = fallback_keys
        self.description: Final = description
        # Looked up for every option read; computed once.
        self.all_keys: Final = (key, *(fallback.key for fallback in fallback_keys))

    def describe(self) -> str:
        """Java's ``ConfigOption.toString()``, including its odd space before the comma."""
        fallbacks = ", ".join(
            f"{{key={fallback.key}, isDeprecated={'true' if fallback.deprecated else 'false'}}}"
            for fallback in self.fallback_keys
        )
        return f"Key: '{self.key}' , default: {self._default_text()} (fallback keys: [{fallbacks}])"

    def _default_text(self) -> str:
        if self.default is None:
            return "null"
        if self.type is OptionType.MEMORY:
            return format_option_value(int(self.default))
        if self.type is OptionType.FLOAT:
            return java_float_to_string(float(self.default))
        return str(self.default)


def _memory(key: str, default: int | None = None, *fallbacks: str, description: str = "") -> ConfigOption:
    return ConfigOption(
        key, OptionType.MEMORY, default, tuple(FallbackKey(f) for f in fallbacks), description=description
    )


def _float(key: str, default: float, *fallbacks: str, description: str = "") -> ConfigOption:
    # Flink's float defaults (0.1f, 0.4f) reach the arithmetic widened to double.
    return ConfigOption(
        key, OptionType.FLOAT, to_binary32(default), tuple(FallbackKey(f) for f in fallbacks), description
    )


PROCESS_SIZE = _memory("taskmanager.memory.process.size", description="Total Process Memory")
FLINK_SIZE = _memory("taskmanager.memory.flink.size", description="Total Flink Memory")
FRAMEWORK_HEAP = _memory("taskmanager.memory.framework.heap.size", 128 * MIB, description="Framework Heap")
FRAMEWORK_OFF_HEAP = _memory(
    "taskmanager.memory.framework.off-heap.size", 128 * MIB, description="Framework Off-Heap"
)
TASK_HEAP = _memory("taskmanager.memory.task.heap.size", description="Task Heap")
TASK_OFF_HEAP = _memory("taskmanager.memory.task.off-heap.size", 0, description="Task Off-Heap")
MANAGED_SIZE = _memory(
    "taskmanager.memory.managed.size", None, "taskmanager.memory.size", description="Managed"
)
MANAGED_FRACTION = _float("taskmanager.memory.managed.fraction", 0.4, description="Managed fraction")
NETWORK_MIN = _memory("taskmanager.memory.network.min", 64 * MIB, "taskmanager.network.memory.min")
NETWORK_MAX = _memory("taskmanager.memory.network.max", MAX_BYTES, "taskmanager.network.memory.max")
NETWORK_FRACTION = _float("taskmanager.memory.network.fraction", 0.1, "taskmanager.network.memory.fraction")
METASPACE = _memory("taskmanager.memory.jvm-metaspace.size", 256 * MIB, description="JVM Metaspace")
OVERHEAD_MIN = _memory("taskmanager.memory.jvm-overhead.min", 192 * MIB)
OVERHEAD_MAX = _memory("taskmanager.memory.jvm-overhead.max", GIB)
OVERHEAD_FRACTION = _float("taskmanager.memory.jvm-overhead.fraction", 0.1)
SEGMENT_SIZE = _memory("taskmanager.memory.segment-size", 32 * 1024)
CPU_CORES = ConfigOption("taskmanager.cpu.cores", OptionType.DOUBLE)
NUM_TASK_SLOTS = ConfigOption("taskmanager.numberOfTaskSlots", OptionType.INTEGER, 1)
CONSUMER_WEIGHTS = ConfigOption("taskmanager.memory.managed.consumer-weights", OptionType.MAP)
EXTERNAL_RESOURCES = ConfigOption("external-resources", OptionType.LIST)

# 1.x only.
LEGACY_HEAP_SIZE = _memory("taskmanager.heap.size")
LEGACY_HEAP_MB = ConfigOption("taskmanager.heap.mb", OptionType.INTEGER)
LEGACY_NETWORK_BUFFERS = ConfigOption("taskmanager.network.numberOfBuffers", OptionType.INTEGER, 2048)
LEGACY_HEAP_ENV = "FLINK_TM_HEAP"

_COMMON: tuple[ConfigOption, ...] = (
    PROCESS_SIZE,
    FLINK_SIZE,
    FRAMEWORK_HEAP,
    FRAMEWORK_OFF_HEAP,
    TASK_HEAP,
    TASK_OFF_HEAP,
    MANAGED_SIZE,
    MANAGED_FRACTION,
    CONSUMER_WEIGHTS,
    NETWORK_MIN,
    NETWORK_MAX,
    NETWORK_FRACTION,
    METASPACE,
    OVERHEAD_MIN,
    OVERHEAD_MAX,
    OVERHEAD_FRACTION,
    SEGMENT_SIZE,
    CPU_CORES,
    NUM_TASK_SLOTS,
)
_LEGACY: tuple[ConfigOption, ...] = (LEGACY_HEAP_SIZE, LEGACY_HEAP_MB, LEGACY_NETWORK_BUFFERS)


_WITH_LEGACY = _COMMON + _LEGACY


def options_for(version: FlinkVersion) -> tuple[ConfigOption, ...]:
    """Every option this engine reads for ``version``."""
    return _WITH_LEGACY if version.is_1x else _COMMON


# Remembered per release by hand: functools.cache would import functools (and collections) on the
# one-shot command line's path (memory/constants.py says why that matters).
_KNOWN_KEYS: dict[FlinkVersion, frozenset[str]] = {}


def known_keys(version: FlinkVersion) -> frozenset[str]:
    """Every key (with fallbacks) that influences TaskManager memory in ``version``."""
    keys = _KNOWN_KEYS.get(version)
    if keys is None:
        keys = _KNOWN_KEYS[version] = frozenset(
            key for option in options_for(version) for key in option.all_keys
        )
    return keys
