"""Managed memory nobody takes is said in words: a reason on the empty share, and a note with the way out."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from flink_tm_memory.memory.engine import derive_task_manager_memory
from flink_tm_memory.render.managed_memory import MANAGED_MEMORY_UNUSED
from flink_tm_memory.render.plan import MemoryPlan
from flink_tm_memory.render.status import StatusInput, render_status
from tests.unit.render.conftest import PROCESS_SIZE, plan_of

MANAGED_SIZE = "taskmanager.memory.managed.size"
TASK_HEAP = "taskmanager.memory.task.heap.size"


def unused_notes(plan: MemoryPlan) -> list[str]:
    return [note.message for note in plan.notes if note.code == MANAGED_MEMORY_UNUSED]


def split_of(plan: MemoryPlan) -> list[dict[str, Any]]:
    given = StatusInput(
        generation=1,
        current=plan,
        effective=plan,
        effective_generation=1,
        pod_resources=None,
        outcome=None,
        previous={},
        now=datetime(2026, 12, 7, tzinfo=UTC),
    )
    split: list[dict[str, Any]] = render_status(given).get("managedMemorySplit", [])
    return split


def test_the_default_heap_backend_leaves_all_managed_memory_unused_and_says_how_to_free_it() -> None:
    plan = plan_of({"flinkVersion": "2.2", "flinkConfiguration": {PROCESS_SIZE: "1728m"}})
    [message] = unused_notes(plan)
    assert message.startswith(
        "No consumer takes managed memory: the hashmap state backend, Flink 2.2's default, keeps its state on "
        "the JVM heap, and spec.consumers declares no operators or Python functions that use it, so the "
        "512.000mb (536870920 bytes) of managed memory (Flink's default fraction) are reserved for nothing."
    )
    assert f"set {MANAGED_SIZE}: 0 to stop reserving it" in message
    [share] = split_of(plan)
    assert share["bytesPerSlot"] == 0
    assert share["reason"] == (
        "Takes no managed memory: the hashmap state backend, Flink 2.2's default, keeps its state on the JVM heap."
    )


def test_the_advice_is_a_configuration_the_engine_accepts_without_managed_memory() -> None:
    plan = plan_of({"flinkConfiguration": {PROCESS_SIZE: "1728m"}})
    assert plan.layout is not None
    advised = plan_of({"flinkConfiguration": {PROCESS_SIZE: "1728m", MANAGED_SIZE: "0"}})
    assert advised.layout is not None
    assert advised.layout.managed_bytes == 0
    assert advised.layout.total_process_bytes == plan.layout.total_process_bytes
    assert unused_notes(advised) == []


def test_when_zero_alone_conflicts_the_task_heap_takes_the_room() -> None:
    config = {PROCESS_SIZE: "3000m", TASK_HEAP: "600m", MANAGED_SIZE: "700m"}
    assert not derive_task_manager_memory({**config, MANAGED_SIZE: "0"}).ok
    [message] = unused_notes(plan_of({"flinkConfiguration": config}))
    assert f"({MANAGED_SIZE}) are reserved for nothing" in message
    assert f"set {MANAGED_SIZE}: 0 and {TASK_HEAP}: 1300m to give the room to the task heap" in message
    assert derive_task_manager_memory({**config, MANAGED_SIZE: "0", TASK_HEAP: "1300m"}).ok


@pytest.mark.parametrize(
    ("consumers", "configuration", "reason"),
    [
        ({"stateBackend": "hashmap"}, {}, "the hashmap state backend (spec.consumers.stateBackend) keeps"),
        (
            {"stateBackend": "rocksdb", "stateBackendUsesManagedMemory": False},
            {},
            "spec.consumers.stateBackendUsesManagedMemory is false",
        ),
        ({}, {"state.backend.type": "hashmap"}, "the state backend state.backend.type: hashmap keeps"),
    ],
)
def test_the_reason_names_what_decided_the_backend(
    consumers: dict[str, Any], configuration: dict[str, str], reason: str
) -> None:
    plan = plan_of({"flinkConfiguration": {PROCESS_SIZE: "2g", **configuration}, "consumers": consumers})
    [share] = split_of(plan)
    assert share["reason"].startswith(f"Takes no managed memory: {reason}")
    assert len(unused_notes(plan)) == 1


def test_flink_1_18_without_a_backend_says_no_backend_is_configured() -> None:
    plan = plan_of({"flinkVersion": "1.18", "flinkConfiguration": {PROCESS_SIZE: "2g"}})
    [message] = unused_notes(plan)
    assert (
        "no state backend is configured, and Flink 1.18's default keeps its state on the JVM heap" in message
    )


@pytest.mark.parametrize(
    "spec",
    [
        {"flinkConfiguration": {PROCESS_SIZE: "2g"}, "consumers": {"stateBackend": "rocksdb"}},
        {"flinkConfiguration": {PROCESS_SIZE: "2g"}, "consumers": {"operators": True}},
        {"flinkConfiguration": {PROCESS_SIZE: "2g"}, "consumers": {"python": True}},
        {"flinkConfiguration": {PROCESS_SIZE: "2g", "taskmanager.memory.managed.fraction": "0"}},
        {"flinkConfiguration": {PROCESS_SIZE: "1g", TASK_HEAP: "2g"}},
    ],
    ids=["rocksdb", "operators", "python", "no-managed-memory", "refused"],
)
def test_no_note_when_a_consumer_takes_managed_memory_or_there_is_none_or_no_layout(
    spec: dict[str, Any],
) -> None:
    plan = plan_of(spec)
    assert unused_notes(plan) == []
    assert all(share.get("reason") is None or share["bytesPerSlot"] == 0 for share in split_of(plan))


def test_python_declared_but_not_on_managed_memory_is_said_so() -> None:
    plan = plan_of(
        {
            "flinkConfiguration": {PROCESS_SIZE: "2g", "python.fn-execution.memory.managed": "false"},
            "consumers": {"python": True},
        }
    )
    [message] = unused_notes(plan)
    assert "the Python functions spec.consumers.python declares do not use managed memory here" in message
