"""Law: the components Flink pins add up to the totals, and configured sizes are met to the byte.

Total Flink memory is framework heap + task heap + framework off-heap + task off-heap + network +
managed; total process memory is total Flink + JVM metaspace + JVM overhead. The sums are checked on
what a TaskManager is actually started with (the ``-D`` options and the JVM flags), not on the
layout's own arithmetic.
"""

from __future__ import annotations

from hypothesis import given

from flink_tm_memory.memory.sizes import parse_memory_size
from tests.property.layouts import derived_layout, jvm_flags, pinned_bytes, pinned_options
from tests.property.strategies import (
    FLINK,
    FRAMEWORK_HEAP,
    FRAMEWORK_OFF_HEAP,
    MANAGED,
    METASPACE,
    PROCESS,
    TASK_HEAP,
    TASK_OFF_HEAP,
    Config,
    configurations,
    examples,
    versions,
)

FLINK_PARTS = (
    "taskmanager.memory.framework.heap.size",
    "taskmanager.memory.task.heap.size",
    "taskmanager.memory.framework.off-heap.size",
    "taskmanager.memory.task.off-heap.size",
    "taskmanager.memory.network.min",
    "taskmanager.memory.managed.size",
)


@examples(75)
@given(configurations(), versions)
def test_pinned_components_sum_to_total_flink_memory(config: Config, version: str) -> None:
    layout = derived_layout(config, version)
    pinned = pinned_options(layout.dynamic_configs())
    assert sum(pinned_bytes(pinned, key) for key in FLINK_PARTS) == layout.components()["totalFlink"]


@examples(75)
@given(configurations(), versions)
def test_total_process_memory_is_flink_plus_metaspace_plus_overhead(config: Config, version: str) -> None:
    layout = derived_layout(config, version)
    pinned = pinned_options(layout.dynamic_configs())
    metaspace = pinned_bytes(pinned, "taskmanager.memory.jvm-metaspace.size")
    overhead = pinned_bytes(pinned, "taskmanager.memory.jvm-overhead.min")
    components = layout.components()
    assert components["totalProcess"] == components["totalFlink"] + metaspace + overhead


@examples(75)
@given(configurations(), versions)
def test_ranges_are_pinned_to_a_single_value(config: Config, version: str) -> None:
    pinned = pinned_options(derived_layout(config, version).dynamic_configs())
    assert pinned["taskmanager.memory.network.min"] == pinned["taskmanager.memory.network.max"]
    assert pinned["taskmanager.memory.jvm-overhead.min"] == pinned["taskmanager.memory.jvm-overhead.max"]


@examples(75)
@given(configurations(), versions)
def test_jvm_flags_plus_managed_memory_make_total_flink_memory(config: Config, version: str) -> None:
    layout = derived_layout(config, version)
    flags = jvm_flags(layout.jvm_parameters())
    components = layout.components()
    assert flags["Xmx"] == flags["Xms"]
    assert flags["Xmx"] + flags["direct"] + components["managed"] == components["totalFlink"]
    assert flags["metaspace"] == components["jvmMetaspace"]


@examples(75)
@given(configurations(), versions)
def test_configured_sizes_are_met_to_the_byte(config: Config, version: str) -> None:
    components = derived_layout(config, version).components()
    configured = {
        PROCESS: "totalProcess",
        FLINK: "totalFlink",
        TASK_HEAP: "taskHeap",
        MANAGED: "managed",
        FRAMEWORK_HEAP: "frameworkHeap",
        FRAMEWORK_OFF_HEAP: "frameworkOffHeap",
        TASK_OFF_HEAP: "taskOffHeap",
        METASPACE: "jvmMetaspace",
    }
    for key, component in configured.items():
        if key in config:
            assert components[component] == parse_memory_size(config[key]), key
