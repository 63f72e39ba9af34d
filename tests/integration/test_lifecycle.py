"""A FlinkTaskManagerMemory's life: created, updated, deleted, and picked up again after a restart."""

from __future__ import annotations

from typing import Any, cast

import yaml

from flink_tm_memory.memory import derive_task_manager_memory
from tests.integration.conftest import StartOperator
from tests.integration.emulator import ApiEmulator
from tests.integration.kubectl import (
    CONFIG_MAPS,
    MEMORIES,
    Kubectl,
    eventually,
    observed,
    ready,
    sample,
    stays,
)

CONFIG_MAP = "process-size-flink-tm-memory"


async def test_a_new_resource_gets_its_configmap_and_a_ready_status(
    operator: object, kubectl: Kubectl
) -> None:
    await kubectl.create(MEMORIES, sample("process-size"))
    status = await ready(kubectl, "process-size")

    config_map = kubectl.get(CONFIG_MAPS, CONFIG_MAP)
    assert config_map is not None
    config = yaml.safe_load(config_map["data"]["config.yaml"])
    assert config["taskmanager.memory.process.size"] == "1728m"
    assert config["taskmanager.memory.task.heap.size"] == "402653174b"
    assert derive_task_manager_memory(config, "2.2").layout is not None  # Flink reads the file back as pinned
    assert config_map["data"]["jvm-parameters"] == status["jvmParameters"]
    assert status["breakdown"]["totalProcess"] == 1728 << 20
    assert status["podResources"]["requests"] == {"memory": "1728Mi", "cpu": "2"}
    assert status["applied"]["configMap"]["name"] == CONFIG_MAP
    assert status["applied"]["configMap"]["generation"] == 1
    assert {condition["type"]: condition["status"] for condition in status["conditions"]} == {
        "Ready": "True",
        "ConfigValid": "True",
        "Applied": "True",
    }


async def test_the_configmap_is_owned_by_the_resource_and_labelled_for_the_watch(
    operator: object, kubectl: Kubectl
) -> None:
    created = await kubectl.create(MEMORIES, sample("process-size"))
    await ready(kubectl, "process-size")

    metadata = (kubectl.get(CONFIG_MAPS, CONFIG_MAP) or {})["metadata"]
    [owner] = metadata["ownerReferences"]
    assert owner["uid"] == created["metadata"]["uid"]
    assert owner["controller"] is True
    assert metadata["labels"]["app.kubernetes.io/managed-by"] == "flink-tm-memory-operator"


async def test_creation_is_announced_in_a_normal_event(operator: object, kubectl: Kubectl) -> None:
    await kubectl.create(MEMORIES, sample("process-size"))
    await ready(kubectl, "process-size")

    [event] = await eventually(lambda: kubectl.events("process-size"), what="an event")
    assert (event["type"], event["reason"]) == ("Normal", "ConfigMapCreated")
    assert "process 1.688gb" in event["message"]


async def test_an_updated_spec_rewrites_the_configmap_and_keeps_ready_since_its_first_transition(
    operator: object, kubectl: Kubectl, emulator: ApiEmulator
) -> None:
    await kubectl.create(MEMORIES, sample("process-size"))
    first = await ready(kubectl, "process-size")

    await kubectl.patch(
        MEMORIES, "process-size", {"spec": {"flinkConfiguration": {"taskmanager.memory.process.size": "4g"}}}
    )
    status = await observed(kubectl, "process-size", 2)

    config = yaml.safe_load((kubectl.get(CONFIG_MAPS, CONFIG_MAP) or {})["data"]["config.yaml"])
    assert config["taskmanager.memory.process.size"] == "4g"
    assert status["breakdown"]["totalProcess"] == 4 << 30
    assert status["applied"]["configMap"]["generation"] == 2
    assert len(emulator.versions(CONFIG_MAPS, "default", CONFIG_MAP)) == 2
    assert _ready_since(status) == _ready_since(first)
    reasons = [event["reason"] for event in await eventually(lambda: _two(kubectl.events("process-size")))]
    assert reasons == ["ConfigMapCreated", "ConfigMapUpdated"]


async def test_a_deleted_resource_takes_its_configmap_along_and_is_not_recreated(
    operator: object, kubectl: Kubectl
) -> None:
    await kubectl.create(MEMORIES, sample("process-size"))
    await ready(kubectl, "process-size")

    await kubectl.delete(MEMORIES, "process-size")

    # No finalizer: the resource goes at once, and the garbage collector takes its ConfigMap along.
    await eventually(lambda: kubectl.get(MEMORIES, "process-size") is None, what="the deletion")
    assert kubectl.get(CONFIG_MAPS, CONFIG_MAP) is None
    await stays(lambda: kubectl.get(CONFIG_MAPS, CONFIG_MAP) is None, 1.0, what="the deleted ConfigMap")


async def test_a_configmap_re_created_just_after_its_resource_was_deleted_does_not_outlive_it(
    operator: object, kubectl: Kubectl, emulator: ApiEmulator
) -> None:
    # The race behind a ConfigMap seen back after its resource's deletion: a drift check reads the
    # resource, the resource goes (and the garbage collector takes the ConfigMap), then the check
    # writes the ConfigMap for the resource it read. Here the deletion is made to fall in between.
    await kubectl.create(MEMORIES, sample("process-size"))
    await ready(kubectl, "process-size")
    reads = emulator.matching("GET", CONFIG_MAPS)

    async def delete_the_resource_first(request: Any) -> object:
        await kubectl.delete(MEMORIES, "process-size")
        return NotImplemented  # then the emulator answers the read: the ConfigMap is gone

    created = _operator_creates(emulator, CONFIG_MAPS)
    reads[len(list(reads)) :][:1] << cast(Any, delete_the_resource_first)
    await eventually(lambda: _operator_creates(emulator, CONFIG_MAPS) > created, what="the re-creation")

    # The write succeeds, as on a real API server; the garbage collector then deletes a dependent
    # whose owners are all gone, so what the operator wrote for a deleted resource does not stay.
    assert kubectl.get(MEMORIES, "process-size") is None
    assert kubectl.get(CONFIG_MAPS, CONFIG_MAP) is None
    await stays(lambda: kubectl.get(CONFIG_MAPS, CONFIG_MAP) is None, 1.0, what="the deleted ConfigMap")


async def test_a_restarted_operator_resumes_without_writing_anything(
    start_operator: StartOperator, kubectl: Kubectl, emulator: ApiEmulator
) -> None:
    first = await start_operator()
    await kubectl.create(MEMORIES, sample("process-size"))
    await ready(kubectl, "process-size")
    await first.stop()
    writes, reads = len(emulator.operator_writes()), _config_map_reads(emulator)

    await start_operator()

    await eventually(lambda: _config_map_reads(emulator) > reads, what="the resumed operator's look")
    await stays(lambda: len(emulator.operator_writes()) == writes, 1.0, what="the number of writes")


def _ready_since(status: dict[str, object]) -> object:
    conditions = status["conditions"]
    assert isinstance(conditions, list)
    return next(condition["lastTransitionTime"] for condition in conditions if condition["type"] == "Ready")


def _two(events: list[dict[str, object]]) -> list[dict[str, object]] | None:
    return events if len(events) >= 2 else None


def _operator_creates(emulator: ApiEmulator, resource: str) -> int:
    return sum(1 for request in emulator.operator_writes(resource) if request.method.value == "POST")


def _config_map_reads(emulator: ApiEmulator) -> int:
    config_maps = emulator.resource(CONFIG_MAPS)
    return sum(1 for request in emulator if request.method.value == "GET" and request.resource == config_maps)
