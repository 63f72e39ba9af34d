"""The status: current conflicts and notes, the layout in effect, what was applied; patched field by field."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flink_tm_memory.api.workloads import WorkloadKind
from flink_tm_memory.memory.sizes import format_short
from flink_tm_memory.render.outcomes import ApplyOutcome, ConfigMapOutcome, TargetOutcome, WriteState
from flink_tm_memory.render.plan import MemoryPlan
from flink_tm_memory.render.pod_resources import render_pod_resources
from flink_tm_memory.render.status import StatusInput, render_status, status_patch
from tests.unit.render.conftest import PROCESS_SIZE, plan_of

NOW = datetime(2026, 3, 3, tzinfo=UTC)
CONFLICTING = plan_of({"resources": {"memory": "4G"}, "flinkConfiguration": {PROCESS_SIZE: "4g"}})


def status(
    current: MemoryPlan, effective: MemoryPlan | None, outcome: ApplyOutcome | None, **changes: Any
) -> dict[str, Any]:
    layout = effective.layout if effective is not None else None
    resources = render_pod_resources(layout, 1.0, 1.0) if layout is not None else None
    given = StatusInput(
        generation=changes.get("generation", 5),
        current=current,
        effective=effective,
        effective_generation=changes.get("effective_generation", 5),
        pod_resources=resources,
        outcome=outcome,
        previous=changes.get("previous", {}),
        now=NOW,
    )
    return render_status(given)


def test_a_valid_applied_plan_is_described_whole(valid_plan: MemoryPlan) -> None:
    outcome = ApplyOutcome(5, ConfigMapOutcome("cm", WriteState.CREATED, hash="abc"))
    rendered = status(valid_plan, valid_plan, outcome)
    assert rendered["observedGeneration"] == 5
    assert rendered["breakdown"]["totalProcess"] == 4 << 30
    assert rendered["summary"] == {
        "process": "4.000gb",
        "heap": format_short(rendered["breakdown"]["jvmHeap"]),
        "managed": format_short(rendered["breakdown"]["managed"]),
        "network": format_short(rendered["breakdown"]["network"]),
    }
    assert rendered["podResources"]["requests"] == {"memory": "4Gi", "cpu": "2"}
    assert rendered["jvmParameters"].startswith("-Xmx")
    assert rendered["applied"] == {"configMap": {"name": "cm", "generation": 5, "hash": "abc"}}
    assert "conflicts" not in rendered


def test_the_explain_trace_is_in_the_status_only_when_the_spec_asks_for_it() -> None:
    spec = {"flinkConfiguration": {PROCESS_SIZE: "4g"}}
    assert "explain" not in status(plan_of(spec), plan_of(spec), None)
    asked = plan_of({**spec, "explain": True})
    explain = status(asked, asked, None)["explain"]
    assert asked.memory is not None
    assert [(step["component"], step["origin"]) for step in explain] == [
        (step.component, step.origin.value) for step in asked.memory.trace
    ]
    assert explain[-1] == {
        "component": "totalProcess",
        "origin": "Configured",
        "rule": "configured total process memory",
        "keys": [PROCESS_SIZE],
    }


def test_while_the_spec_conflicts_the_layout_of_the_last_applied_spec_is_described(
    valid_plan: MemoryPlan,
) -> None:
    outcome = ApplyOutcome(4, ConfigMapOutcome("cm", WriteState.UNCHANGED, hash="abc"))
    rendered = status(CONFLICTING, valid_plan, outcome, effective_generation=4)
    assert rendered["breakdown"]["totalProcess"] == 4 << 30
    assert [conflict["reason"] for conflict in rendered["conflicts"]] == ["ProcessSizeMismatch"]
    assert rendered["applied"]["configMap"]["generation"] == 4


def test_a_conflicting_spec_never_applied_has_no_layout() -> None:
    rendered = status(CONFLICTING, None, None)
    assert "breakdown" not in rendered
    assert "podResources" not in rendered
    assert "applied" not in rendered


def test_without_a_write_the_previous_applied_record_is_kept(valid_plan: MemoryPlan) -> None:
    applied = {"configMap": {"name": "cm", "generation": 2, "hash": "abc"}, "targets": []}
    kept = status(valid_plan, valid_plan, None, previous={"applied": applied})["applied"]
    assert kept == {"configMap": applied["configMap"]}


def test_a_target_that_went_missing_keeps_the_generation_it_last_got(valid_plan: MemoryPlan) -> None:
    previous = {
        "applied": {
            "configMap": {"name": "cm", "generation": 4},
            "targets": [{"kind": "Deployment", "name": "tm", "state": "Applied", "generation": 4}],
        }
    }
    target = TargetOutcome(WorkloadKind.DEPLOYMENT, "tm", WriteState.MISSING)
    outcome = ApplyOutcome(5, ConfigMapOutcome("cm", WriteState.UNCHANGED), (target,))
    [entry] = status(valid_plan, valid_plan, outcome, previous=previous)["applied"]["targets"]
    assert (entry["state"], entry["generation"]) == ("Missing", 4)


def test_the_patch_holds_only_what_changed() -> None:
    previous = {"observedGeneration": 4, "notes": [], "conflicts": []}
    desired = {"observedGeneration": 5, "notes": [], "conflicts": []}
    assert status_patch(previous, desired) == {"observedGeneration": 5}


def test_the_patch_drops_fields_of_the_model_that_are_no_longer_there_and_no_others() -> None:
    previous = {"observedGeneration": 5, "breakdown": {"x": 1}, "someoneElses": True}
    assert status_patch(previous, {"observedGeneration": 5}) == {"breakdown": None}


def test_an_unchanged_status_needs_no_patch(valid_plan: MemoryPlan) -> None:
    outcome = ApplyOutcome(5, ConfigMapOutcome("cm", WriteState.UNCHANGED, hash="abc"))
    first = status(valid_plan, valid_plan, outcome)
    assert status_patch(first, status(valid_plan, valid_plan, outcome, previous=first)) == {}


def walk(value: Any) -> list[Any]:
    """``value`` and every value nested in it."""
    if isinstance(value, dict):
        return [value, *(nested for item in value.values() for nested in walk(item))]
    if isinstance(value, list):
        return [value, *(nested for item in value for nested in walk(item))]
    return [value]


def test_no_empty_list_map_or_null_is_written_at_any_depth(valid_plan: MemoryPlan) -> None:
    target = TargetOutcome(WorkloadKind.DEPLOYMENT, "tm", WriteState.MISSING)
    outcome = ApplyOutcome(5, ConfigMapOutcome("cm", WriteState.CREATED), (target,))
    for current in (valid_plan, CONFLICTING):
        rendered = status(current, valid_plan, outcome)
        assert rendered["notes"] or rendered["conflicts"]
        assert not [value for value in walk(rendered) if value in ([], {}, None)], rendered


def test_only_size_strings_read_otherwise_than_the_obvious_way_are_interpreted() -> None:
    plain = plan_of({"flinkConfiguration": {PROCESS_SIZE: "4g"}})
    assert plain.interpretations
    assert "interpretations" not in status(plain, plain, None)

    kubernetes = plan_of({"resources": {"memory": "4Gi"}})
    [reading] = status(kubernetes, kubernetes, None)["interpretations"]
    assert (reading["field"], reading["convention"], reading["bytes"]) == (
        "spec.resources.memory",
        "Kubernetes",
        4 << 30,
    )

    mixed = plan_of({"flinkConfiguration": {PROCESS_SIZE: "4g", "taskmanager.memory.managed.size": "1G"}})
    [reading] = status(mixed, mixed, None)["interpretations"]
    assert (reading["value"], reading["ambiguous"]) == ("1G", True)

    unreadable = plan_of(
        {"flinkConfiguration": {PROCESS_SIZE: "4g", "taskmanager.memory.managed.size": "4Gi"}}
    )
    [reading] = status(unreadable, None, None)["interpretations"]
    assert (reading["value"], "bytes" in reading) == ("4Gi", False)


def test_a_list_that_became_empty_is_removed_by_the_patch(valid_plan: MemoryPlan) -> None:
    previous = status(CONFLICTING, valid_plan, None)
    assert previous["conflicts"]
    patch = status_patch(previous, status(valid_plan, valid_plan, None))
    assert patch["conflicts"] is None


def test_the_patch_removes_nested_fields_the_new_value_lacks_and_keeps_the_rest_whole() -> None:
    older = {"memory": "4Gi", "memoryBytes": 4 << 30, "cpu": "2"}
    previous = {"podResources": {"requests": older, "limits": older}, "breakdown": {"taskHeap": {"bytes": 1}}}
    desired: dict[str, Any] = {
        "podResources": {"requests": {"memory": "4Gi", "cpu": "2"}, "limits": {"memory": "5Gi", "cpu": "2"}}
    }
    desired["breakdown"] = {"taskHeap": 1, "managed": 2}
    assert status_patch(previous, desired) == {
        "podResources": {
            "requests": {"memoryBytes": None},
            "limits": {"memory": "5Gi", "memoryBytes": None},
        },
        "breakdown": {"taskHeap": 1, "managed": 2},
    }
