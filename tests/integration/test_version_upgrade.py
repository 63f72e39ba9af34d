"""An upgrade of spec.flinkVersion alone: the status and one Event say what it changes, and it is applied."""

from __future__ import annotations

from tests.integration.kubectl import CONFIG_MAPS, MEMORIES, Json, Kubectl, eventually, observed, ready

BUFFERS = "taskmanager.network.numberOfBuffers"


def memory(version: str) -> Json:
    return {
        "apiVersion": "flinkmemory.io/v1alpha1",
        "kind": "FlinkTaskManagerMemory",
        "metadata": {"name": "upgraded"},
        "spec": {
            "flinkVersion": version,
            "flinkConfiguration": {"taskmanager.memory.process.size": "2g", BUFFERS: 8192},
            "targets": {"configMap": {"name": "upgraded-config"}},
        },
    }


async def test_an_upgrade_that_moves_the_layout_is_described_once_and_applied(
    operator: object, kubectl: Kubectl
) -> None:
    await kubectl.create(MEMORIES, memory("1.20"))
    before = await ready(kubectl, "upgraded")
    assert "lastVersionChange" not in before

    await kubectl.patch(MEMORIES, "upgraded", {"spec": {"flinkVersion": "2.2"}})
    status = await observed(kubectl, "upgraded", 2)
    change = status["lastVersionChange"]
    assert (change["fromVersion"], change["toVersion"], change["generation"]) == ("1.20", "2.2", 2)
    assert [moved["component"] for moved in change["changes"]] == ["taskHeap", "network"]
    assert [moved["before"] for moved in change["changes"]] == [
        before["breakdown"]["taskHeap"],
        before["breakdown"]["network"],
    ]
    status = await ready(kubectl, "upgraded")
    assert [moved["after"] for moved in change["changes"]] == [
        status["breakdown"]["taskHeap"],
        status["breakdown"]["network"],
    ]
    [event] = await eventually(lambda: [e for e in kubectl.events() if e["reason"] == "FlinkVersionChanged"])
    assert (event["type"], event["message"]) == ("Normal", change["message"])
    config = (kubectl.get(CONFIG_MAPS, "upgraded-config") or {})["data"]
    assert f"taskmanager.memory.network.min: {status['breakdown']['network']}b" in str(config)

    await kubectl.patch(MEMORIES, "upgraded", {"metadata": {"labels": {"team": "orders"}}})
    await ready(kubectl, "upgraded")
    assert (await observed(kubectl, "upgraded", 2))["lastVersionChange"] == change
    assert len([e for e in kubectl.events() if e["reason"] == "FlinkVersionChanged"]) == 1
