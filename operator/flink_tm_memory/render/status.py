"""The status of a FlinkTaskManagerMemory, rendered whole, and the merge patch that brings it there.

Two plans feed it. The *current* plan (the spec at ``observedGeneration``) gives the conflicts, the
notes and the size interpretations. The *effective* plan gives the layout: the current one when it
is valid, else the last spec that was applied (kept in an annotation), because that is what the
ConfigMap and the workloads hold; without either, the layout fields are absent. ``applied`` records
which ConfigMap and targets hold which generation, from the writes just made (or, with
``updateMode: Off``, as they were).

The status says each thing once, so that ``kubectl describe`` of a resource fits on one screen: the
breakdown in bytes only (``summary`` has the short forms the printer columns show), interpretations
only of the size strings whose reading is not the obvious one, and no empty list, map or null.

The status is written as a JSON merge patch of the fields that differ, so a status that did not
change costs no request at all. A field left out is sent as ``null``, at any depth of this status's
own fields: a list that became empty, or a field an older release wrote, is removed from the stored
status rather than kept by the merge.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flink_tm_memory.api.interpretation import Convention
from flink_tm_memory.api.v1alpha1 import (
    Applied,
    AppliedConfigMap,
    AppliedTarget,
    Breakdown,
    ExplainStep,
    FlinkTaskManagerMemoryStatus,
    Interpretation,
    LayoutSummary,
    ManagedMemoryShare,
    Origin,
    PodResources,
    UpdateMode,
    VersionChange,
)
from flink_tm_memory.memory.layout import MemoryLayout
from flink_tm_memory.render.conditions import ConditionInput, render_conditions
from flink_tm_memory.render.managed_memory import share_reason
from flink_tm_memory.render.outcomes import ApplyOutcome, TargetOutcome
from flink_tm_memory.render.plan import MemoryPlan

USAGE_FIELDS = ("usage", "recommendation", "autoUpdates")
"""Status fields the usage loop writes; the reconciler's status carries them over untouched."""
OWN_WRITERS = frozenset({"oomKills"})
"""Status fields another part of the operator writes (the pod watch, ``control.oom``): never dropped here."""
_STATUS_FIELDS = (
    frozenset(field.alias or name for name, field in FlinkTaskManagerMemoryStatus.model_fields.items())
    - OWN_WRITERS
)


@dataclass(frozen=True, slots=True)
class StatusInput:
    """Everything the status is rendered from."""

    generation: int
    current: MemoryPlan
    effective: MemoryPlan | None
    effective_generation: int | None
    pod_resources: PodResources | None
    outcome: ApplyOutcome | None
    previous: Mapping[str, Any]
    now: datetime
    not_recorded: str | None = None
    """Why the valid spec's record could not be written (nothing was written then), if it could not."""
    version_change: VersionChange | None = None
    """What the last change of flinkVersion alone did to the layout (``render.version_change``)."""


def render_status(given: StatusInput) -> dict[str, Any]:
    """The whole status, in wire form (camelCase, unset fields left out)."""
    layout = given.effective.layout if given.effective is not None else None
    plan = given.effective or given.current
    status = FlinkTaskManagerMemoryStatus(
        observed_generation=given.generation,
        flink_version=plan.resolved.version.name if plan.resolved is not None else None,
        conditions=render_conditions(_condition_input(given)),
        conflicts=list(given.current.conflicts),
        notes=list(given.current.notes),
        interpretations=[reading for reading in given.current.interpretations if _not_obvious(reading)],
        applied=_applied(given),
        sizing=given.current.sizing,
        last_version_change=given.version_change,
    )
    if layout is not None and given.effective is not None:
        _describe_layout(status, layout, given.effective, given.pod_resources)
    rendered: dict[str, Any] = _pruned(status.to_manifest())
    # The usage loop's fields (control.usage): kept as they are while the spec asks for
    # recommendations (or cannot be read: an edit in progress must not lose the window); dropped once
    # it no longer does.
    spec = given.current.spec
    if spec is None or spec.recommendations is not None:
        for name in USAGE_FIELDS:
            if given.previous.get(name) is not None:
                rendered[name] = given.previous[name]
    return rendered


def status_patch(previous: Mapping[str, Any], desired: Mapping[str, Any]) -> dict[str, Any]:
    """The merge patch from ``previous`` to ``desired``: changed fields, and ``None`` for dropped ones.

    Only top-level fields of this status model are dropped; anything else a status holds is someone
    else's. Within a field of ours that stays an object, the patch descends: a merge patch merges
    objects key by key, so a key the new value lacks must be sent as ``None`` to be removed.
    """
    patch = {
        key: _merge_diff(previous.get(key), value)
        for key, value in desired.items()
        if previous.get(key) != value
    }
    patch.update({key: None for key in previous if key in _STATUS_FIELDS and key not in desired})
    return patch


def _merge_diff(previous: Any, desired: Any) -> Any:
    """The merge patch turning ``previous`` into ``desired`` (RFC 7386); lists and scalars are replaced."""
    if not isinstance(previous, Mapping) or not isinstance(desired, Mapping):
        return desired
    patch = {
        key: _merge_diff(previous.get(key), value)
        for key, value in desired.items()
        if previous.get(key) != value
    }
    patch.update({key: None for key in previous if key not in desired})
    return patch


def _pruned(value: Any) -> Any:
    """``value`` without empty lists and maps (nulls are already left out), at any depth."""
    if isinstance(value, Mapping):
        kept = {key: _pruned(item) for key, item in value.items()}
        return {key: item for key, item in kept.items() if item not in ([], {})}
    if isinstance(value, list):
        return [_pruned(item) for item in value]
    return value


def _not_obvious(reading: Interpretation) -> bool:
    """Whether a size string's reading is worth a line: not a plain Flink size read as Flink reads it."""
    return reading.convention is Convention.KUBERNETES or reading.ambiguous or reading.bytes is None


def _condition_input(given: StatusInput) -> ConditionInput:
    return ConditionInput(
        generation=given.generation,
        update_mode=given.current.update_mode,
        flink_version=given.current.resolved.version.name if given.current.resolved else None,
        conflicts=given.current.conflicts,
        outcome=given.outcome,
        applied_generation=given.effective_generation
        if given.current.update_mode is not UpdateMode.OFF
        else None,
        previous=given.previous.get("conditions") or [],
        now=given.now,
        not_recorded=given.not_recorded,
    )


def _describe_layout(
    status: FlinkTaskManagerMemoryStatus,
    layout: MemoryLayout,
    plan: MemoryPlan,
    resources: PodResources | None,
) -> None:
    status.breakdown = _breakdown(layout)
    status.summary = LayoutSummary.of(status.breakdown)
    status.cpu_cores = layout.cpu_cores
    status.num_slots = layout.num_slots
    status.jvm_parameters = layout.jvm_parameters()
    status.dynamic_configs = layout.dynamic_configs()
    status.pod_resources = resources
    status.managed_memory_split = _split(plan)
    if plan.memory is not None and plan.spec is not None and plan.spec.explain:
        status.explain = [
            ExplainStep(
                component=step.component,
                origin=Origin(step.origin.value),
                rule=step.rule,
                keys=list(step.keys),
            )
            for step in plan.memory.trace
        ]


def _breakdown(layout: MemoryLayout) -> Breakdown:
    return Breakdown.model_validate(
        {**layout.components(), "jvmHeap": layout.jvm_heap_bytes, "jvmDirect": layout.jvm_direct_bytes}
    )


def _split(plan: MemoryPlan) -> list[ManagedMemoryShare]:
    if plan.split is None or plan.weights is None or plan.spec is None or plan.resolved is None:
        return []
    weights = plan.weights.weights
    spec, resolved = plan.spec, plan.resolved
    return [
        ManagedMemoryShare(
            consumer=share.use_case.value,
            weight=weights.get(share.use_case, 0),
            fraction=share.fraction,
            bytes_per_slot=share.bytes,
            reason=share_reason(share, spec, resolved),
        )
        for share in plan.split.shares
        if share.bytes is not None
    ]


def _applied(given: StatusInput) -> Applied | None:
    previous = Applied.model_validate(given.previous["applied"]) if given.previous.get("applied") else None
    outcome = given.outcome
    if outcome is None:
        return previous
    config_map = outcome.config_map
    applied_config_map = (
        AppliedConfigMap(name=config_map.name, generation=outcome.generation, hash=config_map.hash)
        if config_map.state.in_place
        else (previous.config_map if previous is not None else None)
    )
    targets = [_applied_target(target, outcome.generation, previous) for target in outcome.targets]
    return Applied(config_map=applied_config_map, targets=targets)


def _applied_target(target: TargetOutcome, generation: int, previous: Applied | None) -> AppliedTarget:
    last = next(
        (
            entry.generation
            for entry in (previous.targets if previous is not None else [])
            if (entry.kind, entry.name) == (target.kind, target.name)
        ),
        None,
    )
    return AppliedTarget(
        kind=target.kind,
        name=target.name,
        container=target.container,
        state=target.state.target_state,
        generation=generation if target.state.in_place else last,
        message=target.message,
    )
