"""Sizing from needs: what changes, what does not, and how a search that cannot succeed says so.

Whether Flink agrees (every answer meets the needs, 1 MiB less does not) is the conformance suite's
question (``tests/conformance/test_sizing_vectors.py``); here, the engine's own rules.
"""

from __future__ import annotations

import pytest

from flink_tm_memory.memory import derive_task_manager_memory
from flink_tm_memory.memory.sizes import GIB, MAX_BYTES, MIB, parse_memory_size
from flink_tm_memory.memory.sizing import UnmeetableNeedsError, size_for_needs

PROCESS = "taskmanager.memory.process.size"


def layout_with(config: dict[str, str], changes: dict[str, str], version: str = "2.2") -> dict[str, int]:
    result = derive_task_manager_memory({**config, **changes}, version)
    assert result.layout is not None, result.primary_problem
    return result.layout.components()


@pytest.mark.parametrize("version", ["1.17", "1.20", "2.0", "2.2", "2.3"])
@pytest.mark.parametrize(
    ("config", "needs"),
    [
        ({}, {"taskHeap": 2 * GIB}),
        ({}, {"taskHeap": 2 * GIB, "managed": 4 * GIB}),
        ({"taskmanager.memory.task.heap.size": "1g"}, {"managed": GIB}),
        ({"taskmanager.memory.flink.size": "1g"}, {"taskHeap": 2 * GIB}),
        ({}, {"network": 300 * MIB + 5}),
    ],
)
def test_the_answer_meets_every_need_and_one_mib_less_does_not(
    config: dict[str, str], needs: dict[str, int], version: str
) -> None:
    sizing = size_for_needs(config, needs, version)
    components = layout_with(config, sizing.changes, version)
    assert all(components[name] >= need for name, need in needs.items())
    assert components == sizing.layout.components()
    smaller = {**sizing.changes, PROCESS: f"{parse_memory_size(sizing.process_size) // MIB - 1}m"}
    result = derive_task_manager_memory({**config, **smaller}, version)
    assert result.layout is None or any(
        result.layout.components()[name] < need for name, need in needs.items()
    )


def test_only_the_process_size_changes_when_it_alone_can_meet_the_needs() -> None:
    sizing = size_for_needs({"taskmanager.memory.process.size": "1728m"}, {"taskHeap": 2 * GIB}, "2.2")
    assert list(sizing.changes) == [PROCESS]
    assert sizing.summaries == (f"raise {PROCESS} from 1728m to {sizing.process_size}",)
    assert size_for_needs({}, {"taskHeap": 2 * GIB}, "2.2").summaries == (
        f"set {PROCESS} to {sizing.process_size}",
    )


def test_a_size_fixed_by_an_option_is_raised_to_its_need_and_never_lowered() -> None:
    sizing = size_for_needs(
        {"taskmanager.memory.jvm-metaspace.size": "1g"},
        {"taskOffHeap": 300 * MIB, "jvmMetaspace": 512 * MIB},
        "2.2",
    )
    assert sizing.changes["taskmanager.memory.task.off-heap.size"] == "300m"
    assert "taskmanager.memory.jvm-metaspace.size" not in sizing.changes  # 1g already meets 512m
    assert (
        "raise taskmanager.memory.task.off-heap.size from 0b to 300m: the taskOffHeap need"
        in sizing.summaries
    )


def test_a_need_above_its_range_raises_the_maximum() -> None:
    sizing = size_for_needs({"taskmanager.memory.network.max": "256m"}, {"network": GIB}, "2.2")
    assert parse_memory_size(sizing.changes["taskmanager.memory.network.max"]) >= GIB
    assert sizing.layout.network_bytes >= GIB


def test_a_need_in_bytes_is_pinned_in_whole_mib_upward() -> None:
    sizing = size_for_needs({"taskmanager.memory.managed.fraction": "0"}, {"managed": GIB + 1}, "2.2")
    assert sizing.changes["taskmanager.memory.managed.size"] == "1025m"


def test_a_managed_fraction_of_zero_pins_managed_memory_and_nothing_else() -> None:
    sizing = size_for_needs(
        {"taskmanager.memory.managed.fraction": "0"}, {"managed": GIB, "network": 300 * MIB}, "2.2"
    )
    assert set(sizing.changes) == {"taskmanager.memory.managed.size", PROCESS}


def test_a_fixed_total_flink_size_is_raised_when_the_needs_exceed_it() -> None:
    sizing = size_for_needs({"taskmanager.memory.flink.size": "1g"}, {"taskHeap": 2 * GIB}, "2.2")
    assert parse_memory_size(sizing.changes["taskmanager.memory.flink.size"]) > GIB
    assert sizing.layout.task_heap_bytes >= 2 * GIB


def test_flink_1x_legacy_heap_is_a_fixed_total_flink_size() -> None:
    sizing = size_for_needs({"taskmanager.heap.size": "1g"}, {"taskHeap": 2 * GIB}, "1.18")
    assert "taskmanager.memory.flink.size" in sizing.changes


def test_no_needs_is_the_smallest_size_flink_accepts() -> None:
    sizing = size_for_needs({}, {}, "2.2")
    smaller = f"{parse_memory_size(sizing.process_size) // MIB - 1}m"
    assert not derive_task_manager_memory({PROCESS: smaller}, "2.2").ok


def test_a_configuration_flink_refuses_at_every_size_is_unmeetable_with_flinks_reason() -> None:
    with pytest.raises(UnmeetableNeedsError, match="whatever its size: Inconsistently configured"):
        size_for_needs({"taskmanager.memory.network.fraction": "2"}, {"taskHeap": GIB}, "2.2")


@pytest.mark.parametrize(
    ("needs", "message"),
    [
        ({"heap": 1}, "unknown need 'heap'"),
        ({"totalProcess": GIB}, "unknown need 'totalProcess'"),
        ({"taskHeap": -1}, "need taskHeap: -1 bytes is out of range"),
        ({"taskHeap": MAX_BYTES + 1}, "out of range"),
    ],
)
def test_bad_needs_are_refused_naming_the_need(needs: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        size_for_needs({}, needs, "2.2")
