"""``spec.sizing.needs``: sized when no size is given, checked when one is; every bad need named."""

from __future__ import annotations

from typing import Any

from flink_tm_memory.memory import derive_task_manager_memory
from flink_tm_memory.memory.sizes import GIB, MIB, parse_memory_size
from flink_tm_memory.render.admission import admission_verdict
from flink_tm_memory.render.plan import derive_memory_plan

PROCESS = "taskmanager.memory.process.size"


def resource(spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "flinkmemory.io/v1alpha1", "kind": "FlinkTaskManagerMemory", "spec": spec}


def test_needs_without_a_size_pin_the_smallest_process_size_that_meets_them() -> None:
    plan = derive_memory_plan({"sizing": {"needs": {"taskHeap": "2g", "managed": "4Gi"}}})
    assert plan.conflicts == ()
    assert plan.layout is not None
    assert plan.resolved is not None
    process = plan.resolved.configuration[PROCESS]
    assert isinstance(process, str)
    assert plan.layout.task_heap_bytes >= 2 * GIB
    assert plan.layout.managed_bytes >= 4 * GIB
    smaller = derive_task_manager_memory({PROCESS: f"{parse_memory_size(process) // MIB - 1}m"}, "2.2").layout
    assert smaller is None or smaller.task_heap_bytes < 2 * GIB or smaller.managed_bytes < 4 * GIB
    assert plan.sizing is not None
    assert (plan.sizing.mode, plan.sizing.met, plan.sizing.set_options) == ("Sized", True, {PROCESS: process})
    assert [(need.component, need.met) for need in plan.sizing.needs] == [
        ("taskHeap", True),
        ("managed", True),
    ]


def test_a_given_size_that_meets_the_needs_is_checked_and_left_alone() -> None:
    plan = derive_memory_plan({"resources": {"memory": "16Gi"}, "sizing": {"needs": {"taskHeap": "2g"}}})
    assert plan.conflicts == ()
    assert plan.resolved is not None
    assert plan.resolved.configuration[PROCESS] == f"{16 * GIB}b"
    assert plan.sizing is not None
    assert (plan.sizing.mode, plan.sizing.met, plan.sizing.set_options) == ("Checked", True, {})


def test_a_given_size_that_misses_a_need_is_denied_with_the_size_that_meets_it() -> None:
    spec = {"resources": {"memory": "4Gi"}, "sizing": {"needs": {"taskHeap": "2g", "managed": "4g"}}}
    plan = derive_memory_plan(spec)
    (conflict,) = plan.conflicts
    assert conflict.reason == "NeedsNotMet"
    assert conflict.fields == ["spec.sizing.needs.taskHeap", "spec.sizing.needs.managed"]
    assert conflict.fixes[0].summary == "raise spec.resources.memory from 4Gi to 11520Mi"
    verdict = admission_verdict(resource(spec))
    assert not verdict.allowed
    assert verdict.message.startswith("spec.sizing.needs.taskHeap, spec.sizing.needs.managed: the layout of")
    assert verdict.message.endswith("Fix: raise spec.resources.memory from 4Gi to 11520Mi")
    assert plan.sizing is not None
    assert not plan.sizing.met


def test_a_need_neither_flink_nor_kubernetes_reads_is_named_alone() -> None:
    plan = derive_memory_plan({"sizing": {"needs": {"taskHeap": "lots", "managed": "1g"}}})
    assert [(conflict.reason, conflict.fields) for conflict in plan.conflicts] == [
        ("InvalidNeed", ["spec.sizing.needs.taskHeap"])
    ]


def test_an_unknown_need_is_a_schema_error_naming_it() -> None:
    verdict = admission_verdict(resource({"sizing": {"needs": {"heap": "1g"}}}))
    assert not verdict.allowed
    assert verdict.message.startswith("spec.sizing.needs.heap: Extra inputs are not permitted")


def test_needs_flink_refuses_at_every_size_are_unmeetable_with_flinks_reason() -> None:
    plan = derive_memory_plan(
        {
            "flinkConfiguration": {"taskmanager.memory.network.fraction": "2"},
            "sizing": {"needs": {"taskHeap": "1g"}},
        }
    )
    (conflict,) = plan.conflicts
    assert conflict.reason == "NeedsUnmeetable"
    assert "whatever its size: Inconsistently configured" in conflict.message


def test_without_needs_there_is_no_sizing_status() -> None:
    assert derive_memory_plan({"resources": {"memory": "4Gi"}}).sizing is None
