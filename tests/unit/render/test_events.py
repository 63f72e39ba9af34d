"""Events follow transitions: a write is announced, a new conflict warned about, a quiet check says nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flink_tm_memory.api.v1alpha1 import Conflict, ConflictFix, WorkloadKind
from flink_tm_memory.render.events import (
    MESSAGE_LIMIT,
    EventSpec,
    Reporter,
    render_event_object,
    render_events,
    render_repair_event,
)
from flink_tm_memory.render.metadata import MemoryRef
from flink_tm_memory.render.outcomes import ApplyOutcome, ConfigMapOutcome, TargetOutcome, WriteState
from flink_tm_memory.render.plan import MemoryPlan
from flink_tm_memory.render.pod_resources import render_pod_resources

CONFLICT = Conflict(
    reason="ProcessSizeMismatch",
    message="Two sizes.",
    keys=["taskmanager.memory.process.size"],
    fields=["spec.resources.memory", "spec.flinkConfiguration[taskmanager.memory.process.size]"],
    primary=False,
)
NAMED = "spec.resources.memory, spec.flinkConfiguration[taskmanager.memory.process.size]: Two sizes."
OTHER = Conflict(reason="InvalidSpec", message="Another.", primary=False)


def invalid(generation: int, message: str = "Two sizes.") -> dict[str, Any]:
    condition = {
        "type": "ConfigValid",
        "status": "False",
        "reason": "ProcessSizeMismatch",
        "message": message,
    }
    return {"observedGeneration": generation, "conditions": [condition]}


def events(
    valid_plan: MemoryPlan, previous: dict[str, Any], status: dict[str, Any], **changes: Any
) -> list[EventSpec]:
    layout = valid_plan.layout
    assert layout is not None
    return render_events(
        previous,
        status,
        conflicts=changes.get("conflicts", ()),
        outcome=changes.get("outcome"),
        layout=layout,
        resources=render_pod_resources(layout, 1.0, 1.0),
    )


def test_a_created_configmap_and_an_updated_workload_are_announced(valid_plan: MemoryPlan) -> None:
    target = TargetOutcome(
        WorkloadKind.STATEFUL_SET, "tm", WriteState.UPDATED, container="flink-main-container"
    )
    outcome = ApplyOutcome(2, ConfigMapOutcome("cm", WriteState.CREATED), (target,))
    created, updated = events(valid_plan, {}, {}, outcome=outcome)
    assert (created.type, created.reason) == ("Normal", "ConfigMapCreated")
    assert created.message == (
        "Created ConfigMap cm with the layout of generation 2: process 4.000gb, JVM heap 1.550gb, managed 1.340gb, "
        "network 343.040mb."
    )
    assert (updated.type, updated.reason) == ("Normal", "WorkloadUpdated")
    assert updated.message == (
        "Set StatefulSet tm container flink-main-container to the layout of generation 2: "
        "requests memory=4Gi cpu=2, limits memory=4Gi cpu=2."
    )


def test_nothing_written_nothing_announced(valid_plan: MemoryPlan) -> None:
    outcome = ApplyOutcome(2, ConfigMapOutcome("cm", WriteState.UNCHANGED))
    assert events(valid_plan, {}, {}, outcome=outcome) == []


def test_a_new_conflict_is_warned_about_naming_the_first_and_counting_the_rest(
    valid_plan: MemoryPlan,
) -> None:
    [warning] = events(valid_plan, {}, invalid(3), conflicts=(CONFLICT, OTHER))
    assert warning == EventSpec("Warning", "ProcessSizeMismatch", f"{NAMED} (1 more in status.conflicts)")


def test_the_same_conflict_on_a_later_check_of_the_same_generation_is_not_warned_about_again(
    valid_plan: MemoryPlan,
) -> None:
    assert events(valid_plan, invalid(3), invalid(3), conflicts=(CONFLICT,)) == []


def test_a_new_generation_with_the_same_conflict_is_warned_about(valid_plan: MemoryPlan) -> None:
    assert len(events(valid_plan, invalid(3), invalid(4), conflicts=(CONFLICT,))) == 1


def test_a_target_going_missing_is_warned_about_once(valid_plan: MemoryPlan) -> None:
    outcome = ApplyOutcome(
        2,
        ConfigMapOutcome("cm", WriteState.UNCHANGED),
        (TargetOutcome(WorkloadKind.DEPLOYMENT, "tm", WriteState.MISSING),),
    )
    [warning] = events(valid_plan, {}, {}, outcome=outcome)
    assert (warning.type, warning.reason) == ("Warning", "TargetMissing")
    previous = {"applied": {"targets": [{"kind": "Deployment", "name": "tm", "state": "Missing"}]}}
    assert events(valid_plan, previous, {}, outcome=outcome) == []


def test_a_transient_failure_is_not_an_event(valid_plan: MemoryPlan) -> None:
    failed = TargetOutcome(WorkloadKind.DEPLOYMENT, "tm", WriteState.FAILED, message="503", transient=True)
    outcome = ApplyOutcome(2, ConfigMapOutcome("cm", WriteState.UNCHANGED), (failed,))
    assert events(valid_plan, {}, {}, outcome=outcome) == []


def test_a_repair_names_the_configmap_and_what_happened_to_it() -> None:
    assert render_repair_event("cm", deleted=False) == EventSpec(
        "Normal", "ConfigMapRepaired", "Restored ConfigMap cm: it was edited."
    )


REPORTER = Reporter(
    component="flink-tm-memory-operator", instance="operator-0", name_prefix="flink-tm-memory-"
)
MEMORY = MemoryRef(name="job", namespace="flink", uid="1234", generation=3)
AT = datetime(2026, 12, 4, 17, 5, 9, 123456, tzinfo=UTC)


def test_an_event_object_names_the_resource_and_the_reporter_as_kubectl_describe_shows_them() -> None:
    event = render_event_object(MEMORY, EventSpec("Normal", "ConfigMapCreated", "Created it."), REPORTER, AT)

    assert event["metadata"] == {"generateName": "flink-tm-memory-", "namespace": "flink"}
    assert event["involvedObject"] == {
        "apiVersion": "flinkmemory.io/v1alpha1",
        "kind": "FlinkTaskManagerMemory",
        "name": "job",
        "namespace": "flink",
        "uid": "1234",
    }
    assert (event["type"], event["reason"], event["message"]) == ("Normal", "ConfigMapCreated", "Created it.")
    assert event["source"] == {"component": "flink-tm-memory-operator"}
    assert (event["reportingComponent"], event["reportingInstance"]) == (
        "flink-tm-memory-operator",
        "operator-0",
    )
    assert event["firstTimestamp"] == event["lastTimestamp"] == "2026-12-04T17:05:09Z"
    assert event["eventTime"] == "2026-12-04T17:05:09.123456Z"


def test_a_long_message_is_cut_in_the_middle_to_what_the_api_server_stores() -> None:
    message = "head " + "x" * 3000 + " tail"

    cut = render_event_object(MEMORY, EventSpec("Warning", "InvalidSpec", message), REPORTER, AT)["message"]

    assert len(cut) == MESSAGE_LIMIT
    assert cut.startswith("head xxx")
    assert cut.endswith("xxx tail")
    assert " [...] " in cut


def test_a_message_of_exactly_the_limit_is_kept_whole() -> None:
    message = "y" * MESSAGE_LIMIT

    kept = render_event_object(MEMORY, EventSpec("Normal", "R", message), REPORTER, AT)["message"]

    assert kept == message


def test_a_conflict_warning_ends_with_the_fix_that_changes_least(valid_plan: MemoryPlan) -> None:
    fix = ConflictFix.model_validate({"set": {"k": "1g"}, "summary": "raise k from 1m to 1g"})
    flink = Conflict(reason="ComponentsExceedTotalFlink", message="Sum.", primary=True, fixes=[fix])
    [warning] = events(valid_plan, {}, invalid(3), conflicts=(CONFLICT, flink))
    assert warning.message == f"{NAMED} (1 more in status.conflicts) Fix: raise k from 1m to 1g."
