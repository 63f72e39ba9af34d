"""A spec becomes a plan: Flink's layout, or every conflict (spec-level first), and never an exception."""

from __future__ import annotations

from flink_tm_memory.api.v1alpha1 import UpdateMode
from flink_tm_memory.render.plan import derive_memory_plan
from tests.unit.render.conftest import PROCESS_SIZE, plan_of


def test_a_valid_spec_has_a_layout_and_no_conflicts() -> None:
    plan = plan_of({"flinkConfiguration": {PROCESS_SIZE: "1728m"}})
    assert plan.conflicts == ()
    assert plan.layout is not None
    assert plan.layout.total_process_bytes == 1728 << 20


def test_a_spec_flink_refuses_has_no_layout_and_flinks_own_message_first() -> None:
    plan = plan_of({"flinkConfiguration": {PROCESS_SIZE: "1g", "taskmanager.memory.task.heap.size": "2g"}})
    assert plan.layout is None
    first = plan.conflicts[0]
    assert first.primary
    assert first.reason == "FineGrainedExceedTotalFlink"
    assert set(first.fields) == {
        f"spec.flinkConfiguration[{PROCESS_SIZE}]",
        "spec.flinkConfiguration[taskmanager.memory.task.heap.size]",
    }


def test_spec_level_conflicts_come_before_flinks() -> None:
    plan = plan_of({"resources": {"memory": "4G"}, "flinkConfiguration": {PROCESS_SIZE: "4g"}})
    assert [conflict.reason for conflict in plan.conflicts] == ["ProcessSizeMismatch"]
    assert plan.conflicts[0].fields == ["spec.resources.memory", f"spec.flinkConfiguration[{PROCESS_SIZE}]"]


def test_what_the_schema_cannot_check_is_an_invalid_spec_conflict_per_field() -> None:
    plan = derive_memory_plan({"flinkVersion": "1.16", "resources": {"memory": "-1"}, "color": "blue"})
    assert plan.layout is None
    assert [(conflict.reason, conflict.fields) for conflict in plan.conflicts] == [
        ("InvalidSpec", ["spec.flinkVersion"]),
        ("InvalidSpec", ["spec.resources.memory"]),
        ("InvalidSpec", ["spec.color"]),
    ]
    assert [conflict.primary for conflict in plan.conflicts] == [True, False, False]


def test_an_unreadable_spec_still_honours_update_mode_off() -> None:
    assert derive_memory_plan({"updateMode": "Off", "color": "blue"}).update_mode is UpdateMode.OFF
    assert derive_memory_plan({"color": "blue"}).update_mode is UpdateMode.APPLY


def test_the_managed_memory_split_follows_the_consumers() -> None:
    plan = plan_of(
        {
            "flinkConfiguration": {
                PROCESS_SIZE: "8g",
                "taskmanager.numberOfTaskSlots": 4,
                "taskmanager.memory.managed.consumer-weights": "STATE_BACKEND:70,PYTHON:30",
            },
            "consumers": {"stateBackend": "rocksdb", "python": True},
        }
    )
    assert plan.split is not None
    assert {share.use_case.value: share.fraction for share in plan.split.shares} == {
        "STATE_BACKEND": 0.7,
        "PYTHON": 0.3,
    }


def test_a_split_conflict_is_not_primary_when_the_taskmanager_itself_is_refused() -> None:
    plan = plan_of(
        {
            "flinkConfiguration": {
                PROCESS_SIZE: "1m",
                "taskmanager.memory.managed.consumer-weights": "STATE_BACKEND:x",
            }
        }
    )
    assert plan.conflicts[0].primary
    assert [conflict.primary for conflict in plan.conflicts[1:]] == [False] * (len(plan.conflicts) - 1)
    assert "InvalidConsumerWeights" in [conflict.reason for conflict in plan.conflicts]


def test_notes_point_at_the_spec_fields_behind_the_keys() -> None:
    plan = plan_of(
        {"resources": {"memory": "4Gi"}, "flinkConfiguration": {"taskmanager.memory.task.heap.size": "1g"}}
    )
    [note] = [note for note in plan.notes if note.code == "ExplicitHeapManagedWithTotal"]
    assert note.fields == [
        "spec.flinkConfiguration[taskmanager.memory.task.heap.size]",
        "spec.resources.memory",
    ]


def test_every_size_string_is_echoed_with_its_bytes() -> None:
    plan = plan_of({"resources": {"memory": "4G"}})
    [reading] = plan.interpretations
    assert (reading.field, reading.bytes, reading.ambiguous) == ("spec.resources.memory", 4_000_000_000, True)
