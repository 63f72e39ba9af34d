"""OOMKilled attribution and its fixes (``render.oom``): the budget, the evidence, engine-checked fixes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flink_tm_memory.render.oom import MIB, applied_fix, attribute, room_wanted
from flink_tm_memory.render.oom_pods import ContainerFacts
from flink_tm_memory.render.plan import derive_memory_plan
from flink_tm_memory.render.pod_resources import container_resources, render_pod_resources
from flink_tm_memory.render.status import StatusInput, render_status

GIB = 1 << 30
PROCESS = "taskmanager.memory.process.size"


def facts(limit: str | None = "4Gi", request: str | None = "4Gi", **more: Any) -> ContainerFacts:
    return ContainerFacts(
        limit=limit,
        request=request,
        flink_properties=more.get("flink_properties"),
        arguments=tuple(more.get("arguments", ())),
    )


def status_of(spec: dict[str, Any]) -> dict[str, Any]:
    """The status the operator writes for ``spec`` (its layout and pod resources)."""
    plan = derive_memory_plan(spec)
    assert plan.layout is not None
    assert plan.resolved is not None
    resources = render_pod_resources(plan.layout, plan.resolved.memory_limit_factor, 1.0)
    return render_status(
        StatusInput(
            generation=1,
            current=plan,
            effective=plan,
            effective_generation=1,
            pod_resources=resources,
            outcome=None,
            previous={},
            now=datetime(2026, 12, 7, tzinfo=UTC),
        )
    )


def ran_facts(spec: dict[str, Any]) -> ContainerFacts:
    """What a pod that ran the operator's layout for ``spec`` carries."""
    status = status_of(spec)
    amounts = container_resources(
        render_pod_resources(
            derive_memory_plan(spec).layout,  # type: ignore[arg-type]
            derive_memory_plan(spec).resolved.memory_limit_factor,  # type: ignore[union-attr]
            1.0,
        )
    )
    assert status["podResources"]
    layout = derive_memory_plan(spec).layout
    assert layout is not None
    # As the mutating webhook writes them: every pinned option, one `key: value` line each.
    properties = "\n".join(f"{key}: {value}" for key, value in layout.pinned_options().items())
    return facts(
        limit=amounts["limits"]["memory"], request=amounts["requests"]["memory"], flink_properties=properties
    )


def test_hashmap_budget_is_the_jvm_overhead_and_the_fix_pins_it_keeping_every_cap() -> None:
    spec = {"flinkConfiguration": {PROCESS: "4g"}}
    found = attribute(spec, status_of(spec), ran_facts(spec), restart_count=3, kills_of_pod=2)
    layout = derive_memory_plan(spec).layout
    assert layout is not None
    assert found.budget == "JVM overhead"
    assert found.budget_bytes == layout.jvm_overhead_bytes
    assert found.ran_derived_layout is True
    assert any("state backend: hashmap" in line for line in found.evidence)
    assert any("restartCount 3; 2 OOM kills of this pod" in line for line in found.evidence)
    assert any("the limit equals the process size" in line for line in found.evidence)
    fix = found.fixes[0]
    assert set(fix.flink_configuration) == {
        "taskmanager.memory.jvm-overhead.min",
        "taskmanager.memory.jvm-overhead.max",
        PROCESS,
    }
    after = derive_memory_plan(applied_fix(spec, fix.flink_configuration, {})).layout
    assert after is not None
    assert (after.jvm_heap_bytes, after.jvm_direct_bytes, after.managed_bytes, after.jvm_metaspace_bytes) == (
        layout.jvm_heap_bytes,
        layout.jvm_direct_bytes,
        layout.managed_bytes,
        layout.jvm_metaspace_bytes,
    )
    assert after.jvm_overhead_bytes - layout.jvm_overhead_bytes >= room_wanted(found.budget_bytes, 0.25)
    assert after.total_process_bytes % MIB == 0  # the process size stays a whole MiB


def test_rocksdb_counts_managed_memory_in_the_budget() -> None:
    spec = {"flinkConfiguration": {PROCESS: "4g", "state.backend.type": "rocksdb"}}
    found = attribute(spec, status_of(spec), ran_facts(spec), restart_count=0, kills_of_pod=1)
    layout = derive_memory_plan(spec).layout
    assert layout is not None
    assert found.budget == "JVM overhead + managed (RocksDB)"
    assert found.budget_bytes == layout.jvm_overhead_bytes + layout.managed_bytes


def test_forst_from_the_spec_field() -> None:
    spec = {
        "flinkVersion": "2.2",
        "flinkConfiguration": {PROCESS: "4g"},
        "consumers": {"stateBackend": "forst"},
    }
    found = attribute(spec, status_of(spec), ran_facts(spec), restart_count=0, kills_of_pod=1)
    assert found.budget == "JVM overhead + managed (ForSt)"
    assert any("spec.consumers.stateBackend" in line for line in found.evidence)


def test_limit_factor_room_is_part_of_the_budget() -> None:
    spec = {"flinkConfiguration": {PROCESS: "2g"}, "resources": {"memoryLimitFactor": 1.5}}
    found = attribute(spec, status_of(spec), ran_facts(spec), restart_count=0, kills_of_pod=1)
    layout = derive_memory_plan(spec).layout
    assert layout is not None
    assert found.budget_bytes == layout.jvm_overhead_bytes + GIB
    assert any("beyond the process size" in line for line in found.evidence)
    assert any("limit / request = 1.50" in line for line in found.evidence)


def test_a_pod_that_did_not_run_the_layout_gets_no_fix() -> None:
    spec = {"flinkConfiguration": {PROCESS: "4g"}}
    found = attribute(
        spec, status_of(spec), facts(limit="3Gi", request="3Gi"), restart_count=0, kills_of_pod=1
    )
    assert found.ran_derived_layout is False
    assert found.fixes == []
    assert any("did not run the layout" in line and "3Gi" in line for line in found.evidence)


def test_pinned_options_that_are_not_sizes_are_compared_as_numbers() -> None:
    spec = {
        "flinkConfiguration": {
            PROCESS: "1g",
            "taskmanager.cpu.cores": 0.25,
            "taskmanager.numberOfTaskSlots": 2,
        }
    }
    ran = ran_facts(spec)
    webhook = "taskmanager.cpu.cores: 0.25\ntaskmanager.numberOfTaskSlots: 2"
    same = facts(limit=ran.limit, request=ran.request, flink_properties=webhook)
    assert attribute(spec, status_of(spec), same, restart_count=0, kills_of_pod=1).ran_derived_layout is True
    other = facts(limit=ran.limit, request=ran.request, flink_properties="taskmanager.cpu.cores: 0.5")
    assert (
        attribute(spec, status_of(spec), other, restart_count=0, kills_of_pod=1).ran_derived_layout is False
    )


def test_a_pinned_option_that_differs_means_another_layout() -> None:
    spec = {"flinkConfiguration": {PROCESS: "4g"}}
    ran = ran_facts(spec)
    other = facts(
        limit=ran.limit, request=ran.request, flink_properties="taskmanager.memory.task.heap.size: 1g"
    )
    found = attribute(spec, status_of(spec), other, restart_count=0, kills_of_pod=1)
    assert found.ran_derived_layout is False
    same = facts(
        limit=ran.limit,
        request=ran.request,
        flink_properties="taskmanager.cpu.cores: 1.0\nenv.java.opts.taskmanager: -Xss1m\nnot a line",
        arguments=["-Dtaskmanager.memory.jvm-metaspace.size=256m", "-D", "taskmanager.numberOfTaskSlots=1"],
    )
    assert attribute(spec, status_of(spec), same, restart_count=0, kills_of_pod=1).ran_derived_layout is True


def test_a_limit_below_the_process_size_is_said_and_gets_no_fix() -> None:
    spec = {"flinkConfiguration": {PROCESS: "4g"}}
    found = attribute(spec, {}, facts(limit="2Gi", request="2Gi"), restart_count=0, kills_of_pod=1)
    assert any("below the process size" in line for line in found.evidence)
    assert found.fixes == []


def test_no_limit_means_the_node_ran_out() -> None:
    spec = {"flinkConfiguration": {PROCESS: "4g"}}
    found = attribute(spec, {}, facts(limit=None, request=None), restart_count=0, kills_of_pod=1)
    assert any("no memory limit" in line for line in found.evidence)
    assert all(fix.resources is None or fix.resources.memory_limit_factor is None for fix in found.fixes)


def test_a_spec_with_conflicts_is_attributed_without_a_fix() -> None:
    spec = {"flinkConfiguration": {PROCESS: "1g", "taskmanager.memory.task.heap.size": "4g"}}
    found = attribute(spec, {}, facts(), restart_count=0, kills_of_pod=1)
    assert found.fixes == []
    assert found.ran_derived_layout is None
    assert any("conflicts" in line for line in found.evidence)


def test_resources_memory_is_changed_as_a_quantity() -> None:
    spec = {"resources": {"memory": "4Gi"}}
    found = attribute(spec, status_of(spec), ran_facts(spec), restart_count=0, kills_of_pod=1)
    fix = found.fixes[0]
    assert fix.resources is not None
    assert fix.resources.memory == "4199Mi"
    assert "spec.resources.memory from 4Gi to 4199Mi" in fix.summary
    assert "spec.resources.memory" in fix.fields


def test_without_a_fixed_process_size_the_overhead_grows_alone() -> None:
    spec = {
        "flinkConfiguration": {
            "taskmanager.memory.task.heap.size": "1g",
            "taskmanager.memory.managed.size": "1g",
        }
    }
    found = attribute(spec, status_of(spec), ran_facts(spec), restart_count=0, kills_of_pod=1)
    fix = found.fixes[0]
    assert set(fix.flink_configuration) == {
        "taskmanager.memory.jvm-overhead.min",
        "taskmanager.memory.jvm-overhead.max",
    }
    assert fix.flink_configuration["taskmanager.memory.jvm-overhead.min"].endswith("m")


def test_the_step_is_read_from_the_spec() -> None:
    small = {"flinkConfiguration": {PROCESS: "4g"}, "oomKills": {"step": 0.1}}
    large = {"flinkConfiguration": {PROCESS: "4g"}, "oomKills": {"step": 1}}
    fix_small = attribute(small, status_of(small), ran_facts(small), restart_count=0, kills_of_pod=1).fixes[0]
    fix_large = attribute(large, status_of(large), ran_facts(large), restart_count=0, kills_of_pod=1).fixes[0]
    assert fix_small.budget_bytes is not None
    assert fix_large.budget_bytes is not None
    assert fix_small.budget_bytes < fix_large.budget_bytes


@pytest.mark.parametrize("step", [0, -0.5, 5, "25%", True])
def test_a_bad_step_is_a_conflict_naming_the_field(step: object) -> None:
    plan = derive_memory_plan({"oomKills": {"step": step}})
    assert plan.conflicts
    assert any("oomKills.step" in " ".join(conflict.fields) + conflict.message for conflict in plan.conflicts)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    process_mib=st.integers(min_value=1024, max_value=64 * 1024),
    backend=st.sampled_from([None, "hashmap", "rocksdb", "forst"]),
    factor=st.sampled_from([None, 1.0, 1.25, 2.0]),
    step=st.sampled_from([0.05, 0.25, 0.5, 1.0, 3.0]),
    version=st.sampled_from(["1.17", "1.20", "2.2"]),
)
def test_every_fix_is_accepted_by_the_engine_and_gives_the_room(
    process_mib: int, backend: str | None, factor: float | None, step: float, version: str
) -> None:
    configuration: dict[str, Any] = {PROCESS: f"{process_mib}m"}
    if backend is not None and not (backend == "forst" and version != "2.2"):
        configuration["state.backend.type"] = backend
    spec: dict[str, Any] = {
        "flinkVersion": version,
        "flinkConfiguration": configuration,
        "oomKills": {"step": step},
    }
    if factor is not None:
        spec["resources"] = {"memoryLimitFactor": factor}
    found = attribute(spec, status_of(spec), ran_facts(spec), restart_count=1, kills_of_pod=1)
    assert found.fixes, found.evidence
    before_plan = derive_memory_plan(spec)
    assert before_plan.layout is not None
    assert before_plan.resolved is not None
    room = room_wanted(found.budget_bytes, step)
    for fix in found.fixes:
        resources = fix.resources.to_manifest() if fix.resources is not None else {}
        after_plan = derive_memory_plan(applied_fix(spec, fix.flink_configuration, resources))
        assert after_plan.layout is not None, (fix.summary, after_plan.conflicts)
        assert not after_plan.conflicts
        assert fix.budget_bytes is not None
        assert fix.budget_bytes - found.budget_bytes >= room
        assert fix.budget_bytes - found.budget_bytes >= step * found.budget_bytes
    overhead_fix = found.fixes[0]
    after = derive_memory_plan(applied_fix(spec, overhead_fix.flink_configuration, {})).layout
    assert after is not None
    assert "JVM overhead" in overhead_fix.summary
    layout = before_plan.layout
    assert after.jvm_heap_bytes == layout.jvm_heap_bytes
    assert after.managed_bytes == layout.managed_bytes
