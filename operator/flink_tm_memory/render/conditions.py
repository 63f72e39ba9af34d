"""The three conditions of the status: ConfigValid, Applied and Ready, with honest transition times.

- ConfigValid: Flink (and the spec itself) accepts the configuration; otherwise the first conflict's
  reason and message.
- Applied: the ConfigMap and every workload hold the layout of the current generation. With
  ``updateMode: Off`` nothing is written and Applied is False (``UpdateModeOff``); while the spec
  has conflicts the last valid layout is kept (``LastGoodKept``). An object that is not the resource's
  to write (``NotOptedIn``, ``ClaimedByAnother``: see ``render.claims``) makes it False with a message
  naming the object and the annotation that would let the resource write it. A valid spec that
  cannot be recorded on the resource (``SpecNotRecorded``: the API server refused the annotation)
  is not written at all.
- Ready: the derived layout is in place (or, with ``updateMode: Off``, derived). A spec with
  conflicts makes the resource ``Degraded``.

``lastTransitionTime`` changes only when a condition's status does: a new reason or message with the
same status keeps the previous time, as Kubernetes' own conditions do.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flink_tm_memory.api.v1alpha1 import Condition, ConditionStatus, ConditionType, Conflict, UpdateMode
from flink_tm_memory.render.outcomes import ApplyOutcome, WriteState

DEGRADED = "Degraded"
SPEC_NOT_RECORDED = "SpecNotRecorded"
"""The valid spec could not be recorded on the resource (its annotations too large): nothing is written."""


@dataclass(frozen=True, slots=True)
class Verdict:
    """A condition's status, reason and message, before its transition time is known."""

    status: ConditionStatus
    reason: str
    message: str


@dataclass(frozen=True, slots=True)
class ConditionInput:
    generation: int
    update_mode: UpdateMode
    flink_version: str | None
    conflicts: Sequence[Conflict]
    outcome: ApplyOutcome | None
    applied_generation: int | None
    previous: Sequence[Mapping[str, Any]]
    now: datetime
    not_recorded: str | None = None


def render_conditions(given: ConditionInput) -> list[Condition]:
    """ConfigValid, Applied and Ready for the given state, in that order."""
    config_valid = _config_valid(given)
    applied = _applied(given)
    ready = _ready(given, config_valid, applied)
    verdicts = {
        ConditionType.READY: ready,
        ConditionType.CONFIG_VALID: config_valid,
        ConditionType.APPLIED: applied,
    }
    return [_condition(kind, verdict, given) for kind, verdict in verdicts.items()]


def _config_valid(given: ConditionInput) -> Verdict:
    if not given.conflicts:
        return Verdict(
            ConditionStatus.TRUE, "Valid", f"Flink {given.flink_version} accepts the configuration."
        )
    first = given.conflicts[0]
    return Verdict(ConditionStatus.FALSE, first.reason, first.message)


def _applied(given: ConditionInput) -> Verdict:
    if given.update_mode is UpdateMode.OFF:
        return Verdict(
            ConditionStatus.FALSE,
            "UpdateModeOff",
            "updateMode is Off: the layout is derived and reported, not written.",
        )
    if given.not_recorded is not None:
        return Verdict(ConditionStatus.FALSE, SPEC_NOT_RECORDED, given.not_recorded)
    if given.outcome is None:
        return Verdict(
            ConditionStatus.FALSE,
            "NothingApplied",
            "No valid spec has been applied yet: see status.conflicts.",
        )
    problems = _problems(given.outcome)
    if problems:
        reason = problems[0][0]
        return Verdict(ConditionStatus.FALSE, reason, " ".join(message for _, message in problems))
    subject, plural = _written_subject(given.outcome)
    if given.conflicts:
        keep = "keep" if plural else "keeps"
        return Verdict(
            ConditionStatus.FALSE,
            "LastGoodKept",
            f"{subject} {keep} the layout of generation {given.applied_generation}, the last valid spec; "
            f"generation {given.generation} has conflicts.",
        )
    hold = "hold" if plural else "holds"
    return Verdict(
        ConditionStatus.TRUE, "Applied", f"{subject} {hold} the layout of generation {given.generation}."
    )


def _ready(given: ConditionInput, config_valid: Verdict, applied: Verdict) -> Verdict:
    if config_valid.status is not ConditionStatus.TRUE:
        kept = (
            f" the ConfigMap and targets keep generation {given.applied_generation}."
            if given.applied_generation is not None and given.update_mode is UpdateMode.APPLY
            else ""
        )
        count = len(given.conflicts)
        return Verdict(
            ConditionStatus.FALSE,
            DEGRADED,
            f"Generation {given.generation} has {count} conflict{'s' if count != 1 else ''} (first: "
            f"{config_valid.message});{kept or ' nothing is written.'}",
        )
    if given.update_mode is UpdateMode.OFF:
        return Verdict(
            ConditionStatus.TRUE,
            "Derived",
            "The layout is derived; updateMode is Off, so nothing is written.",
        )
    if applied.status is ConditionStatus.TRUE:
        return Verdict(ConditionStatus.TRUE, "Ready", "The derived layout is in place.")
    return Verdict(ConditionStatus.FALSE, applied.reason, applied.message)


def _problems(outcome: ApplyOutcome) -> list[tuple[str, str]]:
    problems = []
    config_map = outcome.config_map
    if config_map.state is WriteState.DENIED:
        problems.append((config_map.reason or "NotPermitted", config_map.message or ""))
    elif not config_map.state.in_place:
        problems.append(
            ("ConfigMapFailed", f"ConfigMap {config_map.name} could not be written: {config_map.message}")
        )
    for target in outcome.targets:
        if target.state is WriteState.MISSING:
            problems.append(
                (
                    target.reason or "TargetMissing",
                    target.message
                    or f"{target.kind} {target.name} does not exist; it is written when it appears.",
                )
            )
        elif target.state is WriteState.DENIED:
            problems.append((target.reason or "NotPermitted", target.message or ""))
        elif target.state is WriteState.REFUSED:
            problems.append(("ContainerNotFound", f"{target.kind} {target.name}: {target.message}"))
        elif target.state is WriteState.FAILED:
            problems.append(
                ("TargetFailed", f"{target.kind} {target.name} could not be written: {target.message}")
            )
    return problems


def _written_subject(outcome: ApplyOutcome) -> tuple[str, bool]:
    count = len(outcome.targets)
    if not count:
        return f"ConfigMap {outcome.config_map.name}", False
    return f"ConfigMap {outcome.config_map.name} and {count} workload{'s' if count != 1 else ''}", True


def _condition(kind: ConditionType, verdict: Verdict, given: ConditionInput) -> Condition:
    return Condition(
        type=kind.value,
        status=verdict.status,
        reason=verdict.reason,
        message=verdict.message,
        last_transition_time=_transition_time(kind, verdict.status, given),
        observed_generation=given.generation,
    )


def _transition_time(kind: ConditionType, status: ConditionStatus, given: ConditionInput) -> datetime:
    for previous in given.previous:
        if previous.get("type") == kind.value and previous.get("status") == status.value:
            try:
                return datetime.fromisoformat(str(previous["lastTransitionTime"]))
            except (KeyError, ValueError):
                break
    return given.now
