"""The operator's bookkeeping on objects: owner references, labels, and the last applied spec."""

from __future__ import annotations

import pytest

from flink_tm_memory.render.metadata import (
    LAST_APPLIED_ANNOTATION,
    AppliedSpec,
    MemoryRef,
    config_map_labels,
    parse_applied_spec,
    render_applied_spec,
)


def test_the_applied_spec_annotation_reads_back_what_was_recorded() -> None:
    spec = {"flinkConfiguration": {"taskmanager.memory.process.size": "4g"}}
    text = render_applied_spec(7, spec)
    assert parse_applied_spec({LAST_APPLIED_ANNOTATION: text}) == AppliedSpec(7, spec)


def test_equal_specs_record_equal_annotations_whatever_their_key_order() -> None:
    assert render_applied_spec(1, {"a": 1, "b": 2}) == render_applied_spec(1, {"b": 2, "a": 1})


@pytest.mark.parametrize("text", ["", "not json", '{"generation": "7", "spec": {}}', '{"spec": {}}', "[]"])
def test_an_edited_or_broken_annotation_counts_as_absent(text: str) -> None:
    assert parse_applied_spec({LAST_APPLIED_ANNOTATION: text}) is None


def test_a_resource_name_too_long_for_a_label_value_is_left_out_of_the_labels() -> None:
    assert "flinkmemory.io/memory" not in config_map_labels("x" * 64)
    assert config_map_labels("orders")["flinkmemory.io/memory"] == "orders"


def test_the_owner_reference_makes_the_resource_the_controlling_owner() -> None:
    reference = MemoryRef("orders", "flink", "uid-1", 3).owner_reference()
    assert reference == {
        "apiVersion": "flinkmemory.io/v1alpha1",
        "kind": "FlinkTaskManagerMemory",
        "name": "orders",
        "uid": "uid-1",
        "controller": True,
        "blockOwnerDeletion": True,
    }
