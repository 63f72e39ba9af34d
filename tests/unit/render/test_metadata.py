"""The operator's bookkeeping on objects: owner references, labels, and the last applied spec."""

from __future__ import annotations

import base64
import json
import zlib

import pytest

from flink_tm_memory.render.metadata import (
    COMPRESSED_PREFIX,
    LAST_APPLIED_ANNOTATION,
    MAX_RECORD_BYTES,
    AppliedSpec,
    MemoryRef,
    config_map_labels,
    parse_applied_spec,
    render_applied_spec,
    render_not_recorded,
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


def test_a_large_record_is_compressed_and_read_back() -> None:
    spec = {"flinkConfiguration": {f"pipeline.option{index}": "value " * 20 for index in range(200)}}
    record = render_applied_spec(4, spec)
    assert record.startswith(COMPRESSED_PREFIX)
    assert len(record) < len(json.dumps(spec)) // 4
    assert record == render_applied_spec(4, spec)  # deterministic: equal specs, equal records
    assert parse_applied_spec({LAST_APPLIED_ANNOTATION: record}) == AppliedSpec(4, spec)


def test_a_small_record_stays_plain_json() -> None:
    record = render_applied_spec(1, {"flinkVersion": "2.2"})
    assert json.loads(record) == {"generation": 1, "spec": {"flinkVersion": "2.2"}}


def test_a_damaged_or_inflating_compressed_record_is_unreadable_not_a_crash() -> None:
    bomb = base64.b64encode(zlib.compress(b" " * (MAX_RECORD_BYTES + 10), 9)).decode()
    for damaged in ("%%%", "AAAA", bomb, base64.b64encode(zlib.compress(b"\xff\xfe")).decode()):
        assert parse_applied_spec({LAST_APPLIED_ANNOTATION: f"{COMPRESSED_PREFIX}{damaged}"}) is None


def test_a_record_refused_names_the_largest_annotation_and_spec_field() -> None:
    message = render_not_recorded(
        {"flinkVersion": "2.2", "flinkConfiguration": {"a": "x" * 100}},
        {"kubectl.kubernetes.io/last-applied-configuration": "y" * 500, "small": "z"},
        300,
        "422 Unprocessable Entity: metadata.annotations: Too long",
    )
    assert message.startswith(
        "metadata.annotations[flinkmemory.io/last-applied-spec]: the applied spec could not"
    )
    assert "The largest annotation is kubectl.kubernetes.io/last-applied-configuration (548 bytes)" in message
    assert "kubectl apply --server-side keeps none" in message
    assert "The largest field of the spec is spec.flinkConfiguration" in message
