"""Nothing changed, nothing written: drift checks and restarts cost reads only (no churn for GitOps)."""

from __future__ import annotations

import copy

from tests.integration.emulator import ApiEmulator
from tests.integration.kubectl import (
    DEPLOYMENTS,
    MEMORIES,
    Kubectl,
    deployment,
    eventually,
    ready,
    sample,
    stays,
)


async def test_drift_checks_of_an_unchanged_resource_write_nothing(
    operator: object, kubectl: Kubectl, emulator: ApiEmulator
) -> None:
    await kubectl.create(
        DEPLOYMENTS,
        deployment(
            "flink-taskmanager", [{"name": "taskmanager", "image": "flink"}], for_memory="deployment-target"
        ),
    )
    await kubectl.create(MEMORIES, sample("deployment-target"))
    await ready(kubectl, "deployment-target")
    await eventually(lambda: len(kubectl.events("deployment-target")) == 2, what="both events")
    writes = len(emulator.operator_writes())
    checks = _drift_reads(emulator)

    await eventually(lambda: _drift_reads(emulator) >= checks + 3, what="three drift checks")
    await stays(lambda: len(emulator.operator_writes()) == writes, 0.2, what="the number of writes")


async def test_a_target_edited_back_to_the_same_values_in_another_spelling_is_not_rewritten(
    operator: object, kubectl: Kubectl, emulator: ApiEmulator
) -> None:
    taskmanager = {"name": "taskmanager", "image": "flink"}
    await kubectl.create(
        DEPLOYMENTS,
        deployment("flink-taskmanager", [copy.deepcopy(taskmanager)], for_memory="deployment-target"),
    )
    await kubectl.create(MEMORIES, sample("deployment-target"))
    await ready(kubectl, "deployment-target")
    same = {"requests": {"memory": "4096Mi", "cpu": "2000m"}, "limits": {"memory": "4294967296", "cpu": "2"}}

    await kubectl.patch(
        DEPLOYMENTS,
        "flink-taskmanager",
        {"spec": {"template": {"spec": {"containers": [{"name": "taskmanager", "resources": same}]}}}},
        content_type="application/strategic-merge-patch+json",
    )
    checks = _drift_reads(emulator)

    await eventually(lambda: _drift_reads(emulator) >= checks + 2, what="two drift checks")
    assert len(emulator.operator_writes(DEPLOYMENTS)) == 1


def _drift_reads(emulator: ApiEmulator) -> int:
    """How many times the operator read the Deployment (once per reconciliation)."""
    deployments = emulator.resource(DEPLOYMENTS)
    return sum(1 for request in emulator if request.method.value == "GET" and request.resource == deployments)
