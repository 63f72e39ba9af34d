"""Kubernetes Events for what changed: Normal for every write, Warning for new conflicts, missing targets
and objects the resource may not write.

Events are rendered from a transition (the status before and after a reconciliation, and the writes
made), never from a state alone, so a periodic drift check that changes nothing says nothing: no
event spam for ``kubectl describe`` and no load on the API server.

``render_event_object`` makes the ``core/v1`` Event the operator posts: the shape kopf posts for its
own Events (the reporting component in ``source`` is the "From" column of ``kubectl describe``), a
message cut in the middle to the API server's 1 024 characters.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flink_tm_memory.api.v1alpha1 import API_VERSION, KIND, ConditionType, Conflict, PodResources, TargetState
from flink_tm_memory.memory.layout import MemoryLayout
from flink_tm_memory.memory.sizes import format_human
from flink_tm_memory.render.admission import conflict_line
from flink_tm_memory.render.metadata import MemoryRef
from flink_tm_memory.render.outcomes import ApplyOutcome, TargetOutcome, WriteState
from flink_tm_memory.render.version_change import EVENT_REASON as VERSION_EVENT_REASON
from flink_tm_memory.render.version_change import STATUS_FIELD as VERSION_STATUS_FIELD

NORMAL = "Normal"
WARNING = "Warning"
_TARGET_REASONS = {
    TargetState.MISSING: "TargetMissing",
    TargetState.CONTAINER_NOT_FOUND: "ContainerNotFound",
    TargetState.NOT_PERMITTED: "NotPermitted",
    TargetState.FAILED: "TargetFailed",
    TargetState.APPLIED: "TargetApplied",
}
MESSAGE_LIMIT = 1024
"""The longest Event message the API server stores."""
_CUT = " [...] "


@dataclass(frozen=True, slots=True)
class EventSpec:
    """One Event to post about the custom resource."""

    type: str
    reason: str
    message: str


@dataclass(frozen=True, slots=True)
class Reporter:
    """Who posts the Events: the component (``kubectl describe``'s "From"), its instance, a name prefix."""

    component: str
    instance: str
    name_prefix: str


def render_event_object(
    memory: MemoryRef, event: EventSpec, reporter: Reporter, at: datetime
) -> dict[str, Any]:
    """The ``core/v1`` Event for ``event`` about ``memory``, happened ``at`` (UTC)."""
    second = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"generateName": reporter.name_prefix, "namespace": memory.namespace},
        "involvedObject": {
            "apiVersion": API_VERSION,
            "kind": KIND,
            "name": memory.name,
            "namespace": memory.namespace,
            "uid": memory.uid,
        },
        "type": event.type,
        "reason": event.reason,
        "message": _cut(event.message, MESSAGE_LIMIT),
        "action": "Reconcile",
        "reportingComponent": reporter.component,
        "reportingInstance": reporter.instance,
        "source": {"component": reporter.component},
        "count": 1,
        "firstTimestamp": second,
        "lastTimestamp": second,
        "eventTime": at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    }


def _cut(message: str, limit: int) -> str:
    if len(message) <= limit:
        return message
    kept = limit - len(_CUT)
    return f"{message[: kept - kept // 2]}{_CUT}{message[len(message) - kept // 2 :]}"


def render_events(
    previous: Mapping[str, Any],
    status: Mapping[str, Any],
    *,
    conflicts: tuple[Conflict, ...],
    outcome: ApplyOutcome | None,
    layout: MemoryLayout | None,
    resources: PodResources | None,
    not_recorded: str | None = None,
) -> list[EventSpec]:
    """The Events for one reconciliation that moved the status from ``previous`` to ``status``."""
    events = _conflict_events(previous, status, conflicts)
    events.extend(_version_change_events(previous, status))
    if not_recorded is not None and not _still_reported(previous, not_recorded):
        events.append(EventSpec(WARNING, "SpecNotRecorded", not_recorded))
    if outcome is not None:
        events.extend(_write_events(previous, outcome, layout, resources))
    return events


def _version_change_events(previous: Mapping[str, Any], status: Mapping[str, Any]) -> list[EventSpec]:
    """One Event per version change: when ``status.lastVersionChange`` is new."""
    change = status.get(VERSION_STATUS_FIELD)
    if not isinstance(change, Mapping) or change == previous.get(VERSION_STATUS_FIELD):
        return []
    refused = any(component.get("after") is None for component in change.get("changes") or [])
    return [EventSpec(WARNING if refused else NORMAL, VERSION_EVENT_REASON, str(change.get("message") or ""))]


def render_repair_event(config_map: str, deleted: bool) -> EventSpec:
    """The Event for a ConfigMap put back after someone edited or deleted it."""
    what = "deleted" if deleted else "edited"
    return EventSpec(NORMAL, "ConfigMapRepaired", f"Restored ConfigMap {config_map}: it was {what}.")


def _conflict_events(
    previous: Mapping[str, Any], status: Mapping[str, Any], conflicts: tuple[Conflict, ...]
) -> list[EventSpec]:
    if not conflicts:
        return []
    before = _condition(previous, ConditionType.CONFIG_VALID)
    after = _condition(status, ConditionType.CONFIG_VALID)
    same = before is not None and after is not None and _verdict(before) == _verdict(after)
    if same and previous.get("observedGeneration") == status.get("observedGeneration"):
        return []
    first = conflicts[0]
    more = len(conflicts) - 1
    suffix = f" ({more} more in status.conflicts)" if more else ""
    fix = next((conflict.fixes[0].summary for conflict in conflicts if conflict.fixes), None)
    advice = f" Fix: {fix}." if fix else ""
    return [EventSpec(WARNING, first.reason, f"{conflict_line(first)}{suffix}{advice}")]


def _write_events(
    previous: Mapping[str, Any],
    outcome: ApplyOutcome,
    layout: MemoryLayout | None,
    resources: PodResources | None,
) -> list[EventSpec]:
    events = []
    config_map = outcome.config_map
    if config_map.state.written and layout is not None:
        verb = "Created" if config_map.state is WriteState.CREATED else "Updated"
        events.append(
            EventSpec(
                NORMAL,
                f"ConfigMap{verb}",
                f"{verb} ConfigMap {config_map.name} with the layout of generation {outcome.generation}: "
                f"{_layout_summary(layout)}.",
            )
        )
    if config_map.state is WriteState.DENIED and not _still_reported(previous, config_map.message or ""):
        events.append(EventSpec(WARNING, config_map.reason or "NotPermitted", config_map.message or ""))
    known = _previous_target_states(previous)
    for target in outcome.targets:
        event = _target_event(target, outcome.generation, resources, known.get((target.kind, target.name)))
        if event is not None:
            events.append(event)
    return events


def _target_event(
    target: TargetOutcome, generation: int, resources: PodResources | None, previous_state: str | None
) -> EventSpec | None:
    if target.state.written and resources is not None:
        container = f" container {target.container}" if target.container else ""
        return EventSpec(
            NORMAL,
            "WorkloadUpdated",
            f"Set {target.kind} {target.name}{container} to the layout of generation {generation}: "
            f"requests memory={resources.requests.memory} cpu={resources.requests.cpu}, "
            f"limits memory={resources.limits.memory} cpu={resources.limits.cpu}.",
        )
    state = target.state.target_state
    if target.state.in_place or target.transient or previous_state == state.value:
        return None
    message = target.message or f"{target.kind} {target.name} does not exist; it is written when it appears."
    return EventSpec(WARNING, target.reason or _TARGET_REASONS[state], message)


def _layout_summary(layout: MemoryLayout) -> str:
    return (
        f"process {_short(layout.total_process_bytes)}, JVM heap {_short(layout.jvm_heap_bytes)}, "
        f"managed {_short(layout.managed_bytes)}, network {_short(layout.network_bytes)}"
    )


def _short(size_bytes: int) -> str:
    return format_human(size_bytes).split(" (", 1)[0]


def _still_reported(previous: Mapping[str, Any], message: str) -> bool:
    """Whether the previous status already said ``message`` (in its Applied condition): no new Event."""
    applied = _condition(previous, ConditionType.APPLIED)
    return applied is not None and message in str(applied.get("message") or "")


def _previous_target_states(previous: Mapping[str, Any]) -> dict[tuple[str, str], str]:
    targets = (previous.get("applied") or {}).get("targets") or []
    return {(entry.get("kind"), entry.get("name")): entry.get("state") for entry in targets}


def _condition(status: Mapping[str, Any], kind: ConditionType) -> Mapping[str, Any] | None:
    return next((entry for entry in status.get("conditions") or [] if entry.get("type") == kind.value), None)


def _verdict(condition: Mapping[str, Any]) -> tuple[Any, Any, Any]:
    return condition.get("status"), condition.get("reason"), condition.get("message")
