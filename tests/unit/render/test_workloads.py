"""Workload writes touch only the TaskManager's resources, in a patch every other writer's fields survive."""

from __future__ import annotations

from typing import Any

import pytest

from flink_tm_memory.api.v1alpha1 import PodResources
from flink_tm_memory.render.plan import MemoryPlan
from flink_tm_memory.render.pod_resources import render_pod_resources
from flink_tm_memory.render.workloads import (
    FlinkDeploymentResources,
    flink_deployment_memory,
    plan_container_write,
    plan_flink_deployment_write,
    render_flink_deployment_resources,
    select_container,
)
from flink_tm_memory.render.writes import (
    MERGE_PATCH,
    STRATEGIC_MERGE_PATCH,
    Absent,
    Patch,
    Refused,
    Unchanged,
)
from tests.unit.render.conftest import PROCESS_SIZE, plan_of


@pytest.fixture
def resources(valid_plan: MemoryPlan) -> PodResources:
    assert valid_plan.layout is not None
    return render_pod_resources(valid_plan.layout, 1.0, 1.0)


def workload(*containers: dict[str, Any]) -> dict[str, Any]:
    return {
        "metadata": {"resourceVersion": "7"},
        "spec": {"template": {"spec": {"containers": list(containers)}}},
    }


def test_the_patch_names_the_container_and_its_four_quantities_only(resources: PodResources) -> None:
    decision = plan_container_write(workload({"name": "sidecar"}, {"name": "taskmanager"}), None, resources)
    assert decision == Patch(
        {
            "metadata": {"resourceVersion": "7"},
            "spec": {
                "template": {
                    "spec": {
                        "containers": [
                            {
                                "name": "taskmanager",
                                "resources": {
                                    "requests": {"memory": "4Gi", "cpu": "2"},
                                    "limits": {"memory": "4Gi", "cpu": "2"},
                                },
                            }
                        ]
                    }
                }
            },
        },
        STRATEGIC_MERGE_PATCH,
        container="taskmanager",
    )


def test_a_container_holding_the_values_in_another_spelling_is_left_alone(resources: PodResources) -> None:
    container = {
        "name": "taskmanager",
        "resources": {
            "requests": {"memory": "4096Mi", "cpu": "2000m"},
            "limits": {"memory": "4294967296", "cpu": 2},
        },
    }
    assert plan_container_write(workload(container), None, resources) == Unchanged(container="taskmanager")


def test_an_absent_workload_is_nothing_to_write(resources: PodResources) -> None:
    assert plan_container_write(None, "taskmanager", resources) == Absent()


@pytest.mark.parametrize(
    ("names", "wanted", "chosen"),
    [
        (["a", "taskmanager", "flink-main-container"], None, "flink-main-container"),
        (["a", "taskmanager"], None, "taskmanager"),
        (["only"], None, "only"),
        (["a", "b"], "b", "b"),
    ],
)
def test_the_taskmanager_container_is_the_named_then_flinks_default_then_the_only_one(
    names: list[str], wanted: str | None, chosen: str
) -> None:
    assert select_container(names, wanted) == chosen


def test_a_named_container_that_is_not_there_is_refused_with_the_names_there_are() -> None:
    assert select_container(["a", "b"], "tm") == Refused(
        "The pod template has no container named tm (it has: a, b)."
    )


def test_several_containers_and_no_default_name_is_refused_not_guessed() -> None:
    refused = select_container(["a", "b"], None)
    assert isinstance(refused, Refused)
    assert "name the TaskManager container in the target's container field" in refused.message


@pytest.mark.parametrize(
    ("size", "text"), [(4 << 30, "4Gi"), (1728 << 20, "1728Mi"), (1500 * 10**6, "1500000000"), (1000, "1000")]
)
def test_a_flinkdeployment_size_is_never_written_with_a_decimal_suffix_flink_would_misread(
    size: int, text: str
) -> None:
    assert flink_deployment_memory(size) == text


def flink_resources(spec: dict[str, Any]) -> FlinkDeploymentResources:
    plan = plan_of(spec)
    assert plan.layout is not None
    assert plan.spec is not None
    assert plan.resolved is not None
    return render_flink_deployment_resources(plan.layout, plan.spec, plan.resolved)


def test_a_flinkdeployment_gets_the_pins_but_not_flinks_default_external_resources() -> None:
    wanted = flink_resources({"flinkConfiguration": {PROCESS_SIZE: "3g"}})
    assert (wanted.memory, wanted.cpu) == ("3Gi", 1.0)
    assert wanted.options["taskmanager.numberOfTaskSlots"] == "1"
    assert "external-resources" not in wanted.options


def test_only_the_limit_factors_the_spec_sets_are_written_to_a_flinkdeployment() -> None:
    wanted = flink_resources(
        {"flinkConfiguration": {PROCESS_SIZE: "3g"}, "resources": {"memoryLimitFactor": 1.25}}
    )
    assert wanted.options["kubernetes.taskmanager.memory.limit-factor"] == "1.25"
    assert "kubernetes.taskmanager.cpu.limit-factor" not in wanted.options


def test_a_flinkdeployment_patch_is_a_merge_patch_of_the_changed_keys() -> None:
    wanted = FlinkDeploymentResources(memory="3Gi", cpu=1.0, options={"a": "1", "b": "2"})
    current = {
        "metadata": {"resourceVersion": "9"},
        "spec": {
            "taskManager": {"resource": {"memory": "3g", "cpu": 1}},
            "flinkConfiguration": {"a": "1", "c": "x"},
        },
    }
    assert plan_flink_deployment_write(current, wanted) == Patch(
        {"metadata": {"resourceVersion": "9"}, "spec": {"flinkConfiguration": {"b": "2"}}}, MERGE_PATCH
    )


def test_a_flinkdeployment_already_sized_is_left_alone() -> None:
    wanted = FlinkDeploymentResources(memory="3Gi", cpu=1.5, options={"a": "1"})
    current = {
        "spec": {
            "taskManager": {"resource": {"memory": "3072m", "cpu": 1.5}},
            "flinkConfiguration": {"a": "1"},
        }
    }
    assert plan_flink_deployment_write(current, wanted) == Unchanged()
