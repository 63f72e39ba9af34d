"""A resource writes only what is its own: foreign objects opt in, and two resources never share one.

The confused deputy of issue 14: whoever may create a FlinkTaskManagerMemory could make the operator
overwrite any ConfigMap of the namespace and resize any workload there. Now a ConfigMap or workload
the operator did not create is written only when it carries ``flinkmemory.io/memory: <name>``; a
ConfigMap it created belongs to the resource it created it for. A refusal is a condition naming the
object and the annotation to add, and a Warning Event; the other targets are still written.
"""

from __future__ import annotations

import asyncio
import copy
from typing import Any

from flink_tm_memory.render.claims import OPT_IN_ANNOTATION
from tests.integration.conftest import StartOperator
from tests.integration.emulator import ApiEmulator
from tests.integration.kubectl import (
    CONFIG_MAPS,
    DEPLOYMENTS,
    MEMORIES,
    Json,
    Kubectl,
    deployment,
    eventually,
    observed,
    ready,
    sample,
)

TASKMANAGER = {"name": "taskmanager", "image": "flink"}
FOREIGN_DATA = {"application.properties": "owned by the payments team", "config.yaml": "theirs: true"}


def foreign_config_map(**metadata: object) -> Json:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "flink-config", **metadata},
        "data": dict(FOREIGN_DATA),
    }


def second(name: str) -> Json:
    """The deployment-target sample under another name: the same ConfigMap and Deployment."""
    manifest = copy.deepcopy(sample("deployment-target"))
    manifest["metadata"]["name"] = name
    return manifest


def _warnings(kubectl: Kubectl, name: str, reason: str) -> list[Json]:
    return [
        event for event in kubectl.events(name) if event["reason"] == reason and event["type"] == "Warning"
    ]


async def test_a_foreign_configmap_is_not_overwritten_until_it_opts_in(
    operator: object, kubectl: Kubectl, emulator: ApiEmulator
) -> None:
    await kubectl.create(CONFIG_MAPS, foreign_config_map())
    await kubectl.create(
        DEPLOYMENTS, deployment("flink-taskmanager", [TASKMANAGER], for_memory="deployment-target")
    )
    await kubectl.create(MEMORIES, sample("deployment-target"))
    status = await observed(kubectl, "deployment-target", 1)

    assert (kubectl.get(CONFIG_MAPS, "flink-config") or {})["data"] == FOREIGN_DATA
    assert emulator.operator_writes(CONFIG_MAPS) == []
    applied = kubectl.condition("deployment-target", "Applied")
    assert applied["status"] == "False"
    assert applied["reason"] == "NotOptedIn"
    assert f"add the annotation {OPT_IN_ANNOTATION}=deployment-target to it" in applied["message"]
    assert "ConfigMap flink-config" in applied["message"]
    assert kubectl.condition("deployment-target", "Ready")["status"] == "False"
    # the other target is still written
    assert status["applied"]["targets"][0]["state"] == "Applied"
    [warning] = await eventually(lambda: _warnings(kubectl, "deployment-target", "NotOptedIn"))
    assert "ConfigMap flink-config" in warning["message"]

    await kubectl.patch(
        CONFIG_MAPS, "flink-config", {"metadata": {"annotations": {OPT_IN_ANNOTATION: "deployment-target"}}}
    )
    await kubectl.patch(MEMORIES, "deployment-target", {"spec": {"resources": {"memory": "5Gi"}}})
    await ready(kubectl, "deployment-target")
    data = (kubectl.get(CONFIG_MAPS, "flink-config") or {})["data"]
    assert data["application.properties"] == FOREIGN_DATA["application.properties"]
    assert "taskmanager.memory.process.size" in data["config.yaml"]
    assert len(_warnings(kubectl, "deployment-target", "NotOptedIn")) == 1


async def test_a_foreign_deployment_is_not_resized_and_the_configmap_still_is(
    operator: object, kubectl: Kubectl, emulator: ApiEmulator
) -> None:
    await kubectl.create(DEPLOYMENTS, deployment("flink-taskmanager", [TASKMANAGER]))
    await kubectl.create(MEMORIES, sample("deployment-target"))
    status = await observed(kubectl, "deployment-target", 1)

    [target] = status["applied"]["targets"]
    assert target["state"] == "NotPermitted"
    assert f"{OPT_IN_ANNOTATION}=deployment-target" in target["message"]
    assert emulator.operator_writes(DEPLOYMENTS) == []
    assert kubectl.condition("deployment-target", "Applied")["reason"] == "NotOptedIn"
    assert kubectl.get(CONFIG_MAPS, "flink-config") is not None
    await eventually(lambda: _warnings(kubectl, "deployment-target", "NotOptedIn"))


async def test_two_resources_aimed_at_the_same_objects_the_second_is_refused_and_nothing_flaps(
    start_operator: StartOperator, kubectl: Kubectl, emulator: ApiEmulator
) -> None:
    first = await start_operator()
    await kubectl.create(
        DEPLOYMENTS, deployment("flink-taskmanager", [TASKMANAGER], for_memory="deployment-target")
    )
    await kubectl.create(MEMORIES, sample("deployment-target"))
    await ready(kubectl, "deployment-target")
    config_map = kubectl.get(CONFIG_MAPS, "flink-config") or {}
    [owner] = config_map["metadata"]["ownerReferences"]
    assert owner["name"] == "deployment-target"

    intruder = second("intruder")
    intruder["spec"]["resources"]["memory"] = "8Gi"
    await kubectl.create(MEMORIES, intruder)
    status = await observed(kubectl, "intruder", 1)
    assert kubectl.condition("intruder", "Applied")["reason"] == "ClaimedByAnother"
    assert (
        "belongs to FlinkTaskManagerMemory deployment-target"
        in kubectl.condition("intruder", "Applied")["message"]
    )
    [target] = status["applied"]["targets"]
    assert target["state"] == "NotPermitted"
    assert "opts in for FlinkTaskManagerMemory deployment-target" in target["message"]
    await eventually(lambda: _warnings(kubectl, "intruder", "ClaimedByAnother"))

    writes = len(emulator.operator_writes(CONFIG_MAPS)), len(emulator.operator_writes(DEPLOYMENTS))
    await asyncio.sleep(2.0)  # five drift rounds of both resources (drift_interval 0.4 s)
    assert (len(emulator.operator_writes(CONFIG_MAPS)), len(emulator.operator_writes(DEPLOYMENTS))) == writes
    await ready(kubectl, "deployment-target")
    assert kubectl.condition("deployment-target", "Ready")["status"] == "True"
    limits = (kubectl.get(DEPLOYMENTS, "flink-taskmanager") or {})["spec"]["template"]["spec"]["containers"][
        0
    ]
    assert limits["resources"]["limits"]["memory"] == "4Gi"

    # the claim is on the objects: a restarted operator refuses the intruder just the same
    await first.stop()
    await start_operator()
    await kubectl.patch(MEMORIES, "intruder", {"spec": {"resources": {"memory": "9Gi"}}})
    await observed(kubectl, "intruder", 2)
    assert kubectl.condition("intruder", "Applied")["reason"] == "ClaimedByAnother"
    assert len(emulator.operator_writes(DEPLOYMENTS)) == writes[1]


async def test_a_configmap_of_a_deleted_resource_is_free_again(operator: object, kubectl: Kubectl) -> None:
    await kubectl.create(MEMORIES, sample("deployment-target"))
    await observed(kubectl, "deployment-target", 1)
    await kubectl.create(MEMORIES, second("successor"))
    await observed(kubectl, "successor", 1)
    assert kubectl.condition("successor", "Applied")["reason"] == "ClaimedByAnother"

    await kubectl.delete(MEMORIES, "deployment-target")  # the garbage collector takes its ConfigMap
    await kubectl.patch(MEMORIES, "successor", {"spec": {"resources": {"memory": "5Gi"}}})

    def owned_by_successor() -> bool:
        metadata = (kubectl.get(CONFIG_MAPS, "flink-config") or {}).get("metadata") or {}
        owners: list[dict[str, Any]] = metadata.get("ownerReferences") or []
        return bool(owners) and owners[0]["name"] == "successor"

    await eventually(owned_by_successor, what="the successor's ConfigMap")
