"""Every sample in manifests/samples is a valid resource, and the engine reads it as its comment says."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from flink_tm_memory.api.resolve import resolve_spec
from flink_tm_memory.api.v1alpha1 import FlinkTaskManagerMemory, WorkloadKind
from flink_tm_memory.memory import derive_task_manager_memory
from flink_tm_memory.render.plan import derive_memory_plan

SAMPLES = Path(__file__).resolve().parents[3] / "manifests" / "samples"
CONFLICTING = {"conflicting.yaml"}


def load(name: str) -> FlinkTaskManagerMemory:
    documents = list(yaml.safe_load_all((SAMPLES / name).read_text(encoding="utf-8")))
    assert len(documents) == 1, f"{name}: one resource per sample"
    return FlinkTaskManagerMemory.model_validate(documents[0])


SAMPLE_NAMES = sorted(path.name for path in SAMPLES.glob("*.yaml"))


def test_the_samples_cover_every_shape_the_issue_names() -> None:
    assert set(SAMPLE_NAMES) >= {
        "process-size.yaml",
        "flink-size.yaml",
        "heap-managed.yaml",
        "kubernetes-quantity.yaml",
        "rocksdb-python.yaml",
        "conflicting.yaml",
    }


def test_the_samples_target_every_workload_kind() -> None:
    kinds = {workload.kind for name in SAMPLE_NAMES for workload in load(name).spec.targets.workloads}
    assert kinds == set(WorkloadKind)


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_a_sample_is_named_after_its_file(name: str) -> None:
    assert load(name).metadata.name == name.removesuffix(".yaml")


@pytest.mark.parametrize("name", sorted(set(SAMPLE_NAMES) - CONFLICTING))
def test_a_sample_derives_a_layout(name: str) -> None:
    resolved = resolve_spec(load(name).spec)
    assert resolved.problems == ()
    assert not any(reading.ambiguous for reading in resolved.interpretations)
    plan = derive_memory_plan(load(name).spec.to_manifest())  # the operator's path: sizing included
    assert plan.conflicts == ()
    assert plan.layout is not None


def test_the_conflicting_sample_gets_flinks_own_message() -> None:
    resolved = resolve_spec(load("conflicting.yaml").spec)
    result = derive_task_manager_memory(resolved.configuration, resolved.version)
    assert result.primary_problem is not None
    assert result.primary_problem.reason == "ProcessBelowFlinkAndMetaspace"
    assert result.primary_problem.message is not None
    assert result.primary_problem.message.startswith(
        "The configured Total Process Memory size (2.000gb (2147483648 bytes)) is less than the sum of"
    )
    assert resolved.field_for(result.primary_problem.keys[0]) == "spec.resources.memory"


def test_the_kubernetes_quantity_sample_reads_4gi_as_exact_binary_bytes() -> None:
    resolved = resolve_spec(load("kubernetes-quantity.yaml").spec)
    [reading] = resolved.interpretations
    assert (reading.text, reading.size_bytes, reading.ambiguous) == ("4Gi", 4 * 1024**3, False)
    assert (resolved.memory_limit_factor, resolved.cpu_limit_factor) == (1.25, 2.0)
    layout = derive_task_manager_memory(resolved.configuration, resolved.version).layout
    assert layout is not None
    assert (layout.total_process_bytes, layout.cpu_cores) == (4 * 1024**3, 2.0)


def test_the_rocksdb_python_sample_shares_managed_memory_between_both_consumers() -> None:
    resolved = resolve_spec(load("rocksdb-python.yaml").spec)
    assert (resolved.use_cases, resolved.state_backend_uses_managed_memory) == (
        ("STATE_BACKEND", "PYTHON"),
        True,
    )
