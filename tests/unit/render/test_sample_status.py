"""The status of every sample stays short: ``kubectl describe`` of it fits on one screen (issue 15).

Each sample's status is rendered as the operator writes it once the layout is applied, and its YAML
is held to a line budget and to the fields it may carry: the breakdown once (bytes), the short forms
the printer columns show, and no empty list, no byte count a quantity already says, no reading of a
plain Flink size. A field that grows the status back fails here first, not on a user's screen.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from flink_tm_memory.control.apply import plan_pod_resources
from flink_tm_memory.render.outcomes import ApplyOutcome, ConfigMapOutcome, TargetOutcome, WriteState
from flink_tm_memory.render.plan import derive_memory_plan
from flink_tm_memory.render.status import StatusInput, render_status

SAMPLES = Path(__file__).resolve().parents[3] / "manifests" / "samples"
LAYOUT = {
    "observedGeneration", "flinkVersion", "conditions", "breakdown", "summary", "cpuCores", "numSlots",
    "jvmParameters", "dynamicConfigs", "podResources", "managedMemorySplit", "notes", "applied",
}  # fmt: skip
EXPECTED: dict[str, tuple[int, set[str]]] = {
    # sample: (its status's YAML lines, measured: ~125 before issue 15 for process-size; its top-level fields)
    "deployment-target": (80, LAYOUT | {"interpretations"}),
    "flink-size": (67, LAYOUT),
    "flinkdeployment-target": (73, LAYOUT - {"notes"} | {"interpretations"}),
    "heap-managed": (69, LAYOUT),
    "kubernetes-quantity": (74, LAYOUT | {"interpretations"}),
    "process-size": (70, LAYOUT),
    "rocksdb-python": (64, LAYOUT - {"notes"}),
    "sized-by-needs": (79, LAYOUT | {"sizing"}),
    "statefulset-target": (73, LAYOUT),
}


def applied_status(name: str) -> dict[str, Any]:
    """The status the operator writes for a sample whose layout was written to every target."""
    document = yaml.safe_load((SAMPLES / f"{name}.yaml").read_text(encoding="utf-8"))
    plan = derive_memory_plan(document["spec"])
    assert plan.spec is not None, plan.conflicts
    assert plan.layout is not None, plan.conflicts
    targets = tuple(
        TargetOutcome(
            target.kind, target.name, WriteState.UPDATED, container=target.container or "taskmanager"
        )
        for target in plan.spec.targets.workloads
    )
    name_of_config_map = plan.spec.targets.config_map.name or f"{name}-flink-tm-memory"
    outcome = ApplyOutcome(
        1, ConfigMapOutcome(name_of_config_map, WriteState.CREATED, hash="4e6aac58ad614317"), targets
    )
    return render_status(
        StatusInput(
            generation=1,
            current=plan,
            effective=plan,
            effective_generation=1,
            pod_resources=plan_pod_resources(plan),
            outcome=outcome,
            previous={},
            now=datetime(2026, 12, 7, tzinfo=UTC),
        )
    )


def test_every_stored_sample_is_measured() -> None:
    stored = {path.stem for path in SAMPLES.glob("*.yaml")} - {"conflicting"}
    assert stored == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_samples_status_stays_within_its_line_budget_and_fields(name: str) -> None:
    status = applied_status(name)
    lines = len(yaml.safe_dump(status, sort_keys=False, width=1 << 16).splitlines())
    budget, fields = EXPECTED[name]
    print(f"{name}: {lines} lines of status")
    assert lines <= budget, yaml.safe_dump(status, sort_keys=False, width=1 << 16)
    assert set(status) == fields


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_samples_status_says_each_size_once(name: str) -> None:
    status = applied_status(name)
    assert all(isinstance(size, int) for size in status["breakdown"].values()), status["breakdown"]
    assert set(status["summary"]) == {"process", "heap", "managed", "network"}
    for side in ("requests", "limits"):
        assert set(status["podResources"][side]) == {"memory", "cpu"}
    assert all("humanPerSlot" not in share for share in status["managedMemorySplit"])
    for note in status.get("notes", []):
        assert all(note.get(key) != [] for key in ("keys", "fields")), note
    for reading in status.get("interpretations", []):
        assert reading["convention"] == "Kubernetes" or reading["ambiguous"] or "bytes" not in reading
