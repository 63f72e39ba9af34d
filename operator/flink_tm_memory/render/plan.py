"""One spec, read and derived: Flink's layout or every reason it refuses, plus notes and size readings.

``derive_memory_plan`` is the operator's whole calculation for a custom resource, before anything is
written: the spec is validated (the CRD schema cannot check everything: Flink versions, quantities,
scalar option values), its Kubernetes-native fields are folded into Flink's configuration, the engine
derives the layout, and the weights module splits each slot's managed memory between the consumers
the spec names. Every conflict is collected, spec-level ones first (two fields that disagree), then
Flink's own (its first error, then every independent one), then the managed-memory split's. A plan
with any conflict has no layout: the operator never writes a configuration Flink would refuse.

A spec is bounded before it is read (``spec_size_conflict``): at most ``SPEC_SIZE_LIMIT`` bytes as
JSON and ``SPEC_DEPTH_LIMIT`` levels deep. The operator keeps the last applied spec in an annotation,
kopf keeps the last handled one in another and ``kubectl apply`` a third, and the API server allows
256 KiB of annotations in all; a spec past the bound is one conflict (``SpecTooLarge``) naming the
largest field, never derived, never written. Every text the plan carries into the status or a
denial (messages, Flink's chain, size strings, field names) is clipped to ``TEXT_LIMIT`` characters,
and at most ``CONFLICT_LIMIT`` schema errors are listed, so a hostile value is quoted, never echoed.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from pydantic import ValidationError

from flink_tm_memory.api.interpretation import SizeInterpretation
from flink_tm_memory.api.resolve import (
    CPU_LIMIT_FACTOR,
    MEMORY_LIMIT_FACTOR,
    ResolvedSpec,
    SpecProblem,
    flink_field,
    resolve_spec,
)
from flink_tm_memory.api.v1alpha1 import (
    Conflict,
    ConflictFix,
    FlinkTaskManagerMemorySpec,
    Interpretation,
    NoteLevel,
    NoteStatus,
    SizingStatus,
    UpdateMode,
)
from flink_tm_memory.memory.engine import TaskManagerMemory, derive_task_manager_memory
from flink_tm_memory.memory.explain import Note
from flink_tm_memory.memory.failures import Problem
from flink_tm_memory.memory.layout import MemoryLayout
from flink_tm_memory.memory.sizes import MAX_BYTES
from flink_tm_memory.memory.weights import (
    ManagedMemorySplit,
    ManagedMemoryWeights,
    derive_managed_memory_weights,
    split_managed_memory,
)
from flink_tm_memory.render.fixes import render_fixes, render_spec_problem_fixes
from flink_tm_memory.render.managed_memory import unused_managed_memory
from flink_tm_memory.render.sizing import plan_sizing

INVALID_SPEC = "InvalidSpec"
SPEC_TOO_LARGE = "SpecTooLarge"
SPEC_SIZE_LIMIT = 64 * 1024
"""Bytes of the spec as compact JSON: three copies (the operator's, kopf's and kubectl's annotations)
stay within the 256 KiB the API server allows for a resource's annotations, with room to spare."""
SPEC_DEPTH_LIMIT = 16
"""Levels of nesting: the schema has four; anything deeper is hostile (and Python's JSON recursion)."""
TEXT_LIMIT = 2048
CONFLICT_LIMIT = 20


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
    sizing: SizingStatus | None = None
    """How ``spec.sizing.needs`` were met (``render.sizing``); None without needs."""

    @property
    def layout(self) -> MemoryLayout | None:
        if self.conflicts or self.memory is None:
            return None
        return self.memory.layout


def derive_memory_plan(raw_spec: Mapping[str, Any]) -> MemoryPlan:
    """Reads, resolves and derives a spec as the API server stored it (camelCase keys)."""
    too_large = spec_size_conflict(raw_spec)
    if too_large is not None:
        return _unreadable(raw_spec, (too_large,))
    try:
        spec = FlinkTaskManagerMemorySpec.model_validate(raw_spec)
    except ValidationError as error:
        return _unreadable(raw_spec, tuple(_validation_conflicts(error)))
    sizing = plan_sizing(spec, resolve_spec(spec))
    resolved = sizing.resolved  # with the sizing's answer folded in, when the needs set the size
    memory = derive_task_manager_memory(resolved.configuration, resolved.version)
    weights = derive_managed_memory_weights(
        resolved.configuration,
        resolved.version,
        use_cases=resolved.use_cases,
        state_backend_uses_managed_memory=resolved.state_backend_uses_managed_memory,
    )
    split = _split(weights, memory.layout)
    fixes = [] if memory.ok else render_fixes(spec, resolved)
    return MemoryPlan(
        update_mode=resolved.update_mode,
        spec=spec,
        resolved=resolved,
        memory=memory,
        weights=weights,
        split=split,
        conflicts=(
            *(_spec_conflict(problem) for problem in resolved.problems),
            *(
                _flink_conflict(problem, resolved, fixes if problem is memory.primary_problem else [])
                for problem in _flink_problems(memory, weights, split)
                if not sizing.replaces_flinks_own
            ),
            *_limit_conflicts(resolved, memory.layout),
            *sizing.conflicts(memory.layout),
        ),
        notes=(
            *(_note(note, resolved) for note in (*memory.notes, *weights.notes)),
            *_managed_memory_notes(split, memory.layout, spec, resolved),
        ),
        interpretations=tuple(_interpretation(reading) for reading in resolved.interpretations),
        sizing=sizing.status(memory.layout),
    )


def _unreadable(raw_spec: Mapping[str, Any], conflicts: tuple[Conflict, ...]) -> MemoryPlan:
    return MemoryPlan(
        update_mode=_raw_update_mode(raw_spec),
        spec=None,
        resolved=None,
        memory=None,
        weights=None,
        split=None,
        conflicts=conflicts,
        notes=(),
        interpretations=(),
    )


def spec_size_conflict(raw_spec: Mapping[str, Any]) -> Conflict | None:
    """``SpecTooLarge`` for a spec past ``SPEC_DEPTH_LIMIT`` or ``SPEC_SIZE_LIMIT``, naming the field."""
    deep = _too_deep(raw_spec)
    if deep is not None:
        return _too_large(deep, f"nested more than {SPEC_DEPTH_LIMIT} levels deep")
    sizes = {name: _json_size(value) for name, value in raw_spec.items()}
    total = _json_size(raw_spec) if sum(sizes.values()) > SPEC_SIZE_LIMIT // 2 else 0
    if total <= SPEC_SIZE_LIMIT:
        return None
    name = max(sizes, key=sizes.__getitem__)
    field, size = f"spec.{name}", sizes[name]
    options = raw_spec[name]
    if name == "flinkConfiguration" and isinstance(options, Mapping):
        option_sizes = {key: _json_size(value) + _json_size(key) for key, value in options.items()}
        key = max(option_sizes, key=option_sizes.__getitem__)
        if option_sizes[key] > SPEC_SIZE_LIMIT // 2:
            field, size = flink_field(str(key)), option_sizes[key]
        else:
            field = f"{field} ({len(options)} options)"
    return _too_large(
        field,
        f"{size} bytes as JSON, the whole spec {total}: more than the {SPEC_SIZE_LIMIT} bytes a spec may have "
        "(the operator records the applied spec in an annotation, and the API server allows 256 KiB "
        "of annotations per resource)",
    )


def _too_large(field: str, why: str) -> Conflict:
    field = clip(field, 256)
    return Conflict(reason=SPEC_TOO_LARGE, message=f"{field}: {why}", fields=[field], primary=True)


def _json_size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str).encode())


def _too_deep(raw_spec: Mapping[str, Any]) -> str | None:
    """The top field of a value nested past ``SPEC_DEPTH_LIMIT``, found without recursion."""
    stack: list[tuple[str, Any, int]] = [(f"spec.{name}", value, 1) for name, value in raw_spec.items()]
    while stack:
        field, value, depth = stack.pop()
        if depth > SPEC_DEPTH_LIMIT:
            return field
        if isinstance(value, Mapping):
            if field == "spec.flinkConfiguration" and depth == 1:
                stack.extend((flink_field(str(key)), item, 2) for key, item in value.items())
                continue
            stack.extend((field, item, depth + 1) for item in value.values())
        elif isinstance(value, list | tuple):
            stack.extend((field, item, depth + 1) for item in value)
    return None


def clip(text: str, limit: int = TEXT_LIMIT) -> str:
    """``text``, or its first ``limit`` characters and how many were cut."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit} more characters)"


def _limit_conflicts(resolved: ResolvedSpec, layout: MemoryLayout | None) -> list[Conflict]:
    """A limit factor so large that the container's limit would not fit Kubernetes' 64-bit amounts."""
    if layout is None:
        return []
    conflicts = []
    for amount, factor, field, key in (
        (layout.total_process_bytes, resolved.memory_limit_factor, "memoryLimitFactor", MEMORY_LIMIT_FACTOR),
        (math.ceil(layout.cpu_cores * 1000), resolved.cpu_limit_factor, "cpuLimitFactor", CPU_LIMIT_FACTOR),
    ):
        if math.isfinite(factor) and amount * Fraction(Decimal(repr(factor))) <= MAX_BYTES:
            continue
        fields = [f"spec.resources.{field}"] if key not in resolved.configuration else [flink_field(key)]
        conflicts.append(
            Conflict(
                reason="LimitTooLarge",
                message=f"{fields[0]}: {factor} times the request is beyond {MAX_BYTES}, the largest "
                "amount Kubernetes holds",
                keys=[key],
                fields=fields,
                primary=False,
            )
        )
    return conflicts


def _raw_update_mode(raw_spec: Mapping[str, Any]) -> UpdateMode:
    # An unreadable spec still says whether it may be written: Off must never write, even then.
    if raw_spec.get("updateMode") == UpdateMode.OFF.value:
        return UpdateMode.OFF
    # Initial writes no targets: an unreadable spec in Initial must not start writing them.
    return UpdateMode.INITIAL if raw_spec.get("updateMode") == UpdateMode.INITIAL.value else UpdateMode.APPLY


def _managed_memory_notes(
    split: ManagedMemorySplit | None,
    layout: MemoryLayout | None,
    spec: FlinkTaskManagerMemorySpec,
    resolved: ResolvedSpec,
) -> tuple[NoteStatus, ...]:
    if layout is None:
        return ()
    note = unused_managed_memory(split, layout.managed_bytes, spec, resolved)
    return () if note is None else (note,)


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
    details = error.errors(include_url=False, include_input=False, include_context=False)
    for detail in details[:CONFLICT_LIMIT]:
        field = clip(".".join(["spec", *(str(part) for part in detail["loc"])]), 256)
        conflicts.append(
            Conflict(
                reason=INVALID_SPEC,
                message=clip(f"{field}: {detail['msg']}"),
                fields=[field],
                primary=not conflicts,
            )
        )
    if len(details) > CONFLICT_LIMIT:
        more = len(details) - CONFLICT_LIMIT
        conflicts.append(
            Conflict(
                reason=INVALID_SPEC,
                message=f"spec: {more} more schema errors",
                fields=["spec"],
                primary=False,
            )
        )
    return conflicts


def _spec_conflict(problem: SpecProblem) -> Conflict:
    return Conflict(
        reason=problem.reason,
        message=clip(problem.message),
        keys=[clip(key, 256) for key in problem.keys],
        fields=[clip(field, 256) for field in problem.fields],
        primary=False,
        fixes=render_spec_problem_fixes(problem),
    )


def _flink_conflict(problem: Problem, resolved: ResolvedSpec, fixes: list[ConflictFix]) -> Conflict:
    return Conflict(
        reason=problem.reason.value,
        message=clip(problem.message or problem.headline),
        chain=[clip(message) for message in problem.chain if message],
        keys=[clip(key, 256) for key in problem.keys],
        fields=_fields(problem.keys, resolved),
        primary=problem.primary,
        fixes=fixes,
    )


def _note(note: Note, resolved: ResolvedSpec) -> NoteStatus:
    return NoteStatus(
        level=NoteLevel(note.level.value),
        code=note.code.value,
        message=clip(note.message),
        keys=[clip(key, 256) for key in note.keys],
        fields=_fields(note.keys, resolved),
    )


def _interpretation(reading: SizeInterpretation) -> Interpretation:
    return Interpretation(
        field=clip(reading.field, 256),
        value=clip(reading.text, 256),
        convention=reading.convention,
        bytes=reading.size_bytes,
        ambiguous=reading.ambiguous,
        message=clip(reading.message),
    )


def _fields(keys: tuple[str, ...], resolved: ResolvedSpec) -> list[str]:
    return list(dict.fromkeys(clip(resolved.field_for(key), 256) for key in keys))
