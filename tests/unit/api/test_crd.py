"""The CRD generated from the models is structural, documented, and served as the issue asks."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from flink_tm_memory.api.crd import (
    CRD_PATH,
    HEADER,
    PRINTER_COLUMNS,
    REGENERATE_COMMAND,
    main,
    render_crd,
    render_crd_yaml,
    structural_schema,
    structural_violations,
)
from flink_tm_memory.api.v1alpha1 import FlinkTaskManagerMemory, UpdateMode
from flink_tm_memory.render.plan import derive_memory_plan

Schema = dict[str, Any]


@pytest.fixture(scope="module")
def schema() -> Schema:
    return structural_schema(FlinkTaskManagerMemory)


def nodes(node: Schema, path: str = "") -> Iterator[tuple[str, Schema]]:
    yield path, node
    for name, child in node.get("properties", {}).items():
        yield from nodes(child, f"{path}.{name}")
    for key in ("items", "additionalProperties"):
        if isinstance(node.get(key), dict):
            yield from nodes(node[key], f"{path}[{key}]")


def at(schema: Schema, dotted: str) -> Schema:
    node = schema
    for name in dotted.split("."):
        node = node["items"] if name == "[]" else node["properties"][name]
    return node


def test_the_generated_schema_breaks_no_structural_rule(schema: Schema) -> None:
    assert structural_violations(schema) == []


SERVER_DEFAULTS = {
    ".spec.updateMode": "Apply",
    ".spec.consumers.python": False,
    ".spec.consumers.operators": False,
}
"""The only defaults the API server writes: fields whose unset value means one fixed thing for good."""


def test_no_title_ref_or_closed_object_survives_and_defaults_only_where_unset_means_one_thing(
    schema: Schema,
) -> None:
    defaults = {}
    for path, node in nodes(schema):
        assert not {"title", "$ref", "$defs", "allOf", "const"} & set(node), path
        assert node.get("additionalProperties") is not False, path
        if "default" in node:
            defaults[path] = node["default"]
    assert defaults == SERVER_DEFAULTS
    assert "default" not in at(schema, "spec.flinkVersion")  # its meaning moves with the operator's release
    assert "default" not in at(schema, "spec.resources.memoryLimitFactor")  # flinkConfiguration decides


def test_a_defaulted_field_means_the_same_stored_as_unset() -> None:
    unset = derive_memory_plan({"flinkConfiguration": {"taskmanager.memory.process.size": "4g"}})
    stored = derive_memory_plan(
        {
            "flinkConfiguration": {"taskmanager.memory.process.size": "4g"},
            "updateMode": "Apply",
            "consumers": {"python": False, "operators": False},
        }
    )
    assert stored.update_mode is unset.update_mode is UpdateMode.APPLY
    assert stored.layout == unset.layout
    assert stored.weights == unset.weights


def test_every_spec_and_status_field_has_a_description_for_kubectl_explain(schema: Schema) -> None:
    for section in ("spec", "status"):
        for path, node in nodes(at(schema, section), section):
            if not path.endswith(("[items]", "[additionalProperties]")):
                assert node.get("description"), path


def test_optional_fields_are_plain_types_not_nullable_unions(schema: Schema) -> None:
    assert at(schema, "spec.flinkVersion")["type"] == "string"
    assert at(schema, "status.breakdown")["type"] == "object"
    assert at(schema, "status.observedGeneration") == {
        "description": "The metadata.generation of the spec this status describes.",
        "type": "integer",
        "minimum": 0,
    }


def test_flink_configuration_keeps_values_of_any_scalar_type_within_bounds(schema: Schema) -> None:
    configuration = at(schema, "spec.flinkConfiguration")
    assert configuration["type"] == "object"
    assert configuration["maxProperties"] == 1024
    # Any scalar; strings of at most 16 KiB; a map or a list only empty (the model then refuses it).
    assert configuration["additionalProperties"] == {
        "x-kubernetes-preserve-unknown-fields": True,
        "maxLength": 16384,
        "maxProperties": 0,
        "maxItems": 0,
    }


@pytest.mark.parametrize("field", ["spec.resources.memory", "spec.resources.cpu"])
def test_quantities_are_int_or_string_with_the_quantity_pattern(schema: Schema, field: str) -> None:
    node = at(schema, field)
    assert node["x-kubernetes-int-or-string"] is True
    assert node["anyOf"] == [{"type": "integer"}, {"type": "string"}]
    assert node["pattern"].startswith("^")


def test_limit_factors_are_numbers_of_at_least_one(schema: Schema) -> None:
    for field in ("memoryLimitFactor", "cpuLimitFactor"):
        node = at(schema, f"spec.resources.{field}")
        assert (node["type"], node["minimum"]) == ("number", 1)


def test_enums_are_listed_for_the_api_server(schema: Schema) -> None:
    assert at(schema, "spec.updateMode")["enum"] == ["Apply", "Off", "Initial", "Auto"]
    assert at(schema, "spec.targets.workloads.[].kind")["enum"] == [
        "Deployment",
        "StatefulSet",
        "FlinkDeployment",
    ]
    assert at(schema, "spec.consumers.stateBackend")["enum"] == ["hashmap", "rocksdb", "forst"]


def test_conditions_are_a_list_keyed_by_type(schema: Schema) -> None:
    conditions = at(schema, "status.conditions")
    assert (conditions["x-kubernetes-list-type"], conditions["x-kubernetes-list-map-keys"]) == (
        "map",
        ["type"],
    )
    assert conditions["items"]["required"] == ["type", "status", "reason", "message", "lastTransitionTime"]
    assert at(schema, "status.conditions.[].lastTransitionTime")["format"] == "date-time"


def test_workloads_are_a_list_keyed_by_kind_and_name_with_a_cel_rule(schema: Schema) -> None:
    workloads = at(schema, "spec.targets.workloads")
    assert workloads["x-kubernetes-list-map-keys"] == ["kind", "name"]
    [rule] = workloads["items"]["x-kubernetes-validations"]
    assert rule["rule"] == "self.kind != 'FlinkDeployment' || !has(self.container)"


def test_metadata_is_left_to_the_api_server(schema: Schema) -> None:
    assert schema["properties"]["metadata"] == {"type": "object"}
    assert schema["required"] == ["spec"]


def test_the_crd_names_scope_and_status_subresource() -> None:
    crd = render_crd()
    assert crd["metadata"]["name"] == "flinktaskmanagermemories.flinkmemory.io"
    names = crd["spec"]["names"]
    assert (names["kind"], names["plural"], names["shortNames"], names["categories"]) == (
        "FlinkTaskManagerMemory",
        "flinktaskmanagermemories",
        ["ftmm"],
        ["flink"],
    )
    assert crd["spec"]["scope"] == "Namespaced"
    [version] = crd["spec"]["versions"]
    assert (version["name"], version["served"], version["storage"]) == ("v1alpha1", True, True)
    assert version["subresources"] == {"status": {}}


def test_kubectl_get_shows_process_heap_managed_network_recommended_ready_and_age() -> None:
    [version] = render_crd()["spec"]["versions"]
    columns = [column["name"] for column in version["additionalPrinterColumns"] if "priority" not in column]
    assert columns == ["Process", "Heap", "Managed", "Network", "Recommended", "Ready", "Age"]


@pytest.mark.parametrize(
    "column", [column for column in PRINTER_COLUMNS if column["jsonPath"].startswith(".status")]
)
def test_every_printer_column_points_at_a_field_of_the_schema(schema: Schema, column: Schema) -> None:
    path = column["jsonPath"].removeprefix(".").split("[")[0]
    node = at(schema, path)
    assert node["type"] in ("string", "array")


def test_the_manifest_is_block_yaml_under_the_generated_header() -> None:
    text = render_crd_yaml()
    assert text.startswith("# generated by `python -m flink_tm_memory.api.crd`; do not edit\n")
    assert "&id" not in text  # no YAML anchors: a manifest reads top to bottom
    assert yaml.safe_load(text) == render_crd()


BROKEN: list[tuple[str, Any, str]] = [
    ("spec.properties.flinkVersion.$ref", "#/$defs/X", "keyword '$ref' is not allowed"),
    ("spec.properties.flinkVersion.title", "Version", "keyword 'title' is not allowed"),
    ("spec.properties.updateMode.default", "Sometimes", "default 'Sometimes' is not one of its enum"),
    ("spec.properties.consumers.properties.python.default", "no", "default 'no' is not a plain boolean"),
    ("spec.properties.flinkVersion.type", None, "flinkVersion: no type"),
    ("spec.properties.flinkVersion.description", None, "flinkVersion: no description"),
    ("spec.properties.updateMode.anyOf", [{"type": "string"}, {"type": "null"}], "anyOf is allowed only"),
    ("spec.properties.resources.additionalProperties", False, "additionalProperties: false is not allowed"),
    (
        "spec.properties.consumers.additionalProperties",
        {"type": "string"},
        "properties and additionalProperties",
    ),
    ("spec.properties.resources.properties.memoryLimitFactor.exclusiveMinimum", 1, "must be a boolean"),
    ("status.properties.conditions.items.required", ["status"], "list-map key 'type' must be a required"),
    ("metadata.description", "Standard object metadata.", "metadata: may say nothing but type: object"),
]


@pytest.mark.parametrize(("where", "value", "violation"), BROKEN)
def test_each_structural_rule_is_checked(schema: Schema, where: str, value: Any, violation: str) -> None:
    broken = copy.deepcopy(schema)
    *parents, key = where.split(".")
    node = broken["properties"]
    for name in parents:
        node = node[name]
    if value is None:
        del node[key]
    else:
        node[key] = value
    assert any(violation in found for found in structural_violations(broken)), structural_violations(broken)


def test_the_command_writes_the_manifest_and_then_finds_it_fresh(tmp_path: Path) -> None:
    output = tmp_path / "crd" / "ftmm.yaml"
    assert main(["--output", str(output)]) == 0
    assert output.read_text(encoding="utf-8") == render_crd_yaml()
    assert main(["--check", "--output", str(output)]) == 0


@pytest.mark.parametrize("stale", [None, HEADER + "kind: Old\n"])
def test_the_check_fails_on_a_stale_or_missing_manifest_and_names_the_command(
    tmp_path: Path, stale: str | None, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "ftmm.yaml"
    if stale is not None:
        output.write_text(stale, encoding="utf-8")
    assert main(["--check", "--output", str(output)]) == 1
    assert f"regenerate it with `{REGENERATE_COMMAND}`" in capsys.readouterr().err
    assert stale is None or output.read_text(encoding="utf-8") == stale


def test_the_default_output_is_the_committed_manifest_path() -> None:
    assert Path("manifests/crd/flinkmemory.io_flinktaskmanagermemories.yaml") == CRD_PATH


def test_the_command_refuses_to_write_a_schema_the_api_server_would_reject(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("flink_tm_memory.api.crd.structural_violations", lambda schema: ["x: no type"])
    output = tmp_path / "ftmm.yaml"
    assert main(["--output", str(output)]) == 2
    assert "x: no type" in capsys.readouterr().err
    assert not output.exists()
