"""A change of spec.flinkVersion alone is described against the applied layout: status and one Event."""

from __future__ import annotations

from typing import Any

from flink_tm_memory.memory.engine import derive_task_manager_memory
from flink_tm_memory.memory.sizes import format_human
from flink_tm_memory.render.events import render_events
from flink_tm_memory.render.metadata import AppliedSpec
from flink_tm_memory.render.version_change import render_version_change
from tests.unit.render.conftest import PROCESS_SIZE, plan_of

BUFFERS = "taskmanager.network.numberOfBuffers"
LEGACY_SPEC: dict[str, Any] = {"flinkConfiguration": {PROCESS_SIZE: "2g", BUFFERS: 8192}}


def _components(config: dict[str, str], version: str) -> dict[str, int]:
    layout = derive_task_manager_memory(config, version).layout
    assert layout is not None
    return dict(layout.components())


def _short(size: int) -> str:
    return format_human(size).split(" (", 1)[0]


def upgrade(before: dict[str, Any], after: dict[str, Any], previous: dict[str, Any] | None = None) -> Any:
    current = plan_of(after)
    return render_version_change(current, after, AppliedSpec(3, before), 4, previous or {})


def test_an_upgrade_that_drops_a_legacy_key_names_each_moved_component_and_why() -> None:
    change = upgrade({**LEGACY_SPEC, "flinkVersion": "1.20"}, {**LEGACY_SPEC, "flinkVersion": "2.2"})
    assert (change.from_version, change.to_version, change.generation, change.same) == (
        "1.20",
        "2.2",
        4,
        False,
    )
    config = {PROCESS_SIZE: "2g", BUFFERS: "8192"}
    before = _components(config, "1.20")
    after = _components(config, "2.2")
    moved = [(name, before[name], after[name]) for name in before if before[name] != after[name]]
    assert [name for name, _, _ in moved] == ["taskHeap", "network"]  # the buffers no longer size the network
    assert [(change.component, change.before, change.after) for change in change.changes] == moved
    assert change.changes[0].summary == f"{_short(before['taskHeap'])} -> {_short(after['taskHeap'])}"
    assert change.reasons == [
        f"{BUFFERS} (Flink 1.x's legacy network buffer count) counts in 1.20, not in 2.2 (removed in 2.0)"
    ]
    assert change.message == (
        f"Flink 1.20 -> 2.2 changes 2 components: taskHeap {change.changes[0].summary}, "
        f"network {change.changes[1].summary}; why: {change.reasons[0]}."
    )


def test_an_upgrade_that_changes_nothing_says_so() -> None:
    spec = {"flinkConfiguration": {PROCESS_SIZE: "1728m"}}
    change = upgrade({**spec, "flinkVersion": "2.1"}, {**spec, "flinkVersion": "2.2"})
    assert change.same
    assert change.changes == []
    assert change.message == "Flink 2.1 -> 2.2: the layout stays the same to the byte."


def test_an_upgrade_the_new_release_refuses_says_why() -> None:
    spec = {"flinkConfiguration": {"taskmanager.heap.size": "1g"}}
    change = upgrade({**spec, "flinkVersion": "1.20"}, {**spec, "flinkVersion": "2.2"})
    assert all(moved.after is None for moved in change.changes)
    assert change.message.startswith(
        "Flink 1.20 -> 2.2: 2.2 rejects the options: Either required fine-grained"
    )


def test_another_field_changed_too_is_not_a_version_change_and_the_record_is_kept() -> None:
    first = upgrade({**LEGACY_SPEC, "flinkVersion": "1.20"}, {**LEGACY_SPEC, "flinkVersion": "2.2"})
    recorded = {"lastVersionChange": first.to_manifest()}
    edited = {"flinkVersion": "2.2", "flinkConfiguration": {PROCESS_SIZE: "3g"}}
    assert upgrade({**LEGACY_SPEC, "flinkVersion": "1.20"}, edited, recorded) == first
    assert upgrade({**LEGACY_SPEC, "flinkVersion": "1.20"}, edited) is None


def test_a_patch_release_or_the_same_release_spelled_otherwise_is_no_change() -> None:
    assert upgrade({**LEGACY_SPEC, "flinkVersion": "1.20"}, {**LEGACY_SPEC, "flinkVersion": "1.20.1"}) is None


def test_an_unreadable_record_in_the_status_is_dropped_not_fatal() -> None:
    spec = {**LEGACY_SPEC, "flinkVersion": "2.2"}
    assert upgrade(spec, spec, {"lastVersionChange": {"fromVersion": 1}}) is None


def test_one_event_when_the_record_is_new_and_none_after() -> None:
    change = upgrade(
        {**LEGACY_SPEC, "flinkVersion": "1.20"}, {**LEGACY_SPEC, "flinkVersion": "2.2"}
    ).to_manifest()
    status = {"lastVersionChange": change}
    [event] = render_events({}, status, conflicts=(), outcome=None, layout=None, resources=None)
    assert (event.type, event.reason, event.message) == ("Normal", "FlinkVersionChanged", change["message"])
    assert render_events(status, status, conflicts=(), outcome=None, layout=None, resources=None) == []


def test_a_refusing_upgrade_is_a_warning_event() -> None:
    spec = {"flinkConfiguration": {"taskmanager.heap.size": "1g"}}
    change = upgrade({**spec, "flinkVersion": "1.20"}, {**spec, "flinkVersion": "2.2"}).to_manifest()
    events = render_events(
        {}, {"lastVersionChange": change}, conflicts=(), outcome=None, layout=None, resources=None
    )
    assert [(event.type, event.reason) for event in events] == [("Warning", "FlinkVersionChanged")]
