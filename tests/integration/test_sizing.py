"""``spec.sizing.needs`` through the real operator: the size it pins, the ConfigMap, the status."""

from __future__ import annotations

from typing import Any

import yaml

from flink_tm_memory.api.quantity import parse_quantity
from flink_tm_memory.memory import derive_task_manager_memory
from flink_tm_memory.memory.sizes import MIB, parse_memory_size
from tests.integration.kubectl import CONFIG_MAPS, MEMORIES, Kubectl, eventually, ready, sample

NAME = "sized-by-needs"


async def test_needs_without_a_size_are_met_by_the_smallest_process_size_written_everywhere(
    operator: object, kubectl: Kubectl
) -> None:
    await kubectl.create(MEMORIES, sample(NAME))
    status = await ready(kubectl, NAME)

    sizing = status["sizing"]
    process = sizing["set"]["taskmanager.memory.process.size"]
    assert (sizing["mode"], sizing["met"]) == ("Sized", True)
    assert [(need["component"], need["met"]) for need in sizing["needs"]] == [
        ("taskHeap", True),
        ("managed", True),
    ]
    config_map = kubectl.get(CONFIG_MAPS, f"{NAME}-flink-tm-memory")
    assert config_map is not None
    config = yaml.safe_load(config_map["data"]["config.yaml"])
    assert config["taskmanager.memory.process.size"] == process
    layout = derive_task_manager_memory(config, "2.2").layout
    assert layout is not None
    assert layout.task_heap_bytes >= 2 << 30
    assert layout.managed_bytes >= 4 << 30
    assert parse_quantity(status["podResources"]["requests"]["memory"]).value == parse_memory_size(process)
    smaller = derive_task_manager_memory(
        {
            "taskmanager.numberOfTaskSlots": "2",
            "taskmanager.memory.process.size": f"{parse_memory_size(process) // MIB - 1}m",
        },
        "2.2",
    ).layout
    assert smaller is not None
    assert smaller.task_heap_bytes < 2 << 30 or smaller.managed_bytes < 4 << 30


async def test_a_given_size_that_misses_a_need_is_not_applied_and_the_status_says_the_fix(
    operator: object, kubectl: Kubectl
) -> None:
    body = sample(NAME)
    body["spec"]["resources"] = {"memory": "4Gi"}
    await kubectl.create(MEMORIES, body)

    def refused() -> dict[str, Any] | None:
        status: dict[str, Any] = (kubectl.get(MEMORIES, NAME) or {}).get("status") or {}
        return status if status.get("conflicts") else None

    await eventually(refused, what="the NeedsNotMet conflict")
    status = refused()
    assert status is not None
    (conflict,) = status["conflicts"]
    assert conflict["reason"] == "NeedsNotMet"
    assert conflict["fixes"][0]["summary"].startswith("raise spec.resources.memory from 4Gi to ")
    assert kubectl.get(CONFIG_MAPS, f"{NAME}-flink-tm-memory") is None
