"""Flink's TaskManager memory derivation (``TaskExecutorProcessUtils.processSpecFromConfig``).

The algorithm follows Flink's own control flow step by step: the same options read in the same
order, ranges built lazily at their point of use, the same exact-then-truncate arithmetic, the same
exception wrapping. That order decides *which* error Flink reports, so it is kept even where a
different order would read more naturally. Each step also records its explain trace and the notes
Flink would only have logged.

Public entry point: ``derive_task_manager_memory`` in ``flink_tm_memory.memory.engine``.
"""

from __future__ import annotations

import math

from flink_tm_memory.memory import options as opt
from flink_tm_memory.memory.configuration import FlinkConfiguration, java_string
from flink_tm_memory.memory.explain import ComponentTrace, Note, NoteCode, NoteLevel, Origin
from flink_tm_memory.memory.failures import (
    ILLEGAL_ARGUMENT,
    NUMBER_FORMAT,
    JavaError,
    Reason,
    configuration_error,
)
from flink_tm_memory.memory.javanum import (
    INT_MAX,
    INT_MIN,
    big_decimal_value_of,
    java_double_to_string,
    truncate_ratio,
)
from flink_tm_memory.memory.layout import MemoryLayout, java_hash_map_order, java_hash_set_order
from flink_tm_memory.memory.options import ConfigOption, OptionType
from flink_tm_memory.memory.records import FrozenRecord
from flink_tm_memory.memory.sizes import MAX_BYTES, add, add_all, format_human, multiply
from flink_tm_memory.memory.versions import FlinkVersion

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see memory/records.py)
if TYPE_CHECKING:
    from decimal import Decimal
    from typing import Final

_CPU_SCALE = 10**8  # CPUResource keeps 8 decimals


class RangeFraction(FrozenRecord):
    __slots__ = ("fraction", "fraction_option", "max_bytes", "min_bytes")

    def __init__(
        self, min_bytes: int, max_bytes: int, fraction: float, fraction_option: ConfigOption
    ) -> None:
        self.min_bytes: Final = min_bytes
        self.max_bytes: Final = max_bytes
        self.fraction: Final = fraction
        self.fraction_option: Final = fraction_option


class _FlinkMemory(FrozenRecord):
    __slots__ = ("framework_heap", "framework_off_heap", "managed", "network", "task_heap", "task_off_heap")

    def __init__(
        self,
        *,
        framework_heap: int,
        framework_off_heap: int,
        task_heap: int,
        task_off_heap: int,
        network: int,
        managed: int,
    ) -> None:
        self.framework_heap: Final = framework_heap
        self.framework_off_heap: Final = framework_off_heap
        self.task_heap: Final = task_heap
        self.task_off_heap: Final = task_off_heap
        self.network: Final = network
        self.managed: Final = managed

    @property
    def total(self) -> int:
        return add_all(
            self.framework_heap,
            self.framework_off_heap,
            self.task_heap,
            self.task_off_heap,
            self.network,
            self.managed,
        )


class Derivation:
    """One run of Flink's algorithm over one configuration, collecting notes and the trace."""

    __slots__ = ("_capped", "config", "notes", "trace", "traced", "version")

    def __init__(self, config: FlinkConfiguration, version: FlinkVersion, *, traced: bool = True) -> None:
        self.config = config
        self.version = version
        self.traced = (
            traced  # False: no explain trace and no notes, for batches that need only Flink's answer
        )
        self.notes: list[Note] = []
        self.trace: dict[str, ComponentTrace] = {}
        self._capped: dict[str, str] = {}  # component -> "min" | "max"

    # ------------------------------------------------------------------ entry

    def run(self) -> MemoryLayout:
        """``processSpecFromConfig``: the memory spec, then CPU and slots; ICEs get Flink's prefix."""
        try:
            flink, metaspace, overhead = self._process_memory()
            cpu = self._cpu_cores()
            slots = self._num_slots()
            external_resources = self._external_resources()
        except JavaError as error:
            if error.is_configuration_error:
                raise configuration_error(
                    f"TaskManager memory configuration failed: {error.message}", error
                ) from None
            raise
        layout = MemoryLayout(
            framework_heap_bytes=flink.framework_heap,
            task_heap_bytes=flink.task_heap,
            framework_off_heap_bytes=flink.framework_off_heap,
            task_off_heap_bytes=flink.task_off_heap,
            network_bytes=flink.network,
            managed_bytes=flink.managed,
            jvm_metaspace_bytes=metaspace,
            jvm_overhead_bytes=overhead,
            cpu_cores=cpu,
            num_slots=slots,
            external_resources=external_resources,
        )
        # BashJavaUtils logs the totals next; Java's addExact fails there if they pass 2^63-1.
        add_all(flink.total, metaspace, overhead)
        self._trace_totals(layout)
        return layout

    # ------------------------------------------------------------------ mode selection (PMU)

    def _process_memory(self) -> tuple[_FlinkMemory, int, int]:
        config = self.config
        if config.contains(opt.TASK_HEAP) and config.contains(opt.MANAGED_SIZE):
            flink = self._from_fine_grained()
            metaspace, overhead = self._jvm_from_total_flink(flink.total)
            return flink, metaspace, overhead
        if config.contains(opt.FLINK_SIZE):
            total_flink = self._read(opt.FLINK_SIZE)
            self._set_trace("totalFlink", Origin.CONFIGURED, "configured total Flink memory", opt.FLINK_SIZE)
            flink = self._from_total_flink(total_flink)
            metaspace, overhead = self._jvm_from_total_flink(total_flink)
            return flink, metaspace, overhead
        if config.contains(opt.PROCESS_SIZE):
            total_process = self._read(opt.PROCESS_SIZE)
            self._set_trace(
                "totalProcess", Origin.CONFIGURED, "configured total process memory", opt.PROCESS_SIZE
            )
            metaspace, overhead = self._jvm_from_total_process(total_process)
            total_flink = total_process - add(metaspace, overhead)
            self._set_trace(
                "totalFlink", Origin.DERIVED, "total process memory minus JVM metaspace and JVM overhead"
            )
            flink = self._from_total_flink(total_flink)
            return flink, metaspace, overhead
        raise configuration_error(
            "Either required fine-grained memory (taskmanager.memory.task.heap.size and "
            "taskmanager.memory.managed.size), or Total Flink Memory size "
            f"({opt.FLINK_SIZE.describe()}), or Total Process Memory size "
            f"({opt.PROCESS_SIZE.describe()}) need to be configured explicitly.",
            reason=Reason.TOTAL_MEMORY_MISSING,
            keys=(opt.PROCESS_SIZE.key, opt.FLINK_SIZE.key, opt.TASK_HEAP.key, opt.MANAGED_SIZE.key),
        )

    # ------------------------------------------------------------------ Flink memory (TEFMU)

    def _from_fine_grained(self) -> _FlinkMemory:
        task_heap = self._read_traced("taskHeap", opt.TASK_HEAP)
        managed = self._read_traced("managed", opt.MANAGED_SIZE)
        framework_heap = self._read_traced("frameworkHeap", opt.FRAMEWORK_HEAP)
        framework_off_heap = self._read_traced("frameworkOffHeap", opt.FRAMEWORK_OFF_HEAP)
        task_off_heap = self._read_traced("taskOffHeap", opt.TASK_OFF_HEAP)
        without_network = add_all(framework_heap, framework_off_heap, task_heap, task_off_heap, managed)
        if self.config.contains(opt.FLINK_SIZE):
            total_flink = self._read(opt.FLINK_SIZE)
            self._set_trace("totalFlink", Origin.CONFIGURED, "configured total Flink memory", opt.FLINK_SIZE)
            if without_network > total_flink:
                raise self._fine_grained_exceed(
                    framework_heap=framework_heap,
                    framework_off_heap=framework_off_heap,
                    task_heap=task_heap,
                    task_off_heap=task_off_heap,
                    managed=managed,
                    total_flink=total_flink,
                    total_option=opt.FLINK_SIZE,
                )
            network = total_flink - without_network
            self._check_remainder_network(network, total_flink)
            self._set_trace(
                "network", Origin.DERIVED, "the rest of total Flink memory after every other component"
            )
        elif self._uses_legacy_network():
            network = self._legacy_network()
        else:
            network = self._with_inverse_fraction("network memory", without_network, self._network_range())
            self._trace_fraction(
                "network", "network memory fraction of total Flink memory", opt.NETWORK_FRACTION
            )
        return _FlinkMemory(
            framework_heap=framework_heap,
            framework_off_heap=framework_off_heap,
            task_heap=task_heap,
            task_off_heap=task_off_heap,
            network=network,
            managed=managed,
        )

    def _from_total_flink(self, total_flink: int) -> _FlinkMemory:
        framework_heap = self._read_traced("frameworkHeap", opt.FRAMEWORK_HEAP)
        framework_off_heap = self._read_traced("frameworkOffHeap", opt.FRAMEWORK_OFF_HEAP)
        task_off_heap = self._read_traced("taskOffHeap", opt.TASK_OFF_HEAP)
        if self.config.contains(opt.TASK_HEAP):
            task_heap = self._read_traced("taskHeap", opt.TASK_HEAP)
            managed = self._managed(total_flink)
            without_network = add_all(framework_heap, framework_off_heap, task_heap, task_off_heap, managed)
            if without_network > total_flink:
                total_option = opt.FLINK_SIZE if self.config.contains(opt.FLINK_SIZE) else opt.PROCESS_SIZE
                raise self._fine_grained_exceed(
                    framework_heap=framework_heap,
                    framework_off_heap=framework_off_heap,
                    task_heap=task_heap,
                    task_off_heap=task_off_heap,
                    managed=managed,
                    total_flink=total_flink,
                    total_option=total_option,
                )
            network = total_flink - without_network
            self._check_remainder_network(network, total_flink)
            self._set_trace(
                "network", Origin.DERIVED, "the rest of total Flink memory after every other component"
            )
        else:
            managed = self._managed(total_flink)
            if self._uses_legacy_network():
                network = self._legacy_network()
            else:
                network = self._with_fraction("network memory", total_flink, self._network_range())
                self._trace_fraction(
                    "network", "network memory fraction of total Flink memory", opt.NETWORK_FRACTION
                )
            without_task_heap = add_all(framework_heap, framework_off_heap, task_off_heap, managed, network)
            if without_task_heap > total_flink:
                raise configuration_error(
                    f"Sum of configured Framework Heap Memory ({format_human(framework_heap)}), "
                    f"Framework Off-Heap Memory ({format_human(framework_off_heap)}), "
                    f"Task Off-Heap Memory ({format_human(task_off_heap)}), "
                    f"Managed Memory ({format_human(managed)}) and "
                    f"Network Memory ({format_human(network)}) exceed configured "
                    f"Total Flink Memory ({format_human(total_flink)}).",
                    reason=Reason.COMPONENTS_EXCEED_TOTAL_FLINK,
                    keys=self._present_keys(
                        opt.FRAMEWORK_HEAP,
                        opt.FRAMEWORK_OFF_HEAP,
                        opt.TASK_OFF_HEAP,
                        opt.MANAGED_SIZE,
                        opt.MANAGED_FRACTION,
                        opt.NETWORK_MIN,
                        opt.NETWORK_MAX,
                        opt.NETWORK_FRACTION,
                        opt.FLINK_SIZE,
                        opt.PROCESS_SIZE,
                    ),
                )
            task_heap = total_flink - without_task_heap
            self._set_trace(
                "taskHeap", Origin.DERIVED, "the rest of total Flink memory after every other component"
            )
        return _FlinkMemory(
            framework_heap=framework_heap,
            framework_off_heap=framework_off_heap,
            task_heap=task_heap,
            task_off_heap=task_off_heap,
            network=network,
            managed=managed,
        )

    def _managed(self, total_flink: int) -> int:
        if self.config.contains(opt.MANAGED_SIZE):
            return self._read_traced("managed", opt.MANAGED_SIZE)
        managed = self._with_fraction("managed memory", total_flink, self._managed_range())
        self._trace_fraction("managed", "managed memory fraction of total Flink memory", opt.MANAGED_FRACTION)
        return managed

    def _fine_grained_exceed(
        self,
        *,
        framework_heap: int,
        framework_off_heap: int,
        task_heap: int,
        task_off_heap: int,
        managed: int,
        total_flink: int,
        total_option: ConfigOption,
    ) -> JavaError:
        return configuration_error(
            f"Sum of configured Framework Heap Memory ({format_human(framework_heap)}), "
            f"Framework Off-Heap Memory ({format_human(framework_off_heap)}), "
            f"Task Heap Memory ({format_human(task_heap)}), "
            f"Task Off-Heap Memory ({format_human(task_off_heap)}) and "
            f"Managed Memory ({format_human(managed)}) exceed configured "
            f"Total Flink Memory ({format_human(total_flink)}).",
            reason=Reason.FINE_GRAINED_EXCEED_TOTAL_FLINK,
            keys=self._present_keys(
                opt.FRAMEWORK_HEAP,
                opt.FRAMEWORK_OFF_HEAP,
                opt.TASK_HEAP,
                opt.TASK_OFF_HEAP,
                opt.MANAGED_SIZE,
                opt.MANAGED_FRACTION,
                total_option,
            ),
        )

    def _check_remainder_network(self, network: int, total_flink: int) -> None:
        """``sanityCheckNetworkMemoryWithExplicitlySetTotalFlinkAndHeapMemory``."""
        try:
            if self._uses_legacy_network():
                configured = self._legacy_network()
                if configured != network:
                    raise configuration_error(
                        f"Derived Network Memory size ({format_human(network)}) does not match configured "
                        f"Network Memory size ({format_human(configured)}).",
                        reason=Reason.NETWORK_MISMATCH,
                        keys=(opt.LEGACY_NETWORK_BUFFERS.key,),
                    )
                return
            network_range = self._network_range()
            if network > network_range.max_bytes or network < network_range.min_bytes:
                raise configuration_error(
                    f"Derived Network Memory size ({format_human(network)}) is not in configured Network Memory "
                    f"range [{format_human(network_range.min_bytes)}, {format_human(network_range.max_bytes)}].",
                    reason=Reason.NETWORK_OUT_OF_RANGE,
                    keys=self._present_keys(opt.NETWORK_MIN, opt.NETWORK_MAX),
                )
            # The note costs a product and a message: skipped with the trace (it changes no size).
            if (
                self.traced
                and self.config.contains(opt.NETWORK_FRACTION)
                and network != multiply(total_flink, network_range.fraction)
            ):
                self._note(
                    NoteLevel.INFO,
                    NoteCode.NETWORK_FRACTION_IGNORED,
                    f"The derived Network Memory size ({format_human(network)}) does not match the configured "
                    f"Network Memory fraction ({java_double_to_string(network_range.fraction)}) from the "
                    f"configured Total Flink Memory size ({format_human(total_flink)}). The derived Network "
                    "Memory size will be used.",
                    self._present_keys(opt.NETWORK_FRACTION),
                )
        except JavaError as error:
            if not error.is_configuration_error:
                raise
            raise configuration_error(
                "If Total Flink, Task Heap and (or) Managed Memory sizes are explicitly configured then the "
                "Network Memory size is the rest of the Total Flink memory after subtracting all other "
                "configured types of memory, but the derived Network Memory is inconsistent with its "
                "configuration.",
                error,
                keys=self._present_keys(opt.FLINK_SIZE, opt.PROCESS_SIZE, opt.TASK_HEAP, opt.MANAGED_SIZE),
            ) from None

    # ------------------------------------------------------------------ legacy network (1.x)

    def _uses_legacy_network(self) -> bool:
        if not self.version.has_legacy_network_buffers:
            return False
        any_network = any(
            self.config.contains(option)
            for option in (opt.NETWORK_MIN, opt.NETWORK_MAX, opt.NETWORK_FRACTION)
        )
        return not any_network and self.config.contains(opt.LEGACY_NETWORK_BUFFERS)

    def _legacy_network(self) -> int:
        buffers = self.config.get_int(opt.LEGACY_NETWORK_BUFFERS)
        assert buffers is not None  # the option has a default
        page_size = self._page_size()
        network = buffers * page_size
        if network < 0:
            raise JavaError(
                ILLEGAL_ARGUMENT,
                "bytes must be >= 0",
                reason=Reason.NEGATIVE_SIZE,
                keys=(opt.LEGACY_NETWORK_BUFFERS.key,),
            )
        self._set_trace(
            "network",
            Origin.CONFIGURED,
            "legacy network buffers: taskmanager.network.numberOfBuffers x taskmanager.memory.segment-size",
            opt.LEGACY_NETWORK_BUFFERS,
        )
        if self.traced:  # notes and trace are skipped together
            self._note(
                NoteLevel.WARNING,
                NoteCode.LEGACY_NETWORK_BUFFERS,
                "Network memory is sized by the legacy option taskmanager.network.numberOfBuffers, which Flink 2.0 "
                "removed; configure taskmanager.memory.network.min/max/fraction instead.",
                (opt.LEGACY_NETWORK_BUFFERS.key,),
            )
        return network

    def _page_size(self) -> int:
        size = self.config.get_memory(opt.SEGMENT_SIZE)
        assert size is not None  # the option has a default
        if not INT_MIN <= size <= INT_MAX:
            raise JavaError(
                ILLEGAL_ARGUMENT,
                f"Cannot downcast long value {size} to integer.",
                reason=Reason.INVALID_SEGMENT_SIZE,
                keys=(opt.SEGMENT_SIZE.key,),
            )
        problem = None
        if size < 4096:
            problem = "Minimum memory segment size is 4096"
        elif size & (size - 1) != 0:
            problem = "Memory segment size must be a power of 2."
        if problem is not None:
            raise configuration_error(
                f"Invalid configuration value for {opt.SEGMENT_SIZE.key} : {size} - {problem}",
                reason=Reason.INVALID_SEGMENT_SIZE,
                keys=(opt.SEGMENT_SIZE.key,),
            )
        return size

    # ------------------------------------------------------------------ JVM metaspace and overhead (PMU)

    def _jvm_from_total_flink(self, total_flink: int) -> tuple[int, int]:
        metaspace = self._read_traced("jvmMetaspace", opt.METASPACE)
        if self.config.contains(opt.PROCESS_SIZE):
            total_process = self._read(opt.PROCESS_SIZE)
            self._set_trace(
                "totalProcess", Origin.CONFIGURED, "configured total process memory", opt.PROCESS_SIZE
            )
            metaspace = self._read(opt.METASPACE)
            flink_and_metaspace = add(total_flink, metaspace)
            if total_process < flink_and_metaspace:
                raise configuration_error(
                    f"The configured Total Process Memory size ({format_human(total_process)}) is less than the "
                    f"sum of the derived Total Flink Memory size ({format_human(total_flink)}) and the configured "
                    f"or default JVM Metaspace size  ({format_human(metaspace)}).",
                    reason=Reason.PROCESS_BELOW_FLINK_AND_METASPACE,
                    keys=self._present_keys(
                        opt.PROCESS_SIZE, opt.FLINK_SIZE, opt.TASK_HEAP, opt.MANAGED_SIZE, opt.METASPACE
                    ),
                )
            overhead = total_process - flink_and_metaspace
            self._check_overhead(overhead, total_process)
            self._set_trace(
                "jvmOverhead",
                Origin.DERIVED,
                "the rest of total process memory after Flink memory and metaspace",
            )
            return metaspace, overhead
        flink_and_metaspace = add(total_flink, metaspace)
        overhead = self._with_inverse_fraction(
            "jvm overhead memory", flink_and_metaspace, self._overhead_range()
        )
        self._trace_fraction(
            "jvmOverhead", "JVM overhead fraction of total process memory", opt.OVERHEAD_FRACTION
        )
        self._set_trace(
            "totalProcess", Origin.DERIVED, "total Flink memory plus JVM metaspace plus JVM overhead"
        )
        return metaspace, overhead

    def _jvm_from_total_process(self, total_process: int) -> tuple[int, int]:
        metaspace = self._read_traced("jvmMetaspace", opt.METASPACE)
        overhead = self._with_fraction("jvm overhead memory", total_process, self._overhead_range())
        self._trace_fraction(
            "jvmOverhead", "JVM overhead fraction of total process memory", opt.OVERHEAD_FRACTION
        )
        if add(metaspace, overhead) > total_process:
            raise configuration_error(
                f"Sum of configured JVM Metaspace ({format_human(metaspace)}) and JVM Overhead "
                f"({format_human(overhead)}) exceed configured Total Process Memory ({format_human(total_process)}).",
                reason=Reason.METASPACE_AND_OVERHEAD_EXCEED_PROCESS,
                keys=self._present_keys(
                    opt.PROCESS_SIZE, opt.METASPACE, opt.OVERHEAD_MIN, opt.OVERHEAD_MAX, opt.OVERHEAD_FRACTION
                ),
            )
        return metaspace, overhead

    def _check_overhead(self, overhead: int, total_process: int) -> None:
        overhead_range = self._overhead_range()
        if overhead > overhead_range.max_bytes or overhead < overhead_range.min_bytes:
            raise configuration_error(
                f"Derived JVM Overhead size ({format_human(overhead)}) is not in configured JVM Overhead range "
                f"[{format_human(overhead_range.min_bytes)}, {format_human(overhead_range.max_bytes)}].",
                reason=Reason.OVERHEAD_OUT_OF_RANGE,
                keys=self._present_keys(
                    opt.PROCESS_SIZE,
                    opt.FLINK_SIZE,
                    opt.TASK_HEAP,
                    opt.MANAGED_SIZE,
                    opt.METASPACE,
                    opt.OVERHEAD_MIN,
                    opt.OVERHEAD_MAX,
                ),
            )
        if (
            self.traced
            and self.config.contains(opt.OVERHEAD_FRACTION)
            and overhead != multiply(total_process, overhead_range.fraction)
        ):
            self._note(
                NoteLevel.INFO,
                NoteCode.OVERHEAD_FRACTION_IGNORED,
                f"The derived JVM Overhead size ({format_human(overhead)}) does not match the configured or "
                f"default JVM Overhead fraction ({java_double_to_string(overhead_range.fraction)}) from the "
                f"configured Total Process Memory size ({format_human(total_process)}). The derived JVM Overhead "
                "size will be used.",
                self._present_keys(opt.OVERHEAD_FRACTION),
            )

    # ------------------------------------------------------------------ ranges and fractions (PMU, RF)

    def _network_range(self) -> RangeFraction:
        return self._range(
            self._read(opt.NETWORK_MIN),
            self._read(opt.NETWORK_MAX),
            opt.NETWORK_FRACTION,
            opt.NETWORK_MIN,
            opt.NETWORK_MAX,
        )

    def _overhead_range(self) -> RangeFraction:
        return self._range(
            self._read(opt.OVERHEAD_MIN),
            self._read(opt.OVERHEAD_MAX),
            opt.OVERHEAD_FRACTION,
            opt.OVERHEAD_MIN,
            opt.OVERHEAD_MAX,
        )

    def _managed_range(self) -> RangeFraction:
        return self._range(0, MAX_BYTES, opt.MANAGED_FRACTION)

    def _range(
        self,
        min_bytes: int,
        max_bytes: int,
        fraction_option: ConfigOption,
        min_option: ConfigOption | None = None,
        max_option: ConfigOption | None = None,
    ) -> RangeFraction:
        fraction = self.config.get_float(fraction_option)
        if min_bytes > max_bytes:
            cause = JavaError(ILLEGAL_ARGUMENT, "min value must be less or equal to max value")
            reason = Reason.MIN_ABOVE_MAX
            keys = self._present_keys(*(o for o in (min_option, max_option) if o is not None))
        elif not (fraction >= 0 and fraction < 1):
            cause = JavaError(ILLEGAL_ARGUMENT, "fraction must be in range [0, 1)")
            reason = Reason.INVALID_FRACTION
            keys = (self.config.found_key(fraction_option) or fraction_option.key,)
        else:
            return RangeFraction(min_bytes, max_bytes, fraction, fraction_option)
        raise configuration_error(
            f"Inconsistently configured {fraction_option.describe()} ({java_double_to_string(fraction)}) and its "
            f"min ({format_human(min_bytes)}), max ({format_human(max_bytes)}) value",
            cause,
            reason=reason,
            keys=keys,
        )

    def _with_fraction(self, description: str, base: int, fraction_range: RangeFraction) -> int:
        return self._cap(description, multiply(base, fraction_range.fraction), fraction_range)

    def _with_inverse_fraction(self, description: str, base: int, fraction_range: RangeFraction) -> int:
        fraction = fraction_range.fraction
        inverse = fraction / (1 - fraction)
        return self._cap(description, multiply(base, inverse), fraction_range)

    def _cap(self, description: str, relative: int, fraction_range: RangeFraction) -> int:
        component = _COMPONENT_BY_DESCRIPTION[description]
        keys = self._present_keys(fraction_range.fraction_option)
        if relative > fraction_range.max_bytes:
            if self.traced:  # notes and trace are skipped together
                self._note(
                    NoteLevel.INFO,
                    NoteCode.CAPPED_TO_MAX,
                    f"The derived from fraction {description} ({format_human(relative)}) is greater than its max value "
                    f"{format_human(fraction_range.max_bytes)}, max value will be used instead",
                    keys,
                )
            self._capped[component] = "max"
            return fraction_range.max_bytes
        if relative < fraction_range.min_bytes:
            if self.traced:  # notes and trace are skipped together
                self._note(
                    NoteLevel.INFO,
                    NoteCode.CAPPED_TO_MIN,
                    f"The derived from fraction {description} ({format_human(relative)}) is less than its min value "
                    f"{format_human(fraction_range.min_bytes)}, min value will be used instead",
                    keys,
                )
            self._capped[component] = "min"
            return fraction_range.min_bytes
        return relative

    # ------------------------------------------------------------------ CPU and slots (TEPU)

    def _cpu_cores(self) -> float:
        if self.config.contains(opt.CPU_CORES):
            cores = self.config.get_double(opt.CPU_CORES)
            assert cores is not None
            keys: tuple[str, ...] = (opt.CPU_CORES.key,)
        else:
            slots = self.config.get_int(opt.NUM_TASK_SLOTS)
            assert slots is not None
            cores = float(slots)
            keys = (opt.NUM_TASK_SLOTS.key,)
        if cores <= 0:
            raise configuration_error(
                "TaskExecutors need to be started with a positive number of CPU cores. Please configure "
                "taskmanager.cpu.cores accordingly.",
                reason=Reason.NON_POSITIVE_CPU,
                keys=keys,
            )
        return cpu_resource_value(cores, keys)

    def _num_slots(self) -> int:
        slots = self.config.get_int(opt.NUM_TASK_SLOTS)
        assert slots is not None
        return slots

    def _external_resources(self) -> tuple[tuple[str, int], ...]:
        """``ExternalResourceUtils``: declared resources with a positive amount, in Flink's map order.

        Flink silently skips a resource whose amount is missing or not positive; an unreadable amount
        fails. The names pass through a HashSet and then HashMaps, whose iteration order is kept.
        """
        raw = self.config.raw(opt.EXTERNAL_RESOURCES)
        if raw is None or java_string(raw) == "none":
            return ()
        names = self.config.get_string_list(opt.EXTERNAL_RESOURCES) or []
        amounts: dict[str, int] = {}
        for name in java_hash_set_order(names):
            amount_option = ConfigOption(f"external-resource.{name}.amount", OptionType.LONG)
            amount = self.config.get_long(amount_option)
            if amount is not None and amount > 0:
                amounts[name] = _through_resource_value(amount)
        ordered = java_hash_map_order(tuple(amounts))
        return tuple((name, amounts[name]) for name in ordered)

    # ------------------------------------------------------------------ helpers

    def _read(self, option: ConfigOption) -> int:
        return self.config.read_memory(option)

    def _read_traced(self, component: str, option: ConfigOption) -> int:
        size = self._read(option)
        if self.config.contains(option):
            self._set_trace(component, Origin.CONFIGURED, f"configured {option.key}", option)
        else:
            self._set_trace(component, Origin.DEFAULT, f"default of {option.key}", option)
        return size

    def _trace_fraction(self, component: str, rule: str, fraction_option: ConfigOption) -> None:
        capped = self._capped.get(component)
        if capped is not None:
            rule = f"{rule}, capped to its {capped}imum"
        self._set_trace(component, Origin.DERIVED, rule, fraction_option)

    def _set_trace(
        self, component: str, origin: Origin, rule: str, option: ConfigOption | None = None
    ) -> None:
        if not self.traced:
            return
        keys = () if option is None else (self.config.found_key(option) or option.key,)
        self.trace[component] = ComponentTrace(component, origin, rule, keys)

    def _trace_totals(self, layout: MemoryLayout) -> None:
        if "totalFlink" not in self.trace:
            self._set_trace("totalFlink", Origin.DERIVED, "sum of the Flink memory components")
        if "totalProcess" not in self.trace:
            self._set_trace(
                "totalProcess", Origin.DERIVED, "total Flink memory plus JVM metaspace plus JVM overhead"
            )

    def _note(self, level: NoteLevel, code: NoteCode, message: str, keys: tuple[str, ...] = ()) -> None:
        note = Note(level, code, message, keys)
        if note not in self.notes:
            self.notes.append(note)

    def _present_keys(self, *options: ConfigOption) -> tuple[str, ...]:
        keys = []
        for option in options:
            key = self.config.found_key(option)
            if key is not None:
                keys.append(key)
        return tuple(keys)


def cpu_resource(cores: float, keys: tuple[str, ...]) -> Decimal:
    """``new CPUResource(cores)``: the exact ``BigDecimal`` Flink keeps, truncated to 8 decimals.

    ``keys`` name the options the value came from, for the problem if it is rejected.
    """
    from decimal import Decimal  # noqa: PLC0415 - the derive path needs only the value (cpu_resource_value)

    return Decimal(f"{_cpu_hundred_millionths(cores, keys)}E-8")  # exact: no context rounds a string


def cpu_resource_value(cores: float, keys: tuple[str, ...]) -> float:
    """``new CPUResource(cores).getValue().doubleValue()``: the truncated value, rounded to a double."""
    return _cpu_hundred_millionths(cores, keys) / _CPU_SCALE  # int / int rounds correctly


def _cpu_hundred_millionths(cores: float, keys: tuple[str, ...]) -> int:
    """``new CPUResource(cores)``'s value in units of 1e-8, truncated toward zero as Flink does."""
    if math.isnan(cores) or math.isinf(cores):
        # BigDecimal.valueOf parses Double.toString, which spells these NaN/Infinity; the sign passes.
        first = java_double_to_string(cores).lstrip("-")[0]
        raise JavaError(
            NUMBER_FORMAT,
            f'Character {first} is neither a decimal digit number, decimal point, nor "e" notation '
            "exponential mark.",
            reason=Reason.INVALID_CPU,
            keys=keys,
        )
    numerator, denominator = big_decimal_value_of(cores)
    truncated = truncate_ratio(numerator * _CPU_SCALE, denominator)  # BigDecimal has no negative zero
    if truncated < 0:
        raise JavaError(
            ILLEGAL_ARGUMENT,
            "Resource value must be no less than 0",
            reason=Reason.NON_POSITIVE_CPU,
            keys=keys,
        )
    return truncated


def _through_resource_value(amount: int) -> int:
    """An amount after Flink's ``ExternalResource`` round trip: long -> double -> BigDecimal -> long.

    The double loses precision above 2^53, and ``BigDecimal.longValue`` keeps the low 64 bits.
    """
    exact = truncate_ratio(*big_decimal_value_of(float(amount)))  # BigDecimal.longValue truncates
    wrapped = exact & 0xFFFFFFFFFFFFFFFF
    return wrapped - (1 << 64) if wrapped >= 1 << 63 else wrapped


_COMPONENT_BY_DESCRIPTION = {
    "network memory": "network",
    "managed memory": "managed",
    "jvm overhead memory": "jvmOverhead",
}
