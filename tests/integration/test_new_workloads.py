"""A workload created after the resource that targets it is sized within moments, not at the drift check.

The operator runs with a drift interval of an hour, so only the workload watch can size a workload
that appears later; the tests wait for the stored workload to hold the derived resources (an
event-based wait on the emulator's store, bounded by a generous deadline), never measure time. A
workload that no resource targets is not read, not written and not logged about.
"""

from __future__ import annotations

import copy
import logging

import pytest

from tests.integration.conftest import StartOperator
from tests.integration.emulator import ApiEmulator
from tests.integration.kubectl import (
    DEPLOYMENTS,
    FLINK_DEPLOYMENTS,
    MEMORIES,
    STATEFUL_SETS,
    Json,
    Kubectl,
    deployment,
    eventually,
    sample,
)
from tests.integration.test_targets import FLINK_DEPLOYMENT, TASKMANAGER

HOUR = 3600.0
SIZED = {"memory": "4Gi", "cpu": "2"}


def taskmanager_resources(kubectl: Kubectl, resource: str, name: str) -> Json | None:
    body = kubectl.get(resource, name)
    if body is None:
        return None
    if resource == FLINK_DEPLOYMENTS:
        found: Json = body["spec"]["taskManager"]["resource"]
        return found
    [container] = [c for c in body["spec"]["template"]["spec"]["containers"] if c["name"] == "taskmanager"]
    resources: Json | None = container.get("resources")
    return resources


def target_state(kubectl: Kubectl, name: str) -> str | None:
    targets = ((kubectl.get(MEMORIES, name) or {}).get("status") or {}).get("applied", {}).get(
        "targets"
    ) or []
    return targets[0]["state"] if targets else None


@pytest.mark.parametrize(
    ("sample_name", "resource", "workload"),
    [
        ("deployment-target", DEPLOYMENTS, deployment("flink-taskmanager", [copy.deepcopy(TASKMANAGER)])),
        (
            "statefulset-target",
            STATEFUL_SETS,
            deployment("flink-taskmanager", [copy.deepcopy(TASKMANAGER)], kind="StatefulSet"),
        ),
        ("flinkdeployment-target", FLINK_DEPLOYMENTS, copy.deepcopy(FLINK_DEPLOYMENT)),
    ],
    ids=["Deployment", "StatefulSet", "FlinkDeployment"],
)
async def test_a_workload_created_after_its_resource_is_sized_without_waiting_for_the_drift_check(
    start_operator: StartOperator, kubectl: Kubectl, sample_name: str, resource: str, workload: Json
) -> None:
    await start_operator(drift_interval=HOUR)
    memory = sample(sample_name)
    [target] = memory["spec"]["targets"]["workloads"]
    workload["metadata"]["name"] = target["name"]
    await kubectl.create(MEMORIES, memory)
    await eventually(
        lambda: target_state(kubectl, sample_name) == "Missing", what="the target reported missing"
    )

    await kubectl.create(resource, workload)

    def sized() -> Json | None:
        found = taskmanager_resources(kubectl, resource, target["name"])
        if resource == FLINK_DEPLOYMENTS:
            return found if found and found.get("memory") != "2g" else None
        return found if found and found.get("requests", {}).get("memory") != "1Gi" else None

    await eventually(sized, timeout=10.0, what=f"the new {workload['kind']} sized")
    await eventually(lambda: target_state(kubectl, sample_name) == "Applied", what="the status caught up")


async def test_a_workload_nobody_targets_is_neither_read_nor_written_nor_logged(
    start_operator: StartOperator, kubectl: Kubectl, emulator: ApiEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    await start_operator(drift_interval=HOUR)
    await kubectl.create(MEMORIES, sample("deployment-target"))
    await eventually(
        lambda: target_state(kubectl, "deployment-target") == "Missing", what="the target missing"
    )
    await kubectl.create(DEPLOYMENTS, deployment("someone-elses", [copy.deepcopy(TASKMANAGER)]))
    await kubectl.create(DEPLOYMENTS, deployment("flink-taskmanager", [copy.deepcopy(TASKMANAGER)]))
    await eventually(
        lambda: (
            (taskmanager_resources(kubectl, DEPLOYMENTS, "flink-taskmanager") or {})
            .get("requests", {})
            .get("memory")
            == SIZED["memory"]
        ),
        what="the targeted Deployment sized",
    )  # it was created after the other one: that one's event has been through the operator too

    assert taskmanager_resources(kubectl, DEPLOYMENTS, "someone-elses") == TASKMANAGER["resources"]
    named = [request for request in emulator if "/deployments/someone-elses" in str(request.url)]
    assert named == []
    assert [r.getMessage() for r in caplog.records if "someone-elses" in r.getMessage()] == []


async def test_a_retargeted_resource_watches_its_new_workload_and_forgets_the_old_one(
    start_operator: StartOperator, kubectl: Kubectl, emulator: ApiEmulator
) -> None:
    await start_operator(drift_interval=HOUR)
    await kubectl.create(MEMORIES, sample("deployment-target"))
    await eventually(
        lambda: target_state(kubectl, "deployment-target") == "Missing", what="the target missing"
    )
    retargeted = {"kind": "Deployment", "name": "flink-taskmanager-v2", "container": "taskmanager"}
    await kubectl.patch(MEMORIES, "deployment-target", {"spec": {"targets": {"workloads": [retargeted]}}})
    await eventually(
        lambda: (
            (kubectl.get(MEMORIES, "deployment-target") or {}).get("status", {}).get("observedGeneration")
            == 2
        ),
        what="the new generation reconciled",
    )

    await kubectl.create(DEPLOYMENTS, deployment("flink-taskmanager", [copy.deepcopy(TASKMANAGER)]))
    await kubectl.create(DEPLOYMENTS, deployment("flink-taskmanager-v2", [copy.deepcopy(TASKMANAGER)]))
    await eventually(
        lambda: (
            (taskmanager_resources(kubectl, DEPLOYMENTS, "flink-taskmanager-v2") or {})
            .get("requests", {})
            .get("memory")
            == SIZED["memory"]
        ),
        what="the new target sized",
    )
    assert taskmanager_resources(kubectl, DEPLOYMENTS, "flink-taskmanager") == TASKMANAGER["resources"]
    assert [
        r
        for r in emulator.operator_writes(DEPLOYMENTS)
        if "/flink-taskmanager?" in str(r.url) or str(r.url).endswith("/flink-taskmanager")
    ] == []
