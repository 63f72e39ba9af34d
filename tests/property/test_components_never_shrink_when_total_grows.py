"""Law: when the total grows and nothing else changes, no component shrinks.

The one exception is Flink's own: where task heap is what is left after managed and network memory,
each of those two is truncated to whole bytes separately, so one more byte of total can round both
up and leave a byte less of task heap (Flink 2.2.1 itself: ``flink.size`` 2147483657b gives task heap
805306358 bytes, 2147483658b gives 805306357). Task heap may lose at most those two bytes.
"""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from flink_tm_memory.memory import MemoryLayout, derive_task_manager_memory
from flink_tm_memory.memory.sizes import parse_memory_size
from tests.property.layouts import derived_layout
from tests.property.strategies import (
    FLINK,
    GIB,
    MIB,
    PROCESS,
    TASK_HEAP,
    Config,
    configurations,
    examples,
    versions,
)

TRUNCATED_PRODUCTS_BEFORE_TASK_HEAP = 2  # managed and network, each floor(total x fraction)
growths = st.one_of(st.integers(1, 1024), st.integers(1, 64 * GIB))


def assert_nothing_shrinks(smaller: MemoryLayout, larger: MemoryLayout, task_heap_is_derived: bool) -> None:
    before, after = smaller.components(), larger.components()
    for name, size in before.items():
        if name == "taskHeap" and task_heap_is_derived:
            assert after[name] >= size - TRUNCATED_PRODUCTS_BEFORE_TASK_HEAP, (name, size, after[name])
        else:
            assert after[name] >= size, (name, size, after[name])
    assert (larger.cpu_cores, larger.num_slots) == (smaller.cpu_cores, smaller.num_slots)


@examples(75)
@given(configurations(modes=("process", "process+heap")), growths, versions)
def test_no_component_shrinks_when_process_size_grows(config: Config, growth: int, version: str) -> None:
    smaller = derived_layout(config, version)
    grown = {**config, PROCESS: f"{parse_memory_size(config[PROCESS]) + growth}b"}
    larger = derived_layout(grown, version)
    assert_nothing_shrinks(smaller, larger, task_heap_is_derived=TASK_HEAP not in config)


@examples(75)
@given(configurations(modes=("flink",)), st.booleans(), growths, versions)
@example({FLINK: "2147483657b"}, False, 1, "2.2")
def test_no_component_shrinks_when_flink_size_grows(
    config: Config, explicit_task_heap: bool, growth: int, version: str
) -> None:
    if explicit_task_heap:
        config = {**config, TASK_HEAP: f"{parse_memory_size(config[FLINK]) // 4}b"}
    smaller = derived_layout(config, version)
    grown = {**config, FLINK: f"{parse_memory_size(config[FLINK]) + growth}b"}
    larger = derived_layout(grown, version)
    assert_nothing_shrinks(smaller, larger, task_heap_is_derived=not explicit_task_heap)


def test_task_heap_loses_a_byte_where_flink_loses_it() -> None:
    # The exception to the law, as Flink 2.2.1 computes it (flink-oracle).
    sizes = [
        derive_task_manager_memory({FLINK: f"{flink}b"}, "2.2").layout for flink in (2147483657, 2147483658)
    ]
    assert [layout.task_heap_bytes if layout else None for layout in sizes] == [805306358, 805306357]


@examples(75)
@given(st.integers(GIB, 64 * GIB), st.integers(16 * MIB, GIB), versions)
def test_task_heap_grows_with_a_default_process_size_that_grows_by_whole_megabytes(
    process: int, growth: int, version: str
) -> None:
    # With Flink's default fractions, 16 MiB more process memory always leaves more task heap.
    smaller = derived_layout({PROCESS: f"{process}b"}, version)
    larger = derived_layout({PROCESS: f"{process + growth}b"}, version)
    assert larger.task_heap_bytes > smaller.task_heap_bytes
