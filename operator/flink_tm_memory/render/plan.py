"""One spec, read and derived: Flink's layout or every reason it refuses, plus notes and size readings.

``derive_memory_plan`` is the operator's whole calculation for a custom resource, before anything is
written: the spec is validated (the CRD schema cannot check everything: Flink versions, quantities,
scalar option values), its Kubernetes-native fields are folded into Flink's configuration, the engine
derives the layout, and the weights module splits each slot's managed memory between the consumers
the spec names. Every conflict is collected, spec-level ones first (two fields that disagree), then
Flink's own (its first error, then every independent one), then the managed-memory split's. A plan
with any conflict has no layout: the operator never writes a configuration Flink would refuse.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from flink_tm_memory.api.interpretation import SizeInterpretation
from flink_tm_memory.api.resolve import ResolvedSpec, SpecProblem, resolve_spec
from flink_tm_memory.api.v1alpha1 import (
    Conflict,
    FlinkTaskManagerMemorySpec,
    Interpretation,
    NoteStatus,
    UpdateMode,
)
from flink_tm_memory.memory.engine import TaskManagerMemory, derive_task_manager_memory
from flink_tm_memory.memory.explain import Note
from flink_tm_memory.memory.failures import Problem
from flink_tm_memory.memory.layout import MemoryLayout
from flink_tm_memory.memory.weights import (
    ManagedMemorySplit,
    ManagedMemoryWeights,
    derive_managed_memory_weights,
    split_managed_memory,
)

INVALID_SPEC = "InvalidSpec"


@dataclass(frozen=True, slots=True)
class MemoryPlan:
    """Everything derived from one spec. ``layout`` is set only when nothing conflicts."""

    update_mode: UpdateMode
    spec: FlinkTaskManagerMemorySpec | None
    resolved: ResolvedSpec | None
    memory: TaskManagerMemory | None
    weights: ManagedMemoryWeights | None
    split: ManagedMemorySplit | None
    conflicts: tuple[Conflict, ...]
    notes: tuple[NoteStatus, ...]
    interpretations: tuple[Interpretation, ...]

    @property
    def layout(self) -> MemoryLayout | None:
        if self.conflicts or self.memory is None:
            return None
        return self.memory.layout


def derive_memory_plan(raw_spec: Mapping[str, Any]) -> MemoryPlan:
    """Reads, resolves and derives a spec as the API server stored it (camelCase keys)."""
    try:
        spec = FlinkTaskManagerMemorySpec.model_validate(raw_spec)
    except ValidationError as error:
        return MemoryPlan(
            update_mode=_raw_update_mode(raw_spec),
            spec=None,
            resolved=None,
            memory=None,
            weights=None,
            split=None,
            conflicts=tuple(_validation_conflicts(error)),
            notes=(),
            interpretations=(),
        )
    resolved = resolve_spec(spec)
    memory = derive_task_manager_memory(resolved.configuration, resolved.version)
    weights = derive_managed_memory_weights(
        resolved.configuration,
        resolved.version,
        use_cases=resolved.use_cases,
        state_backend_uses_managed_memory=resolved.state_backend_uses_managed_memory,
    )
    split = _split(weights, memory.layout)
    return MemoryPlan(
        update_mode=resolved.update_mode,
        spec=spec,
        resolved=resolved,
        memory=memory,
        weights=weights,
        split=split,
        conflicts=(
            *(_spec_conflict(problem) for problem in resolved.problems),
            *(_flink_conflict(problem, resolved) for problem in _flink_problems(memory, weights, split)),
        ),
        notes=tuple(_note(note, resolved) for note in (*memory.notes, *weights.notes)),
        interpretations=tuple(_interpretation(reading) for reading in resolved.interpretations),
    )


def _raw_update_mode(raw_spec: Mapping[str, Any]) -> UpdateMode:
    # An unreadable spec still says whether it may be written: Off must never write, even then.
    return UpdateMode.OFF if raw_spec.get("updateMode") == UpdateMode.OFF.value else UpdateMode.APPLY


def _split(weights: ManagedMemoryWeights, layout: MemoryLayout | None) -> ManagedMemorySplit | None:
    if layout is None:
        return None
    return split_managed_memory(weights, layout.managed_bytes, layout.num_slots)


def _flink_problems(
    memory: TaskManagerMemory, weights: ManagedMemoryWeights, split: ManagedMemorySplit | None
) -> tuple[Problem, ...]:
    """The TaskManager's problems, then the split's; Flink reports the split's only at job start."""
    split_problems = split.problems if split is not None else weights.problems
    if memory.problems:
        split_problems = tuple(problem.replace(primary=False) for problem in split_problems)
    return (*memory.problems, *split_problems)


def _validation_conflicts(error: ValidationError) -> list[Conflict]:
    conflicts: list[Conflict] = []
    for detail in error.errors(include_url=False):
        field = ".".join(["spec", *(str(part) for part in detail["loc"])])
        conflicts.append(
            Conflict(
                reason=INVALID_SPEC,
                message=f"{field}: {detail['msg']}",
                fields=[field],
                primary=not conflicts,
            )
        )
    return conflicts


def _spec_conflict(problem: SpecProblem) -> Conflict:
    return Conflict(
        reason=problem.reason,
        message=problem.message,
        keys=list(problem.keys),
        fields=list(problem.fields),
        primary=False,
    )


def _flink_conflict(problem: Problem, resolved: ResolvedSpec) -> Conflict:
    return Conflict(
        reason=problem.reason.value,
        message=problem.message or problem.headline,
        chain=[message for message in problem.chain if message],
        keys=list(problem.keys),
        fields=_fields(problem.keys, resolved),
        primary=problem.primary,
    )


def _note(note: Note, resolved: ResolvedSpec) -> NoteStatus:
    return NoteStatus(
        level=note.level,
        code=note.code.value,
        message=note.message,
        keys=list(note.keys),
        fields=_fields(note.keys, resolved),
    )


def _interpretation(reading: SizeInterpretation) -> Interpretation:
    return Interpretation(
        field=reading.field,
        value=reading.text,
        convention=reading.convention,
        bytes=reading.size_bytes,
        ambiguous=reading.ambiguous,
        message=reading.message,
    )


def _fields(keys: tuple[str, ...], resolved: ResolvedSpec) -> list[str]:
    return list(dict.fromkeys(resolved.field_for(key) for key in keys))
