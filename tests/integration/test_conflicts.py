"""A spec Flink would refuse: reported whole, never written, the last good layout kept, then fixed."""

from __future__ import annotations

from tests.integration.emulator import ApiEmulator
from tests.integration.kubectl import (
    CONFIG_MAPS,
    MEMORIES,
    Kubectl,
    eventually,
    observed,
    ready,
    sample,
)

CONFIG_MAP = "process-size-flink-tm-memory"
TOO_BIG = {"taskmanager.memory.task.heap.size": "1536m", "taskmanager.memory.managed.size": "1g"}


async def test_a_conflicting_spec_writes_nothing_and_reports_every_conflict(
    operator: object, kubectl: Kubectl
) -> None:
    await kubectl.create(MEMORIES, sample("conflicting"))
    status = await observed(kubectl, "conflicting", 1)

    assert kubectl.get(CONFIG_MAPS, "conflicting-flink-tm-memory") is None
    assert [conflict["reason"] for conflict in status["conflicts"]] == ["ProcessBelowFlinkAndMetaspace"]
    assert status["conflicts"][0]["message"].startswith("The configured Total Process Memory size (2.000gb")
    assert "breakdown" not in status
    assert kubectl.condition("conflicting", "Ready")["reason"] == "Degraded"
    assert kubectl.condition("conflicting", "ConfigValid")["reason"] == "ProcessBelowFlinkAndMetaspace"
    assert kubectl.condition("conflicting", "Applied")["reason"] == "NothingApplied"


async def test_a_conflict_is_named_in_a_warning_event(operator: object, kubectl: Kubectl) -> None:
    await kubectl.create(MEMORIES, sample("conflicting"))
    [event] = await eventually(lambda: kubectl.events("conflicting"), what="an event")
    assert (event["type"], event["reason"]) == ("Warning", "ProcessBelowFlinkAndMetaspace")
    assert event["message"].startswith(
        "spec.resources.memory, spec.flinkConfiguration[taskmanager.memory.task.heap.size], "
        "spec.flinkConfiguration[taskmanager.memory.managed.size]: The configured Total Process Memory size (2.000gb"
    )


async def test_a_spec_the_schema_cannot_check_is_a_conflict_too(operator: object, kubectl: Kubectl) -> None:
    manifest = sample("process-size")
    manifest["spec"]["flinkVersion"] = "1.16"
    await kubectl.create(MEMORIES, manifest)
    status = await observed(kubectl, "process-size", 1)

    [conflict] = status["conflicts"]
    assert (conflict["reason"], conflict["fields"]) == ("InvalidSpec", ["spec.flinkVersion"])
    assert "Unsupported Flink version '1.16'" in conflict["message"]


async def test_a_spec_turning_invalid_keeps_the_last_good_configmap_and_layout(
    operator: object, kubectl: Kubectl, emulator: ApiEmulator
) -> None:
    await kubectl.create(MEMORIES, sample("process-size"))
    good = await ready(kubectl, "process-size")

    await _make_conflicting(kubectl)
    status = await observed(kubectl, "process-size", 2)

    assert len(emulator.versions(CONFIG_MAPS, "default", CONFIG_MAP)) == 1
    assert status["breakdown"] == good["breakdown"]
    assert status["podResources"] == good["podResources"]
    assert status["applied"]["configMap"]["generation"] == 1
    assert status["conflicts"][0]["reason"] == "ProcessBelowFlinkAndMetaspace"
    ready_condition = kubectl.condition("process-size", "Ready")
    assert (ready_condition["status"], ready_condition["reason"]) == ("False", "Degraded")
    assert "keep generation 1" in ready_condition["message"]
    assert kubectl.condition("process-size", "Applied")["reason"] == "LastGoodKept"


async def test_a_fixed_spec_is_applied_and_ready_again(operator: object, kubectl: Kubectl) -> None:
    await kubectl.create(MEMORIES, sample("process-size"))
    await ready(kubectl, "process-size")
    await _make_conflicting(kubectl)
    await observed(kubectl, "process-size", 2)

    await kubectl.patch(MEMORIES, "process-size", {"spec": {"resources": {"memory": "4Gi"}}})
    status = await ready(kubectl, "process-size")

    assert status["observedGeneration"] == 3
    assert "conflicts" not in status, status["conflicts"]
    assert status["applied"]["configMap"]["generation"] == 3
    assert status["breakdown"]["taskHeap"] == 1536 << 20
    data = (kubectl.get(CONFIG_MAPS, CONFIG_MAP) or {})["data"]
    assert f"taskmanager.memory.task.heap.size: {1536 << 20}b" in data["config.yaml"]


async def test_a_configmap_deleted_while_the_spec_is_invalid_comes_back_with_the_last_good_layout(
    operator: object, kubectl: Kubectl
) -> None:
    await kubectl.create(MEMORIES, sample("process-size"))
    await ready(kubectl, "process-size")
    good = (kubectl.get(CONFIG_MAPS, CONFIG_MAP) or {})["data"]
    await _make_conflicting(kubectl)
    await observed(kubectl, "process-size", 2)

    await kubectl.delete(CONFIG_MAPS, CONFIG_MAP)

    restored = await eventually(lambda: kubectl.get(CONFIG_MAPS, CONFIG_MAP), what="the ConfigMap's return")
    assert restored["data"] == good


async def _make_conflicting(kubectl: Kubectl) -> None:
    spec = {
        "resources": {"memory": "2Gi"},
        "flinkConfiguration": {**TOO_BIG, "taskmanager.memory.process.size": None},
    }
    await kubectl.patch(MEMORIES, "process-size", {"spec": spec})


async def test_a_conflict_carries_fixes_and_the_first_one_makes_the_resource_ready(
    operator: object, kubectl: Kubectl
) -> None:
    await kubectl.create(MEMORIES, sample("conflicting"))
    status = await observed(kubectl, "conflicting", 1)
    first = status["conflicts"][0]["fixes"][0]
    [event] = await eventually(lambda: kubectl.events("conflicting"), what="an event")

    assert first["fields"] == ["spec.resources.memory"]
    assert first["summary"].startswith("raise spec.resources.memory from 2Gi to ")
    assert event["message"].endswith(f" Fix: {first['summary']}.")
    quantity = first["summary"].rsplit(" ", 1)[1]
    await kubectl.patch(MEMORIES, "conflicting", {"spec": {"resources": {"memory": quantity}}})
    fixed = await ready(kubectl, "conflicting")
    assert "conflicts" not in fixed, fixed["conflicts"]  # written before, removed by the merge patch
    assert "conflicts" not in kubectl.status("conflicting")
    assert fixed["breakdown"]["totalProcess"] == int(quantity.removesuffix("Mi")) << 20
