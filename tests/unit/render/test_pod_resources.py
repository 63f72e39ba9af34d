"""Container resources: the request is the process size to the byte, limits are exact multiples rounded up."""

from __future__ import annotations

import pytest

from flink_tm_memory.memory import derive_task_manager_memory
from flink_tm_memory.memory.layout import MemoryLayout
from flink_tm_memory.render.pod_resources import container_resources, render_pod_resources, same_quantity


def layout_of(config: dict[str, str | int | float]) -> MemoryLayout:
    layout = derive_task_manager_memory(config, "2.2").layout
    assert layout is not None
    return layout


def test_the_memory_request_is_the_total_process_memory_in_a_binary_unit_when_whole() -> None:
    resources = render_pod_resources(layout_of({"taskmanager.memory.process.size": "4g"}), 1.0, 1.0)
    assert (resources.requests.memory, resources.requests.memory_bytes) == ("4Gi", 4 << 30)


def test_a_size_that_is_no_whole_unit_is_written_to_the_byte_never_rounded_down() -> None:
    resources = render_pod_resources(layout_of({"taskmanager.memory.flink.size": "1000000001b"}), 1.0, 1.0)
    total = resources.requests.memory_bytes
    assert resources.requests.memory == str(total)
    assert total % 1024 != 0


def test_limits_are_the_requests_times_the_factors_rounded_up() -> None:
    layout = layout_of({"taskmanager.memory.process.size": "1000m", "taskmanager.cpu.cores": 0.1})
    resources = render_pod_resources(layout, 1.1, 3.0)
    assert resources.limits.memory_bytes == -(-(1000 << 20) * 11 // 10)
    assert resources.limits.cpu == "300m"


def test_cpu_is_the_cores_flink_pins_else_the_slots_rounded_up_to_a_millicore() -> None:
    assert (
        render_pod_resources(
            layout_of({"taskmanager.memory.process.size": "1g", "taskmanager.numberOfTaskSlots": 3}), 1, 1
        ).requests.cpu
        == "3"
    )
    assert (
        render_pod_resources(
            layout_of({"taskmanager.memory.process.size": "1g", "taskmanager.cpu.cores": 1.2345}), 1, 1
        ).requests.cpu
        == "1235m"
    )


def test_the_container_stanza_holds_memory_and_cpu_only() -> None:
    resources = render_pod_resources(layout_of({"taskmanager.memory.process.size": "2g"}), 1.5, 2.0)
    assert container_resources(resources) == {
        "requests": {"memory": "2Gi", "cpu": "1"},
        "limits": {"memory": "3Gi", "cpu": "2"},
    }


@pytest.mark.parametrize(
    ("stored", "wanted", "same"),
    [
        ("4096Mi", "4Gi", True),
        ("4294967296", "4Gi", True),
        ("2000m", "2", True),
        ("4G", "4Gi", False),
        (None, "1", False),
        ("banana", "1", False),
    ],
)
def test_quantities_compare_by_value_not_by_spelling(stored: str | None, wanted: str, same: bool) -> None:
    assert same_quantity(stored, wanted) is same
