"""What a spec means: the Flink configuration it stands for, its sizes as read, and its own conflicts.

The spec offers Kubernetes-native fields (``resources``, ``consumers``) beside the verbatim Flink
configuration. This module folds them into the one configuration the engine derives from, the way
the field descriptions promise: ``resources.memory`` is ``taskmanager.memory.process.size`` (pinned in
exact bytes), ``resources.cpu`` is ``taskmanager.cpu.cores``, the limit factors fall back to Flink's
``kubernetes.taskmanager.*.limit-factor``. When both forms are given they must agree; a disagreement is
a conflict, reported with every other one rather than silently resolved. Every size string is echoed
with the bytes it became (``flink_tm_memory.api.interpretation``).

Pure: the result is a value; nothing here reads the cluster or raises for a user's mistake.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field

from flink_tm_memory.api.interpretation import (
    SizeInterpretation,
    interpret_flink_memory,
    interpret_kubernetes_memory,
)
from flink_tm_memory.api.quantity import parse_cpu_quantity
from flink_tm_memory.api.v1alpha1 import FlinkTaskManagerMemorySpec, StateBackend, UpdateMode
from flink_tm_memory.memory import options as opt
from flink_tm_memory.memory.configuration import ConfigValue, java_string
from flink_tm_memory.memory.failures import JavaError
from flink_tm_memory.memory.javanum import parse_java_double
from flink_tm_memory.memory.options import OptionType
from flink_tm_memory.memory.versions import FlinkVersion, parse_flink_version

MEMORY_LIMIT_FACTOR = "kubernetes.taskmanager.memory.limit-factor"
CPU_LIMIT_FACTOR = "kubernetes.taskmanager.cpu.limit-factor"
PYTHON_MANAGED = "python.fn-execution.memory.managed"

OPERATOR = "OPERATOR"
STATE_BACKEND = "STATE_BACKEND"
PYTHON = "PYTHON"

_MEMORY_FIELD = "spec.resources.memory"
_CPU_FIELD = "spec.resources.cpu"


@dataclass(frozen=True, slots=True)
class SpecProblem:
    """A conflict in the spec itself, beside Flink's own: two fields that disagree, a bad value."""

    reason: str
    message: str
    fields: tuple[str, ...]
    keys: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ResolvedSpec:
    """The spec as the engine and the renderers need it.

    ``use_cases`` and ``state_backend_uses_managed_memory`` are the inputs of Flink's managed-memory
    split (``flink_tm_memory.memory.weights``); the flag is ``None`` when Flink decides it from the
    configuration, as it does when the job's code sets no backend.
    """

    version: FlinkVersion
    configuration: dict[str, ConfigValue]
    interpretations: tuple[SizeInterpretation, ...]
    problems: tuple[SpecProblem, ...]
    memory_limit_factor: float
    cpu_limit_factor: float
    state_backend: StateBackend | None
    state_backend_uses_managed_memory: bool | None
    use_cases: tuple[str, ...]
    update_mode: UpdateMode
    key_fields: dict[str, str] = field(default_factory=dict)

    def field_for(self, key: str) -> str:
        """The spec field a Flink option key came from, to point a user at what to change."""
        return self.key_fields.get(key, flink_field(key))


def flink_field(key: str) -> str:
    """The field path of one Flink option, as Kubernetes prints map keys."""
    return f"spec.flinkConfiguration[{key}]"


def resolve_spec(spec: FlinkTaskManagerMemorySpec) -> ResolvedSpec:
    """Folds the Kubernetes-native fields into Flink's configuration and records how each size was read."""
    version = parse_flink_version(spec.flink_version)
    configuration = dict(spec.flink_configuration)
    key_fields: dict[str, str] = {}
    problems = [
        *_fold_memory(spec, configuration, key_fields),
        *_fold_cpu(spec, configuration, key_fields),
    ]
    memory_factor, memory_problems = _limit_factor(
        spec, spec.resources.memory_limit_factor, "spec.resources.memoryLimitFactor", MEMORY_LIMIT_FACTOR
    )
    cpu_factor, cpu_problems = _limit_factor(
        spec, spec.resources.cpu_limit_factor, "spec.resources.cpuLimitFactor", CPU_LIMIT_FACTOR
    )
    return ResolvedSpec(
        version=version,
        configuration=configuration,
        interpretations=tuple(_interpretations(spec, version)),
        problems=(*problems, *memory_problems, *cpu_problems),
        memory_limit_factor=memory_factor,
        cpu_limit_factor=cpu_factor,
        state_backend=spec.consumers.state_backend,
        state_backend_uses_managed_memory=_backend_uses_managed_memory(spec),
        use_cases=_use_cases(spec),
        update_mode=spec.resolved_update_mode,
        key_fields=key_fields,
    )


def _fold_memory(
    spec: FlinkTaskManagerMemorySpec, configuration: dict[str, ConfigValue], key_fields: dict[str, str]
) -> list[SpecProblem]:
    if spec.resources.memory is None:
        return []
    kubernetes = interpret_kubernetes_memory(_MEMORY_FIELD, spec.resources.memory)
    assert kubernetes.size_bytes is not None  # the model accepts only readable, positive quantities
    key = opt.PROCESS_SIZE.key
    problems = []
    if key in configuration:
        flink = interpret_flink_memory(flink_field(key), configuration[key])
        if flink.size_bytes != kubernetes.size_bytes:
            read = "cannot be read" if flink.size_bytes is None else f"is {flink.size_bytes} bytes"
            problems.append(
                SpecProblem(
                    "ProcessSizeMismatch",
                    f"{_MEMORY_FIELD} ({kubernetes.text}) is {kubernetes.size_bytes} bytes but "
                    f"{flink_field(key)} ({flink.text}) {read}: set the process size in one of them.",
                    (_MEMORY_FIELD, flink_field(key)),
                    (key,),
                )
            )
    configuration[key] = f"{kubernetes.size_bytes}b"
    key_fields[key] = _MEMORY_FIELD
    return problems


def _fold_cpu(
    spec: FlinkTaskManagerMemorySpec, configuration: dict[str, ConfigValue], key_fields: dict[str, str]
) -> list[SpecProblem]:
    if spec.resources.cpu is None:
        return []
    cores = parse_cpu_quantity(spec.resources.cpu).decimal_text
    key = opt.CPU_CORES.key
    problems = []
    if key in configuration and _java_double(configuration[key]) != float(cores):
        problems.append(
            SpecProblem(
                "CpuMismatch",
                f"{_CPU_FIELD} ({spec.resources.cpu}) is {cores} cores but {flink_field(key)} "
                f"({java_string(configuration[key])}) differs: set the CPU in one of them.",
                (_CPU_FIELD, flink_field(key)),
                (key,),
            )
        )
    configuration[key] = cores
    key_fields[key] = _CPU_FIELD
    return problems


def _limit_factor(
    spec: FlinkTaskManagerMemorySpec, value: float | None, spec_field: str, key: str
) -> tuple[float, list[SpecProblem]]:
    """The spec's factor, else Flink's option, else 1; an unusable or disagreeing option is a conflict."""
    configured = spec.flink_configuration.get(key)
    if configured is None:
        return (1.0 if value is None else value), []
    flink_value = _java_double(configured)
    if flink_value is None or not 1 <= flink_value < math.inf:
        problem = SpecProblem(
            "InvalidLimitFactor",
            f"{flink_field(key)} ({java_string(configured)}) must be a number of at least 1.",
            (flink_field(key),),
            (key,),
        )
        return (1.0 if value is None else value), [problem]
    if value is not None and value != flink_value:
        problem = SpecProblem(
            "LimitFactorMismatch",
            f"{spec_field} ({value}) and {flink_field(key)} ({java_string(configured)}) differ: set the "
            "limit factor in one of them.",
            (spec_field, flink_field(key)),
            (key,),
        )
        return value, [problem]
    return flink_value, []


def _backend_uses_managed_memory(spec: FlinkTaskManagerMemorySpec) -> bool | None:
    """As the application's own backend flag in Flink; ``None`` leaves the decision to the configuration."""
    consumers = spec.consumers
    if consumers.state_backend_uses_managed_memory is not None:
        return consumers.state_backend_uses_managed_memory
    if consumers.state_backend is None:
        return None
    return consumers.state_backend is not StateBackend.HASHMAP


def _use_cases(spec: FlinkTaskManagerMemorySpec) -> tuple[str, ...]:
    """The use cases in a slot. STATE_BACKEND is always there: Flink gives it 0 when the backend takes none."""
    python = bool(spec.consumers.python) and _flink_boolean(spec, PYTHON_MANAGED, default=True)
    present = {OPERATOR: bool(spec.consumers.operators), STATE_BACKEND: True, PYTHON: python}
    return tuple(name for name, used in present.items() if used)


def _interpretations(spec: FlinkTaskManagerMemorySpec, version: FlinkVersion) -> Iterator[SizeInterpretation]:
    if spec.resources.memory is not None:
        yield interpret_kubernetes_memory(_MEMORY_FIELD, spec.resources.memory)
    size_keys = {
        key
        for option in opt.options_for(version)
        if option.type is OptionType.MEMORY
        for key in option.all_keys
    }
    for key, value in spec.flink_configuration.items():
        if key in size_keys:
            yield interpret_flink_memory(flink_field(key), value)


def _flink_boolean(spec: FlinkTaskManagerMemorySpec, key: str, *, default: bool) -> bool:
    value = spec.flink_configuration.get(key)
    if value is None:
        return default
    # Flink's boolean conversion: "true"/"false" in any case; anything else fails, where we keep the default.
    text = java_string(value).strip().lower()
    return default if text not in ("true", "false") else text == "true"


def _java_double(value: ConfigValue) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return parse_java_double(value)
    except JavaError:
        return None
