"""``updateMode: Off``: the layout is derived and reported, and nothing is written."""

from __future__ import annotations

import copy

from tests.integration.emulator import ApiEmulator
from tests.integration.kubectl import (
    CONFIG_MAPS,
    DEPLOYMENTS,
    MEMORIES,
    Kubectl,
    deployment,
    ready,
    sample,
    stays,
)


async def test_off_reports_the_recommendation_and_writes_nothing(
    operator: object, kubectl: Kubectl, emulator: ApiEmulator
) -> None:
    await kubectl.create(MEMORIES, sample("kubernetes-quantity"))
    status = await ready(kubectl, "kubernetes-quantity")

    assert status["podResources"]["requests"] == {"memory": "4Gi", "cpu": "2"}
    assert status["podResources"]["limits"] == {"memory": "5Gi", "cpu": "4"}
    assert kubectl.condition("kubernetes-quantity", "Ready")["reason"] == "Derived"
    assert kubectl.condition("kubernetes-quantity", "Applied")["reason"] == "UpdateModeOff"
    assert "applied" not in status
    await stays(lambda: kubectl.get(CONFIG_MAPS, "kubernetes-quantity-flink-tm-memory") is None, 0.5)
    assert emulator.operator_writes(CONFIG_MAPS) == []


async def test_off_leaves_existing_targets_alone_and_apply_writes_them(
    operator: object, kubectl: Kubectl, emulator: ApiEmulator
) -> None:
    await kubectl.create(
        DEPLOYMENTS,
        deployment(
            "flink-taskmanager", [{"name": "taskmanager", "image": "flink"}], for_memory="deployment-target"
        ),
    )
    manifest = copy.deepcopy(sample("deployment-target"))
    manifest["spec"]["updateMode"] = "Off"
    await kubectl.create(MEMORIES, manifest)
    await ready(kubectl, "deployment-target")
    await stays(lambda: emulator.operator_writes(DEPLOYMENTS) == [], 0.5, what="the Deployment")

    await kubectl.patch(MEMORIES, "deployment-target", {"spec": {"updateMode": "Apply"}})

    status = await ready(kubectl, "deployment-target")
    assert status["applied"]["targets"][0]["state"] == "Applied"
    assert len(emulator.operator_writes(DEPLOYMENTS)) == 1
