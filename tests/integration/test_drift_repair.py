"""What was written stays written: edits and deletions are repaired, other people's keys are left alone.

The ConfigMap tests run with a drift interval far beyond the test's duration, so only the ConfigMap
watch can have repaired what they break: the repair is immediate, not the drift check's.
"""

from __future__ import annotations

from tests.integration.conftest import StartOperator
from tests.integration.emulator import ApiEmulator
from tests.integration.kubectl import (
    CONFIG_MAPS,
    DEPLOYMENTS,
    MEMORIES,
    Kubectl,
    deployment,
    eventually,
    first_container_limits,
    ready,
    sample,
    stays,
)

CONFIG_MAP = "process-size-flink-tm-memory"
NO_DRIFT_CHECK = 3600.0


async def test_an_edited_configmap_is_put_back_at_once(
    start_operator: StartOperator, kubectl: Kubectl
) -> None:
    await start_operator(drift_interval=NO_DRIFT_CHECK)
    await kubectl.create(MEMORIES, sample("process-size"))
    await ready(kubectl, "process-size")
    written = (kubectl.get(CONFIG_MAPS, CONFIG_MAP) or {})["data"]

    await kubectl.patch(
        CONFIG_MAPS, CONFIG_MAP, {"data": {"config.yaml": "taskmanager.memory.process.size: 64g\n"}}
    )

    await eventually(
        lambda: (kubectl.get(CONFIG_MAPS, CONFIG_MAP) or {})["data"] == written, what="the repair"
    )


async def test_a_deleted_configmap_is_recreated_at_once_and_announced(
    start_operator: StartOperator, kubectl: Kubectl
) -> None:
    await start_operator(drift_interval=NO_DRIFT_CHECK)
    await kubectl.create(MEMORIES, sample("process-size"))
    await ready(kubectl, "process-size")
    written = (kubectl.get(CONFIG_MAPS, CONFIG_MAP) or {})["data"]

    await kubectl.delete(CONFIG_MAPS, CONFIG_MAP)

    restored = await eventually(lambda: kubectl.get(CONFIG_MAPS, CONFIG_MAP), what="the ConfigMap's return")
    assert restored["data"] == written
    assert restored["metadata"]["ownerReferences"][0]["name"] == "process-size"
    repaired = await eventually(
        lambda: [event for event in kubectl.events("process-size") if event["reason"] == "ConfigMapRepaired"]
    )
    assert repaired[0]["message"] == f"Restored ConfigMap {CONFIG_MAP}: it was deleted."


async def test_keys_someone_else_added_to_the_configmap_are_left_alone(
    operator: object, kubectl: Kubectl, emulator: ApiEmulator
) -> None:
    await kubectl.create(MEMORIES, sample("process-size"))
    await ready(kubectl, "process-size")
    log4j = {"log4j-console.properties": "rootLogger.level = INFO\n"}

    await kubectl.patch(CONFIG_MAPS, CONFIG_MAP, {"data": log4j})

    await stays(
        lambda: (
            (kubectl.get(CONFIG_MAPS, CONFIG_MAP) or {})["data"].get("log4j-console.properties") is not None
        ),
        1.0,
        what="the foreign key",
    )
    assert len(emulator.operator_writes(CONFIG_MAPS)) == 1  # the creation, nothing since


async def test_edited_container_resources_are_put_back_by_the_drift_check(
    operator: object, kubectl: Kubectl
) -> None:
    await kubectl.create(
        DEPLOYMENTS,
        deployment(
            "flink-taskmanager", [{"name": "taskmanager", "image": "flink"}], for_memory="deployment-target"
        ),
    )
    await kubectl.create(MEMORIES, sample("deployment-target"))
    await ready(kubectl, "deployment-target")
    shrunk = {"name": "taskmanager", "resources": {"limits": {"memory": "1Gi"}}}

    await kubectl.patch(
        DEPLOYMENTS,
        "flink-taskmanager",
        {"spec": {"template": {"spec": {"containers": [shrunk]}}}},
        content_type="application/strategic-merge-patch+json",
    )

    await eventually(
        lambda: first_container_limits(kubectl) == {"memory": "4Gi", "cpu": "2"}, what="the repair"
    )
