"""``status.conflicts[].fixes``: the engine's fixes on Flink's primary conflict, in the spec's terms.

Each fix is checked against the engine itself: applied to the resolved configuration, Flink accepts it.
"""

from __future__ import annotations

from typing import Any

from flink_tm_memory.api.resolve import resolve_spec
from flink_tm_memory.api.v1alpha1 import Conflict, FlinkTaskManagerMemorySpec
from flink_tm_memory.memory import derive_task_manager_memory
from flink_tm_memory.render.plan import derive_memory_plan

PROCESS = "taskmanager.memory.process.size"
FLINK = "taskmanager.memory.flink.size"
TASK_HEAP = "taskmanager.memory.task.heap.size"


def primary(spec: dict[str, Any]) -> Conflict:
    return next(conflict for conflict in derive_memory_plan(spec).conflicts if conflict.primary)


def test_of_flinks_conflicts_only_the_primary_one_carries_fixes() -> None:
    plan = derive_memory_plan(
        {"flinkConfiguration": {PROCESS: "3g", TASK_HEAP: "4g", "taskmanager.cpu.cores": "-1"}}
    )
    assert len(plan.conflicts) > 1
    assert [bool(conflict.fixes) for conflict in plan.conflicts] == [
        conflict.primary for conflict in plan.conflicts
    ]


def test_every_fix_in_the_status_makes_flink_accept_the_resolved_configuration() -> None:
    spec = {"resources": {"memory": "1536Mi"}, "flinkConfiguration": {FLINK: "3g", TASK_HEAP: "1g"}}
    resolved = resolve_spec(FlinkTaskManagerMemorySpec.model_validate(spec))
    fixes = primary(spec).fixes
    assert fixes
    for fix in fixes:
        config = {key: value for key, value in resolved.configuration.items() if key not in fix.unset}
        config.update(fix.set_options)
        assert derive_task_manager_memory(config, resolved.version).ok, fix.summary


def test_a_process_size_from_resources_memory_is_changed_there_in_a_kubernetes_quantity() -> None:
    fixes = primary({"resources": {"memory": "4Gi"}, "flinkConfiguration": {TASK_HEAP: "4g"}}).fixes
    raised = next(fix for fix in fixes if PROCESS in fix.set_options)
    mebibytes = raised.set_options[PROCESS].removesuffix("m")
    assert raised.fields == ["spec.resources.memory"]
    assert raised.summary == f"raise spec.resources.memory from 4Gi to {mebibytes}Mi"
    assert all(PROCESS not in fix.summary for fix in fixes)


def test_a_kubernetes_unit_in_flink_configuration_points_at_resources_memory() -> None:
    [fix] = primary({"flinkConfiguration": {PROCESS: "4Gi"}}).fixes
    assert fix.set_options == {PROCESS: "4g"}
    assert fix.fields == [f"spec.flinkConfiguration[{PROCESS}]"]
    assert fix.summary.endswith("; or use spec.resources.memory: 4Gi")


def test_fixes_are_written_in_the_status_under_set_and_unset() -> None:
    [fix] = primary({"flinkConfiguration": {PROCESS: "4Gi"}}).fixes
    assert fix.to_manifest() == {
        "set": {PROCESS: "4g"},
        "unset": [],
        "fields": [f"spec.flinkConfiguration[{PROCESS}]"],
        "summary": fix.summary,
    }


SPEC_CONFLICTS: dict[str, Any] = {
    "resources": {"memory": "2Gi", "cpu": "2", "memoryLimitFactor": 1.5},
    "flinkConfiguration": {
        PROCESS: "3g",
        "taskmanager.cpu.cores": "3",
        "kubernetes.taskmanager.memory.limit-factor": "2",
        "kubernetes.taskmanager.cpu.limit-factor": "0.5",
    },
}


def test_every_spec_conflict_has_a_fix_that_ends_it() -> None:
    conflicts = derive_memory_plan(SPEC_CONFLICTS).conflicts
    assert {conflict.reason for conflict in conflicts} == {
        "ProcessSizeMismatch",
        "CpuMismatch",
        "LimitFactorMismatch",
        "InvalidLimitFactor",
    }
    for conflict in conflicts:
        [fix] = conflict.fixes
        options = {
            key: value for key, value in SPEC_CONFLICTS["flinkConfiguration"].items() if key not in fix.unset
        }
        fixed = derive_memory_plan({**SPEC_CONFLICTS, "flinkConfiguration": options})
        assert conflict.reason not in {other.reason for other in fixed.conflicts}, fix.summary
        assert fix.summary.startswith(f"remove spec.flinkConfiguration[{fix.unset[0]}]: ")
