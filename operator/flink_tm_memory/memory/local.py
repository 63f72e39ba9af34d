"""Flink's resources for local execution (a MiniCluster), byte-exact for Flink 1.17 … 2.3.

A MiniCluster does not size a TaskManager process. ``TaskExecutorResourceUtils.adjustForLocalExecution``
rewrites the configuration instead: options without effect are warned about (and, from 1.20, removed),
missing resources become "unlimited" (CPU, task heap, task off-heap) or small defaults (network,
managed), and the process-level sizes are pinned. ``resourceSpecFromConfig`` then reads the
TaskExecutor's resources from the result. Both steps are mirrored here in Flink's order, because that
order decides which error Flink reports; Flink's log lines become notes. ``default_slot_profile``
answers what one slot gets (``generateDefaultSlotResourceProfile``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

from flink_tm_memory.memory import options as opt
from flink_tm_memory.memory.configuration import ConfigValue, FlinkConfiguration, java_string
from flink_tm_memory.memory.derive import cpu_resource
from flink_tm_memory.memory.explain import Note, NoteCode, NoteLevel
from flink_tm_memory.memory.failures import (
    ARITHMETIC,
    ILLEGAL_ARGUMENT,
    JavaError,
    Problem,
    Reason,
    configuration_error,
    internal_problem,
    problem_from,
)
from flink_tm_memory.memory.javanum import java_double_to_string
from flink_tm_memory.memory.options import ConfigOption
from flink_tm_memory.memory.oracle_format import error_output, json_number
from flink_tm_memory.memory.sizes import MIB, format_option_value
from flink_tm_memory.memory.versions import FlinkVersion, parse_flink_version

RESOURCE_OPTIONS: tuple[ConfigOption, ...] = (
    opt.CPU_CORES,
    opt.TASK_HEAP,
    opt.TASK_OFF_HEAP,
    opt.NETWORK_MIN,
    opt.NETWORK_MAX,
    opt.MANAGED_SIZE,
)
"""``CONFIG_OPTIONS``: the only options a local TaskExecutor's resources come from."""

UNUSED_OPTIONS: tuple[ConfigOption, ...] = (
    opt.PROCESS_SIZE,
    opt.FLINK_SIZE,
    opt.FRAMEWORK_HEAP,
    opt.FRAMEWORK_OFF_HEAP,
    opt.METASPACE,
    opt.OVERHEAD_MIN,
    opt.OVERHEAD_MAX,
    opt.OVERHEAD_FRACTION,
)
"""``UNUSED_CONFIG_OPTIONS``: process-level sizes that have no effect in a MiniCluster."""

LOCAL_CPU_CORES = 1000000.0
LOCAL_TASK_MEMORY = 1024 * 1024 * MIB  # MemorySize.ofMebiBytes(1024 * 1024), 1 TiB
DEFAULT_NETWORK_MEMORY = 64 * MIB
DEFAULT_MANAGED_MEMORY = 128 * MIB

# Set after the adjustment (unconditionally from 1.20, only when absent before): option, whose default.
# Flink pins the overhead *min* to the overhead *max* default (1g), not to its own 192m.
_PINNED: tuple[tuple[ConfigOption, ConfigOption], ...] = (
    (opt.FRAMEWORK_HEAP, opt.FRAMEWORK_HEAP),
    (opt.FRAMEWORK_OFF_HEAP, opt.FRAMEWORK_OFF_HEAP),
    (opt.METASPACE, opt.METASPACE),
    (opt.OVERHEAD_MAX, opt.OVERHEAD_MAX),
    (opt.OVERHEAD_MIN, opt.OVERHEAD_MAX),
)
_MAXIMAL = "the maximal possible value"
_ADJUSTED_PREFIX = "taskmanager.memory."
_CPU_SCALE = 10**8  # CPUResource keeps 8 decimals


@dataclass(frozen=True, slots=True)
class Resources:
    """A ``TaskExecutorResourceSpec`` (the whole local TaskExecutor) or a ``ResourceProfile`` (one slot)."""

    cpu: Decimal
    """``CPUResource.getValue()``: exact, truncated to 8 decimals."""
    task_heap_bytes: int
    task_off_heap_bytes: int
    network_bytes: int
    managed_bytes: int

    @property
    def cpu_cores(self) -> float:
        """The CPU as a double, as Flink reports it (``BigDecimal.doubleValue``)."""
        return float(self.cpu)

    def components(self) -> dict[str, int]:
        return {
            "taskHeap": self.task_heap_bytes,
            "taskOffHeap": self.task_off_heap_bytes,
            "network": self.network_bytes,
            "managed": self.managed_bytes,
        }


@dataclass(frozen=True, slots=True)
class LocalExecution:
    """The outcome for a MiniCluster: its TaskExecutor's resources, or the problem Flink reports.

    ``adjusted_config`` holds the ``taskmanager.memory.*`` and ``taskmanager.cpu.cores`` entries after
    Flink's adjustment, as ``Configuration.toMap()`` strings; it is empty if the adjustment itself failed.
    ``notes`` are the WARN/INFO lines Flink logs while adjusting.
    """

    version: FlinkVersion
    resources: Resources | None
    adjusted_config: Mapping[str, str]
    problems: tuple[Problem, ...]
    notes: tuple[Note, ...]

    @property
    def ok(self) -> bool:
        return self.resources is not None

    @property
    def primary_problem(self) -> Problem | None:
        return self.problems[0] if self.problems else None


def derive_local_execution(
    config: Mapping[str, ConfigValue], flink_version: str | FlinkVersion | None = None
) -> LocalExecution:
    """``TaskExecutorResourceUtils.resourceSpecFromConfigForLocalExecution`` of the given Flink release.

    Raises only ``UnsupportedVersionError`` for an unknown version name.
    """
    version = _version(flink_version)
    adjustment = _Adjustment(FlinkConfiguration(dict(config)), version)
    adjusted: FlinkConfiguration | None = None
    try:
        adjusted = adjustment.run()
        resources: Resources | None = _resource_spec(adjusted)
        problems: tuple[Problem, ...] = ()
    except JavaError as error:
        resources = None
        problems = (problem_from(error),)
    except Exception as bug:
        resources, problems = None, (internal_problem(bug),)
    return LocalExecution(
        version=version,
        resources=resources,
        adjusted_config=_adjusted_entries(adjusted) if adjusted is not None else {},
        problems=problems,
        notes=tuple(adjustment.notes),
    )


def default_slot_profile(
    resources: Resources, num_slots: int, flink_version: str | FlinkVersion | None = None
) -> Resources | Problem:
    """What one of ``num_slots`` default slots gets (``generateDefaultSlotResourceProfile``).

    Every resource is divided by the slot count: CPU to 8 decimals rounded down, memory by integer
    division. A slot count Flink rejects gives its exact error as a ``Problem``.
    """
    version = _version(flink_version)
    try:
        cpu = _divide_cpu(resources.cpu, num_slots)  # first, as in Flink: its error wins
        return Resources(
            cpu=cpu,
            task_heap_bytes=_divide_memory(resources.task_heap_bytes, num_slots, version),
            task_off_heap_bytes=_divide_memory(resources.task_off_heap_bytes, num_slots, version),
            network_bytes=_divide_memory(resources.network_bytes, num_slots, version),
            managed_bytes=_divide_memory(resources.managed_bytes, num_slots, version),
        )
    except JavaError as error:
        return problem_from(error)


def local_output(result: LocalExecution) -> dict[str, Any]:
    """One local-mode result line of the flink-oracle (without ``id``)."""
    if result.resources is None:
        assert result.primary_problem is not None
        return error_output(result.primary_problem)
    return {
        "ok": True,
        "cpuCores": json_number(result.resources.cpu_cores),
        "bytes": result.resources.components(),
        "adjustedConfig": dict(result.adjusted_config),
    }


# ---------------------------------------------------------------------- adjustForLocalExecution


@dataclass(slots=True)
class _Adjustment:
    config: FlinkConfiguration
    version: FlinkVersion
    notes: list[Note] = field(default_factory=list)

    def run(self) -> FlinkConfiguration:
        for option in UNUSED_OPTIONS:
            self._warn_unused(option)
        self._set_if_absent(opt.CPU_CORES, java_double_to_string(LOCAL_CPU_CORES), _MAXIMAL)
        self._set_if_absent(opt.TASK_HEAP, format_option_value(LOCAL_TASK_MEMORY), _MAXIMAL)
        self._set_if_absent(opt.TASK_OFF_HEAP, format_option_value(LOCAL_TASK_MEMORY), _MAXIMAL)
        self._adjust_network()
        self._set_default_if_absent(opt.MANAGED_SIZE, DEFAULT_MANAGED_MEMORY)
        for option, default_of in _PINNED:
            if self.version.local_execution_removes_unused or not self.config.contains(option):
                assert default_of.default is not None
                self._set(option, format_option_value(int(default_of.default)))
        return self.config

    def _warn_unused(self, option: ConfigOption) -> None:
        key = self.config.found_key(option)
        if key is None:
            return
        # Until 1.19 Flink printed the list of unused options where it meant the used ones.
        listed = RESOURCE_OPTIONS if self.version.local_execution_removes_unused else UNUSED_OPTIONS
        self._note(
            NoteLevel.WARNING,
            f"The resource configuration option {option.describe()} is set but it will have no effect for "
            "local execution, only the following options matter for the resource configuration: "
            f"[{', '.join(listed_option.describe() for listed_option in listed)}]",
            key,
        )
        if self.version.local_execution_removes_unused:
            self.config = self.config.without({key})

    def _adjust_network(self) -> None:
        minimum, maximum = opt.NETWORK_MIN, opt.NETWORK_MAX
        if not self.config.contains(minimum) and self.config.contains(maximum):
            self._set(minimum, format_option_value(_get_memory(self.config, maximum)))
        if not self.config.contains(maximum) and self.config.contains(minimum):
            self._set(maximum, format_option_value(_get_memory(self.config, minimum)))
        self._set_default_if_absent(minimum, DEFAULT_NETWORK_MEMORY)
        self._set_default_if_absent(maximum, DEFAULT_NETWORK_MEMORY)

    def _set_default_if_absent(self, option: ConfigOption, size_bytes: int) -> None:
        value = format_option_value(size_bytes)
        self._set_if_absent(option, value, f"its default value {value}")

    def _set_if_absent(self, option: ConfigOption, value: str, described_as: str) -> None:
        if self.config.contains(option):
            return
        self._note(
            NoteLevel.INFO,
            f"The configuration option {option.key} required for local execution is not set, setting it "
            f"to {described_as}.",
            option.key,
        )
        self._set(option, value)

    def _set(self, option: ConfigOption, value: str) -> None:
        # Flink stores a MemorySize or Double; its toString form parses back to the same value.
        self.config = self.config.with_entry(option.key, value)

    def _note(self, level: NoteLevel, message: str, key: str) -> None:
        self.notes.append(Note(level, NoteCode.LOCAL_EXECUTION, message, (key,)))


def _adjusted_entries(config: FlinkConfiguration) -> dict[str, str]:
    return {
        key: java_string(value)
        for key, value in sorted(config.entries.items())
        if key.startswith(_ADJUSTED_PREFIX) or key == opt.CPU_CORES.key
    }


# ---------------------------------------------------------------------- resourceSpecFromConfig


def _resource_spec(config: FlinkConfiguration) -> Resources:
    # Flink first checks that every resource option is set or has a default; after the adjustment
    # they all are, so only the network check can fail here.
    _check_network_is_fixed(config)
    cores = config.get_double(opt.CPU_CORES)
    assert cores is not None  # set by the adjustment
    return Resources(
        cpu=cpu_resource(cores, (opt.CPU_CORES.key,)),
        task_heap_bytes=_get_memory(config, opt.TASK_HEAP),
        task_off_heap_bytes=_get_memory(config, opt.TASK_OFF_HEAP),
        network_bytes=_get_memory(config, opt.NETWORK_MIN),
        managed_bytes=_get_memory(config, opt.MANAGED_SIZE),
    )


def _check_network_is_fixed(config: FlinkConfiguration) -> None:
    minimum = _get_memory(config, opt.NETWORK_MIN)
    maximum = _get_memory(config, opt.NETWORK_MAX)
    if minimum == maximum:
        return
    mismatch = configuration_error(
        f"The network memory min ({format_option_value(minimum)}) and max ({format_option_value(maximum)}) "
        "mismatch, the network memory has to be resolved and set to a fixed value before task executor "
        "starts",
        reason=Reason.NETWORK_MISMATCH,
        keys=tuple(
            key for key in (config.found_key(opt.NETWORK_MIN), config.found_key(opt.NETWORK_MAX)) if key
        ),
    )
    raise configuration_error("Failed to create TaskExecutorResourceSpec", mismatch)


def _get_memory(config: FlinkConfiguration, option: ConfigOption) -> int:
    """``Configuration.get`` of an option the adjustment has set: parse errors escape unwrapped."""
    size = config.get_memory(option)
    assert size is not None
    return size


# ---------------------------------------------------------------------- generateDefaultSlotResourceProfile


def _divide_cpu(cpu: Decimal, num_slots: int) -> Decimal:
    """``CPUResource.divide(int)``: BigDecimal division to 8 decimals, rounded down, then re-checked."""
    if num_slots == 0:
        raise _slot_error(ARITHMETIC, "/ by zero")
    # int() of the exact quotient truncates toward zero (RoundingMode.DOWN); the string form stays exact.
    truncated = Decimal(f"{int(Fraction(cpu) / num_slots * _CPU_SCALE)}E-8")
    if truncated < 0:
        raise _slot_error(ILLEGAL_ARGUMENT, "Resource value must be no less than 0")
    return truncated


def _divide_memory(size_bytes: int, num_slots: int, version: FlinkVersion) -> int:
    """``MemorySize.divide(long)``."""
    if num_slots < 0:
        says_non_zero = version.memory_divide_says_non_zero
        raise _slot_error(ILLEGAL_ARGUMENT, f"divisor must be {'!= 0' if says_non_zero else '>= 0'}")
    if num_slots == 0:
        raise _slot_error(ARITHMETIC, "/ by zero")
    return size_bytes // num_slots


def _slot_error(java_class: str, message: str) -> JavaError:
    return JavaError(java_class, message, reason=Reason.INVALID_NUMBER, keys=(opt.NUM_TASK_SLOTS.key,))


def _version(flink_version: str | FlinkVersion | None) -> FlinkVersion:
    return flink_version if isinstance(flink_version, FlinkVersion) else parse_flink_version(flink_version)
