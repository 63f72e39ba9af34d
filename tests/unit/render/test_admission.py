"""The validating-admission verdict: every conflict (Flink's first), clean denials of garbage, and warnings."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from flink_tm_memory.render.admission import WARNING_LIMIT, admission_verdict, fit, one_line
from flink_tm_memory.render.plan import derive_memory_plan

SAMPLES = Path(__file__).resolve().parents[3] / "manifests" / "samples"
PROCESS_SIZE = "taskmanager.memory.process.size"
TASK_HEAP = "taskmanager.memory.task.heap.size"
MANAGED = "taskmanager.memory.managed.size"


def sample(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((SAMPLES / name).read_text())
    return copy.deepcopy(loaded)


def with_spec(spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "flinkmemory.io/v1alpha1", "kind": "FlinkTaskManagerMemory", "spec": spec}


def field(key: str) -> str:
    return f"spec.flinkConfiguration[{key}]"


@pytest.mark.parametrize(
    "name", sorted(path.name for path in SAMPLES.glob("*.yaml") if path.name != "conflicting.yaml")
)
def test_every_valid_sample_is_allowed(name: str) -> None:
    verdict = admission_verdict(sample(name))
    assert verdict.allowed
    assert verdict.message == ""


def test_the_conflicting_sample_is_denied_with_flinks_message_naming_the_fields() -> None:
    verdict = admission_verdict(sample("conflicting.yaml"))
    assert not verdict.allowed
    lines = verdict.message.splitlines()
    assert lines[0].startswith(f"spec.resources.memory, {field(TASK_HEAP)}, {field(MANAGED)}: ")
    assert "The configured Total Process Memory size (2.000gb (2147483648 bytes)) is less than" in lines[0]


def test_every_conflict_is_one_line_with_flinks_own_first() -> None:
    resource = sample("conflicting.yaml")
    resource["spec"]["flinkConfiguration"] = {PROCESS_SIZE: "3g", TASK_HEAP: "4g"}
    verdict = admission_verdict(resource)
    assert not verdict.allowed
    lines = verdict.message.splitlines()
    assert len(lines) == 2
    assert "exceed configured Total Flink Memory" in lines[0]  # Flink's, though the plan lists it second
    assert lines[1].startswith("spec.resources.memory (2Gi) is 2147483648 bytes but ")


def test_flinks_conflict_ends_with_the_fix_that_changes_least() -> None:
    resource = sample("conflicting.yaml")
    resource["spec"].pop("resources", None)
    resource["spec"]["flinkConfiguration"] = {PROCESS_SIZE: "4Gi"}
    [line] = admission_verdict(resource).message.splitlines()
    assert line.endswith(
        f". Fix: write 4g for {PROCESS_SIZE}: Flink reads Gi as no unit it knows; or use spec.resources.memory: 4Gi"
    )


def test_a_denial_names_the_first_of_the_status_fixes() -> None:
    resource = sample("conflicting.yaml")
    resource["spec"]["flinkConfiguration"] = {TASK_HEAP: "4g"}
    plan = derive_memory_plan(resource["spec"])
    primary = next(conflict for conflict in plan.conflicts if conflict.fixes)
    assert admission_verdict(resource).message.splitlines()[0].endswith(f" Fix: {primary.fixes[0].summary}")


def test_a_schema_error_names_its_field() -> None:
    resource = sample("kubernetes-quantity.yaml")
    resource["spec"]["resources"]["memory"] = "-1"
    resource["spec"]["color"] = "blue"
    lines = admission_verdict(resource).message.splitlines()
    assert [line.split(":")[0] for line in lines] == ["spec.resources.memory", "spec.color"]


def test_limit_factors_below_one_are_denied_naming_the_field() -> None:
    resource = sample("kubernetes-quantity.yaml")
    resource["spec"]["resources"]["memoryLimitFactor"] = 0.5
    verdict = admission_verdict(resource)
    assert not verdict.allowed
    assert verdict.message.startswith("spec.resources.memoryLimitFactor: ")

    resource = sample("process-size.yaml")
    resource["spec"]["flinkConfiguration"]["kubernetes.taskmanager.memory.limit-factor"] = "0.5"
    verdict = admission_verdict(resource)
    assert not verdict.allowed
    assert verdict.message.startswith(field("kubernetes.taskmanager.memory.limit-factor"))


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        (None, "object: expected a FlinkTaskManagerMemory object (a mapping), got NoneType"),
        ("garbage", "object: expected a FlinkTaskManagerMemory object (a mapping), got str"),
        ([1, 2], "object: expected a FlinkTaskManagerMemory object (a mapping), got list"),
        ({"kind": "Pod", "spec": {}}, "kind: expected FlinkTaskManagerMemory, got 'Pod'"),
        ({"kind": "FlinkTaskManagerMemory"}, "spec: required"),
        ({"kind": "FlinkTaskManagerMemory", "spec": [1]}, "spec: expected an object, got list"),
        (
            with_spec({"flinkConfiguration": [1]}),
            "spec.flinkConfiguration: Input should be a valid dictionary",
        ),
    ],
)
def test_garbage_shapes_are_denied_cleanly(resource: Any, expected: str) -> None:
    verdict = admission_verdict(resource)
    assert not verdict.allowed
    assert verdict.message == expected
    assert verdict.warnings == ()


def test_a_nested_value_where_a_flink_option_belongs_is_denied_naming_it() -> None:
    verdict = admission_verdict(with_spec({"flinkConfiguration": {PROCESS_SIZE: {"a": 1}}}))
    assert not verdict.allowed
    assert verdict.message.startswith(f"spec.flinkConfiguration.{PROCESS_SIZE}: ")


def test_an_ambiguous_kubernetes_quantity_warns_with_both_byte_counts() -> None:
    resource = sample("kubernetes-quantity.yaml")
    resource["spec"]["resources"]["memory"] = "4G"
    verdict = admission_verdict(resource)
    assert verdict.allowed
    (warning,) = verdict.warnings
    assert warning.startswith(
        "spec.resources.memory: ambiguous size: 4G is 4000000000 bytes as a Kubernetes size"
    )
    assert "as a Flink size it would be 4294967296 bytes" in warning


def test_an_ambiguous_flink_size_warns_with_both_byte_counts() -> None:
    resource = sample("process-size.yaml")
    resource["spec"]["flinkConfiguration"][PROCESS_SIZE] = "2G"
    (warning,) = admission_verdict(resource).warnings
    assert warning.startswith(
        f"{field(PROCESS_SIZE)}: ambiguous size: 2G is 2147483648 bytes as a Flink size"
    )
    assert "as a Kubernetes size it would be 2000000000 bytes" in warning


def test_explicit_heap_and_managed_with_a_total_warn_even_when_denied() -> None:
    warnings = admission_verdict(sample("conflicting.yaml")).warnings
    assert len(warnings) == 1
    assert "may easily lead to memory configuration conflicts" in warnings[0]
    prefix, text = warnings[0].split(": ", 1)
    assert prefix == "spec.flinkConfiguration"
    assert text.startswith(f"{TASK_HEAP} and {MANAGED} are configured together with {PROCESS_SIZE}")


def test_a_used_consumer_missing_from_the_weights_warns() -> None:
    resource = sample("rocksdb-python.yaml")
    resource["spec"]["flinkConfiguration"]["taskmanager.memory.managed.consumer-weights"] = "STATE_BACKEND:70"
    warnings = admission_verdict(resource).warnings
    assert any("No weight for PYTHON" in warning for warning in warnings)


def test_a_deprecated_key_warns() -> None:
    resource = sample("process-size.yaml")
    resource["spec"]["flinkConfiguration"]["taskmanager.network.memory.min"] = "64m"
    verdict = admission_verdict(resource)
    assert verdict.allowed
    (warning,) = verdict.warnings
    assert warning == (
        "spec.flinkConfiguration: Config uses deprecated configuration key 'taskmanager.network.memory.min' "
        "instead of proper key 'taskmanager.memory.network.min'"
    )


def test_a_tiny_jvm_heap_warns() -> None:
    verdict = admission_verdict(with_spec({"flinkConfiguration": {TASK_HEAP: "64m", MANAGED: "1g"}}))
    assert verdict.allowed
    (warning,) = verdict.warnings
    assert warning.startswith("spec: TooSmallToRun: the JVM heap (framework + task heap) is 192.000mb")


def test_a_tiny_process_warns() -> None:
    verdict = admission_verdict(
        with_spec(
            {
                "flinkConfiguration": {
                    PROCESS_SIZE: "600m",
                    "taskmanager.memory.jvm-metaspace.size": "64m",
                    "taskmanager.memory.jvm-overhead.min": "64m",
                    "taskmanager.memory.framework.heap.size": "32m",
                }
            }
        )
    )
    assert verdict.allowed
    assert any(
        warning.startswith("spec: TooSmallToRun: the total process memory is 600.000mb")
        for warning in verdict.warnings
    )


def test_a_warning_that_does_not_fit_loses_its_last_sentences_first_then_is_cut() -> None:
    assert fit("First. Second. Third.", limit=15) == "First. Second."
    assert fit("First. Second. Third.", limit=8) == "First."
    assert fit("One long sentence without a stop", limit=10) == "One long \u2026"
    assert fit("Short.", limit=10) == "Short."


VECTORS = Path(__file__).resolve().parents[2] / "conformance" / "vectors"


def vector_configurations(version: str, count: int) -> list[dict[str, str]]:
    lines = (VECTORS / f"{version}.jsonl").read_text(encoding="utf-8").split("\n")
    return [json.loads(line)["config"] for line in lines[:count] if line.strip()]


@pytest.mark.parametrize("version", ["1.17.2", "2.2.1"])
def test_every_warning_fits_what_the_api_server_keeps(version: str) -> None:
    checked = 0
    for configuration in vector_configurations(version, 600):
        ambiguous = {key: value.replace("m", "M").replace("g", "G") for key, value in configuration.items()}
        for flink_configuration in (configuration, ambiguous):
            spec = {
                "flinkVersion": version,
                "flinkConfiguration": flink_configuration,
                "resources": {"memory": "3G"},
            }
            for warning in admission_verdict(with_spec(spec)).warnings:
                assert len(warning) <= WARNING_LIMIT, warning
                checked += 1
    assert checked > 1000  # the cases do warn: ambiguous sizes, explicit sizes with totals, deprecated keys


def test_flinks_message_is_quoted_with_its_own_spacing_and_line_breaks_become_spaces() -> None:
    spec = {"flinkConfiguration": {PROCESS_SIZE: "300m", TASK_HEAP: "1g", MANAGED: "1g"}}
    flinks = derive_memory_plan(spec).conflicts[0].message
    assert "JVM Metaspace size  (" in flinks  # Flink's own double space
    verdict = admission_verdict(with_spec(spec))
    assert flinks in verdict.message
    assert one_line("first\nsecond  third\r\nfourth") == "first second  third fourth"
