"""Ready, ConfigValid and Applied say what is true, and change their transition time only on a transition."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flink_tm_memory.api.v1alpha1 import Conflict, UpdateMode
from flink_tm_memory.api.workloads import WorkloadKind
from flink_tm_memory.render.conditions import ConditionInput, render_conditions
from flink_tm_memory.render.outcomes import ApplyOutcome, ConfigMapOutcome, TargetOutcome, WriteState

EARLIER = datetime(2026, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 2, 2, tzinfo=UTC)
WRITTEN = ApplyOutcome(3, ConfigMapOutcome("cm", WriteState.UNCHANGED))
CONFLICT = Conflict(reason="ProcessSizeMismatch", message="spec.resources.memory disagrees.", primary=False)


def conditions(**changes: Any) -> dict[str, tuple[str, str]]:
    given = ConditionInput(
        generation=3,
        update_mode=changes.get("update_mode", UpdateMode.APPLY),
        flink_version="2.2",
        conflicts=changes.get("conflicts", ()),
        outcome=changes.get("outcome", WRITTEN),
        applied_generation=changes.get("applied_generation", 3),
        previous=changes.get("previous", []),
        now=NOW,
    )
    return {
        condition.type: (condition.status.value, condition.reason) for condition in render_conditions(given)
    }


def test_a_valid_applied_layout_is_ready() -> None:
    assert conditions() == {
        "Ready": ("True", "Ready"),
        "ConfigValid": ("True", "Valid"),
        "Applied": ("True", "Applied"),
    }


def test_conflicts_make_the_resource_degraded_with_the_first_conflicts_reason() -> None:
    assert conditions(conflicts=(CONFLICT,), applied_generation=2) == {
        "Ready": ("False", "Degraded"),
        "ConfigValid": ("False", "ProcessSizeMismatch"),
        "Applied": ("False", "LastGoodKept"),
    }


def test_conflicts_with_nothing_ever_applied_say_so() -> None:
    assert conditions(conflicts=(CONFLICT,), outcome=None, applied_generation=None)["Applied"] == (
        "False",
        "NothingApplied",
    )


def test_update_mode_off_is_ready_once_derived_and_never_applied() -> None:
    assert conditions(update_mode=UpdateMode.OFF, outcome=None) == {
        "Ready": ("True", "Derived"),
        "ConfigValid": ("True", "Valid"),
        "Applied": ("False", "UpdateModeOff"),
    }


def test_a_missing_target_keeps_the_resource_from_ready() -> None:
    outcome = ApplyOutcome(
        3, WRITTEN.config_map, (TargetOutcome(WorkloadKind.DEPLOYMENT, "tm", WriteState.MISSING),)
    )
    assert conditions(outcome=outcome)["Ready"] == ("False", "TargetMissing")


def test_the_transition_time_stays_while_the_status_stays() -> None:
    previous = [
        {"type": "Ready", "status": "True", "reason": "Other", "lastTransitionTime": "2026-01-01T00:00:00Z"}
    ]
    given = ConditionInput(3, UpdateMode.APPLY, "2.2", (), WRITTEN, 3, previous, NOW)
    times = {condition.type: condition.last_transition_time for condition in render_conditions(given)}
    assert times == {"Ready": EARLIER, "ConfigValid": NOW, "Applied": NOW}


def test_a_new_status_takes_a_new_transition_time() -> None:
    previous = [
        {
            "type": "Ready",
            "status": "False",
            "reason": "Degraded",
            "lastTransitionTime": "2026-01-01T00:00:00Z",
        }
    ]
    given = ConditionInput(3, UpdateMode.APPLY, "2.2", (), WRITTEN, 3, previous, NOW)
    assert render_conditions(given)[0].last_transition_time == NOW
