"""``spec.sizing.needs``: a size found from what the job needs, or the given size checked against it.

Two modes, chosen by whether the spec already says how large the TaskManager is (a process size, a
total Flink size, both task heap and managed memory, or Flink 1.x's legacy heap):

- **Sized** (no size): ``memory.sizing`` finds the smallest process size, in whole MiB, whose layout
  in Flink meets every need over the other options, and the options it sets (the process size, and
  any size or maximum below a need) are folded into the configuration the operator derives, writes and
  pins. Needs no process size can meet are a conflict (``NeedsUnmeetable``) saying why.
- **Checked** (a size): the layout of the spec as it is must meet every need; one it does not meet is
  a conflict (``NeedsNotMet``) whose fix is the sizing answer (the options to set).

Need values are read as Flink reads sizes (``2g`` is 2 GiB); a value Flink cannot read is read as a
Kubernetes quantity (``2Gi``), and one neither reads is a conflict naming its field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from flink_tm_memory.api.quantity import QuantityError, parse_memory_quantity
from flink_tm_memory.api.resolve import ResolvedSpec
from flink_tm_memory.api.v1alpha1 import (
    Conflict,
    ConflictFix,
    FlinkTaskManagerMemorySpec,
    NeedStatus,
    SizingStatus,
)
from flink_tm_memory.memory import options as opt
from flink_tm_memory.memory.configuration import FlinkConfiguration
from flink_tm_memory.memory.failures import JavaError
from flink_tm_memory.memory.layout import MemoryLayout
from flink_tm_memory.memory.sizes import format_human, parse_memory_size
from flink_tm_memory.memory.sizing import Sizing, UnmeetableNeedsError, size_for_needs
from flink_tm_memory.render.fixes import render_changes_fix

SIZED = "Sized"
CHECKED = "Checked"
NEEDS_NOT_MET = "NeedsNotMet"
NEEDS_UNMEETABLE = "NeedsUnmeetable"
INVALID_NEED = "InvalidNeed"
NEEDS_FIELD = "spec.sizing.needs"


@dataclass(frozen=True, slots=True)
class SizingPlan:
    """The configuration to derive (the answer folded in, when sized), and what to report."""

    resolved: ResolvedSpec
    spec: FlinkTaskManagerMemorySpec | None
    mode: str | None
    needs: dict[str, int]
    answer: Sizing | None
    problems: tuple[Conflict, ...]

    @property
    def replaces_flinks_own(self) -> bool:
        """Needs that set the size but cannot: Flink's "no size configured" would only add noise."""
        return self.mode == SIZED and bool(self.problems)

    def conflicts(self, layout: MemoryLayout | None) -> tuple[Conflict, ...]:
        """The sizing's conflicts, and for a checked size whose layout misses a need, that one."""
        if self.problems or self.mode != CHECKED or layout is None or _meets(layout, self.needs):
            return self.problems
        unmet = [name for name, need in self.needs.items() if layout.components()[name] < need]
        detail = ", ".join(
            f"{name} {format_human(layout.components()[name])} < {format_human(self.needs[name])}"
            for name in unmet
        )
        fixes = [] if self.answer is None else [self._fix(self.answer)]
        fields = [f"{NEEDS_FIELD}.{name}" for name in unmet]
        return (
            Conflict(
                reason=NEEDS_NOT_MET,
                message=f"{', '.join(fields)}: the layout of the given size falls short ({detail})",
                fields=fields,
                primary=False,
                fixes=fixes,
            ),
        )

    def _fix(self, answer: Sizing) -> ConflictFix:
        assert self.spec is not None
        return render_changes_fix(dict(answer.changes), "; ".join(answer.summaries), self.spec, self.resolved)

    def status(self, layout: MemoryLayout | None) -> SizingStatus | None:
        if self.mode is None:
            return None
        components = layout.components() if layout is not None else {}
        needs = [
            NeedStatus(
                component=name,
                need_bytes=need,
                bytes=components.get(name),
                met=name in components and components[name] >= need,
            )
            for name, need in self.needs.items()
        ]
        met = layout is not None and all(need.met for need in needs)
        changes = (
            dict(self.answer.changes) if self.answer is not None and (self.mode == SIZED or not met) else {}
        )
        return SizingStatus.model_validate(
            {"mode": self.mode, "met": met, "set": changes, "needs": needs, "message": self._message(met)}
        )

    def _message(self, met: bool) -> str:
        if self.problems:
            return self.problems[0].message
        if self.mode == SIZED and self.answer is not None:
            return f"sized for the needs: {'; '.join(self.answer.summaries)}"
        if met:
            return "the given size meets every need"
        if self.answer is not None:
            return f"the given size does not meet the needs; {self._fix(self.answer).summary}"
        return "the given size does not meet the needs"


def plan_sizing(spec: FlinkTaskManagerMemorySpec, resolved: ResolvedSpec) -> SizingPlan:
    """The sizing of ``spec`` (a no-op plan without needs)."""
    given = spec.sizing.needs.given()
    if not given:
        return SizingPlan(resolved, spec, None, {}, None, ())
    needs, problems = _read_needs(given)
    mode = CHECKED if _has_size(resolved) else SIZED
    if problems:
        return SizingPlan(resolved, spec, mode, needs, None, tuple(problems))
    try:
        answer = size_for_needs(resolved.configuration, needs, resolved.version)
    except UnmeetableNeedsError as error:
        conflict = Conflict(
            reason=NEEDS_UNMEETABLE, message=f"{NEEDS_FIELD}: {error}", fields=[NEEDS_FIELD], primary=True
        )
        return SizingPlan(resolved, spec, mode, needs, None, (conflict,))
    if mode == CHECKED:
        return SizingPlan(resolved, spec, mode, needs, answer, ())
    configuration = {**resolved.configuration, **answer.changes}
    fields = dict.fromkeys(answer.changes, f"{NEEDS_FIELD} (sized)")
    sized = replace(resolved, configuration=configuration, key_fields={**fields, **resolved.key_fields})
    return SizingPlan(sized, spec, mode, needs, answer, ())


def _read_needs(raw: Mapping[str, str]) -> tuple[dict[str, int], list[Conflict]]:
    needs: dict[str, int] = {}
    problems: list[Conflict] = []
    for name, text in raw.items():
        field = f"{NEEDS_FIELD}.{name}"
        try:
            needs[name] = parse_memory_size(text)
            continue
        except JavaError:
            pass
        try:
            needs[name] = parse_memory_quantity(text).rounded_up
        except QuantityError as error:
            message = f"{field}: neither Flink nor Kubernetes reads {text!r} as a memory size ({error})"
            problems.append(
                Conflict(reason=INVALID_NEED, message=message, fields=[field], primary=not problems)
            )
    return needs, problems


def _has_size(resolved: ResolvedSpec) -> bool:
    """Whether the options already say how large the TaskManager is (then needs are checked, not sized)."""
    configuration = FlinkConfiguration(resolved.configuration)
    if configuration.contains(opt.PROCESS_SIZE) or configuration.contains(opt.FLINK_SIZE):
        return True
    if configuration.contains(opt.TASK_HEAP) and configuration.contains(opt.MANAGED_SIZE):
        return True
    legacy = (opt.LEGACY_HEAP_SIZE, opt.LEGACY_HEAP_MB)
    return resolved.version.has_legacy_heap_options and any(
        configuration.contains(option) for option in legacy
    )


def _meets(layout: MemoryLayout, needs: Mapping[str, int]) -> bool:
    components = layout.components()
    return all(components[name] >= need for name, need in needs.items())
