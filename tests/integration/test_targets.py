"""Workload targets get the TaskManager resources, and nothing else of theirs changes."""

from __future__ import annotations

import copy

from tests.integration.conftest import StartOperator
from tests.integration.emulator import ApiEmulator
from tests.integration.kubectl import (
    CONFIG_MAPS,
    DEPLOYMENTS,
    FLINK_DEPLOYMENTS,
    MEMORIES,
    STATEFUL_SETS,
    Json,
    Kubectl,
    deployment,
    eventually,
    observed,
    opt_in,
    ready,
    sample,
)

TASKMANAGER = {
    "name": "taskmanager",
    "image": "flink:2.2",
    "env": [{"name": "ENABLE_BUILT_IN_PLUGINS", "value": "flink-s3-fs-presto.jar"}],
    "resources": {
        "requests": {"ephemeral-storage": "10Gi", "memory": "1Gi"},
        "limits": {"nvidia.com/gpu": "1"},
    },
}
SIDECAR = {"name": "log-shipper", "image": "fluent-bit", "resources": {"requests": {"memory": "64Mi"}}}
FLINK_DEPLOYMENT: Json = {
    "apiVersion": "flink.apache.org/v1beta1",
    "kind": "FlinkDeployment",
    "metadata": {"name": "orders-job", **opt_in("flinkdeployment-target")},
    "spec": {
        "image": "flink:1.20",
        "flinkVersion": "v1_20",
        "flinkConfiguration": {"state.backend.type": "rocksdb", "execution.checkpointing.interval": "60s"},
        "jobManager": {"resource": {"memory": "2048m", "cpu": 1}},
        "taskManager": {"replicas": 3, "resource": {"memory": "2g", "cpu": 2, "ephemeralStorage": "20Gi"}},
        "job": {"jarURI": "local:///opt/flink/usrlib/orders.jar", "parallelism": 6},
    },
}


async def test_a_deployment_container_gets_requests_and_limits_and_nothing_else_changes(
    operator: object, kubectl: Kubectl, emulator: ApiEmulator
) -> None:
    await kubectl.create(
        DEPLOYMENTS,
        deployment(
            "flink-taskmanager",
            [copy.deepcopy(SIDECAR), copy.deepcopy(TASKMANAGER)],
            for_memory="deployment-target",
        ),
    )
    before = kubectl.get(DEPLOYMENTS, "flink-taskmanager") or {}
    await kubectl.create(MEMORIES, sample("deployment-target"))
    status = await ready(kubectl, "deployment-target")

    after = kubectl.get(DEPLOYMENTS, "flink-taskmanager") or {}
    sidecar, taskmanager = after["spec"]["template"]["spec"]["containers"]
    assert taskmanager["resources"] == {
        "requests": {"ephemeral-storage": "10Gi", "memory": "4Gi", "cpu": "2"},
        "limits": {"nvidia.com/gpu": "1", "memory": "4Gi", "cpu": "2"},
    }
    assert {**taskmanager, "resources": None} == {**TASKMANAGER, "resources": None}
    assert sidecar == SIDECAR
    assert _without_resources(after) == _without_resources(before)
    assert kubectl.get(CONFIG_MAPS, "flink-config") is not None
    [target] = status["applied"]["targets"]
    assert target == {
        "kind": "Deployment",
        "name": "flink-taskmanager",
        "container": "taskmanager",
        "state": "Applied",
        "generation": 1,
    }
    assert [request.headers["Content-Type"] for request in emulator.operator_writes(DEPLOYMENTS)] == [
        "application/strategic-merge-patch+json"
    ]


async def test_a_statefulset_without_a_named_container_gets_flinks_default_one(
    operator: object, kubectl: Kubectl
) -> None:
    containers = [
        {"name": "init-helper", "image": "busybox"},
        {"name": "flink-main-container", "image": "flink"},
    ]
    await kubectl.create(
        STATEFUL_SETS,
        deployment("flink-taskmanager", containers, kind="StatefulSet", for_memory="statefulset-target"),
    )
    await kubectl.create(MEMORIES, sample("statefulset-target"))
    await ready(kubectl, "statefulset-target")

    helper, main = (kubectl.get(STATEFUL_SETS, "flink-taskmanager") or {})["spec"]["template"]["spec"][
        "containers"
    ]
    assert "resources" not in helper
    assert main["resources"] == {
        "requests": {"memory": "6Gi", "cpu": "1500m"},
        "limits": {"memory": "9Gi", "cpu": "1500m"},
    }


async def test_a_flinkdeployment_gets_its_taskmanager_resource_and_pinned_options_only(
    operator: object, kubectl: Kubectl
) -> None:
    await kubectl.create(FLINK_DEPLOYMENTS, copy.deepcopy(FLINK_DEPLOYMENT))
    await kubectl.create(MEMORIES, sample("flinkdeployment-target"))
    status = await ready(kubectl, "flinkdeployment-target")

    spec = (kubectl.get(FLINK_DEPLOYMENTS, "orders-job") or {})["spec"]
    assert spec["taskManager"] == {
        "replicas": 3,
        "resource": {"memory": "3Gi", "cpu": 1.0, "ephemeralStorage": "20Gi"},
    }
    assert spec["jobManager"] == FLINK_DEPLOYMENT["spec"]["jobManager"]
    assert spec["job"] == FLINK_DEPLOYMENT["spec"]["job"]
    options = spec["flinkConfiguration"]
    assert options["state.backend.type"] == "rocksdb"
    assert options["execution.checkpointing.interval"] == "60s"
    assert options["taskmanager.memory.jvm-metaspace.size"] == f"{384 << 20}b"
    assert options["taskmanager.memory.managed.size"] == f"{status['breakdown']['managed']}b"
    assert options["taskmanager.numberOfTaskSlots"] == "2"
    assert "external-resources" not in options


async def test_a_missing_target_is_reported_and_written_when_it_appears(
    operator: object, kubectl: Kubectl
) -> None:
    await kubectl.create(MEMORIES, sample("deployment-target"))
    status = await observed(kubectl, "deployment-target", 1)

    assert kubectl.get(CONFIG_MAPS, "flink-config") is not None
    assert status["applied"]["targets"][0]["state"] == "Missing"
    assert kubectl.condition("deployment-target", "Applied")["reason"] == "TargetMissing"
    assert kubectl.condition("deployment-target", "Ready")["status"] == "False"
    warning = await eventually(lambda: _events(kubectl, "TargetMissing"))
    assert warning[0]["type"] == "Warning"

    await kubectl.create(
        DEPLOYMENTS,
        deployment("flink-taskmanager", [copy.deepcopy(TASKMANAGER)], for_memory="deployment-target"),
    )

    status = await ready(kubectl, "deployment-target")
    assert status["applied"]["targets"][0]["state"] == "Applied"
    await eventually(lambda: _events(kubectl, "WorkloadUpdated"))


async def test_a_flinkdeployment_target_on_a_cluster_without_its_crd_says_the_kind_is_not_served(
    start_operator: StartOperator, kubectl: Kubectl, emulator: ApiEmulator
) -> None:
    del emulator.resources[FLINK_DEPLOYMENTS]  # the Flink Kubernetes Operator is not installed
    await start_operator()
    await kubectl.create(MEMORIES, sample("flinkdeployment-target"))
    status = await observed(kubectl, "flinkdeployment-target", 1)

    [target] = status["applied"]["targets"]
    assert target["state"] == "Missing"
    expected = (
        "FlinkDeployment orders-job cannot be written: this cluster does not serve the kind FlinkDeployment "
        "(flinkdeployments.flink.apache.org/v1beta1); install its CRD (the Flink Kubernetes Operator's) or "
        "target the TaskManager Deployment instead."
    )
    assert target["message"] == expected
    applied = kubectl.condition("flinkdeployment-target", "Applied")
    assert (applied["reason"], applied["message"]) == ("KindNotServed", expected)
    [warning] = await eventually(lambda: _events(kubectl, "KindNotServed"))
    assert (warning["type"], warning["message"]) == ("Warning", expected)


async def test_a_pod_template_without_the_named_container_is_reported_not_guessed(
    operator: object, kubectl: Kubectl, emulator: ApiEmulator
) -> None:
    await kubectl.create(
        DEPLOYMENTS, deployment("flink-taskmanager", [copy.deepcopy(SIDECAR)], for_memory="deployment-target")
    )
    await kubectl.create(MEMORIES, sample("deployment-target"))
    status = await observed(kubectl, "deployment-target", 1)

    [target] = status["applied"]["targets"]
    assert target["state"] == "ContainerNotFound"
    assert target["message"] == "The pod template has no container named taskmanager (it has: log-shipper)."
    assert kubectl.condition("deployment-target", "Applied")["reason"] == "ContainerNotFound"
    assert emulator.operator_writes(DEPLOYMENTS) == []


def _without_resources(workload: Json) -> Json:
    stripped = copy.deepcopy(workload)
    stripped["metadata"].pop("resourceVersion")
    stripped["metadata"].pop("generation")
    for container in stripped["spec"]["template"]["spec"]["containers"]:
        container.pop("resources", None)
    return stripped


def _events(kubectl: Kubectl, reason: str) -> list[Json]:
    return [event for event in kubectl.events() if event["reason"] == reason]
