"""Oversized and hostile specs, as the operator sees them when no schema stopped them first.

The emulator does not apply the CRD's schema (a cluster without the webhook, or an older CRD, would
not either), so the operator reads these specs raw. Each must leave the resource ``Degraded`` with a
conflict naming the field, write nothing (no ConfigMap, no workload, no recorded spec), and keep the
operator reconciling every other resource; a valid resource turning hostile keeps its last layout.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from flink_tm_memory.render.metadata import LAST_APPLIED_ANNOTATION
from tests.integration.emulator import ApiEmulator
from tests.integration.kubectl import CONFIG_MAPS, MEMORIES, Kubectl, observed, ready, sample

PROCESS = "taskmanager.memory.process.size"


def deep(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {"size": "2g"}
    for _ in range(levels):
        value = {"a": value}
    return value


HOSTILE: dict[str, tuple[dict[str, Any], str, str]] = {
    "a-million-digits": (
        {"flinkConfiguration": {PROCESS: "1" * 1_000_000}},
        "SpecTooLarge",
        f"spec.flinkConfiguration[{PROCESS}]",
    ),
    "ten-thousand-keys": (
        {"flinkConfiguration": {f"key.{index}": "v" * 8 for index in range(10_000)}},
        "SpecTooLarge",
        "spec.flinkConfiguration (10000 options)",
    ),
    "nested-100-deep": (
        {"flinkConfiguration": {PROCESS: deep(100)}},
        "SpecTooLarge",
        f"spec.flinkConfiguration[{PROCESS}]",
    ),
    "overflowing-long": (
        {"flinkConfiguration": {PROCESS: "9223372036854775808"}},
        "InvalidMemorySize",
        f"spec.flinkConfiguration[{PROCESS}]",
    ),
    "nan-fraction": (
        {"flinkConfiguration": {PROCESS: "2g", "taskmanager.memory.managed.fraction": math.nan}},
        "InvalidFraction",
        "spec.flinkConfiguration[taskmanager.memory.managed.fraction]",
    ),
    "infinite-limit-factor": (
        {"resources": {"memory": "2Gi", "memoryLimitFactor": math.inf}},
        "InvalidSpec",
        "spec.resources.memoryLimitFactor",
    ),
    "fullwidth-unit": (
        {"flinkConfiguration": {PROCESS: "2048\uff4d"}},
        "InvalidMemorySize",
        f"spec.flinkConfiguration[{PROCESS}]",
    ),
    "cyrillic-unit": (
        {"flinkConfiguration": {PROCESS: "2048\u043c"}},
        "InvalidMemorySize",
        f"spec.flinkConfiguration[{PROCESS}]",
    ),
    "billion-laughs-weights": (
        {
            "flinkConfiguration": {
                PROCESS: "2g",
                "taskmanager.memory.managed.consumer-weights": "{OPERATOR: 70, a: &a [x], b: ["
                + ", ".join(["*a"] * 51)
                + "]}",
            }
        },
        "InvalidConsumerWeights",
        "spec.flinkConfiguration[taskmanager.memory.managed.consumer-weights]",
    ),
}


@pytest.mark.parametrize(("spec", "reason", "field"), HOSTILE.values(), ids=HOSTILE.keys())
async def test_a_hostile_spec_is_degraded_naming_the_field_and_writes_nothing(
    operator: object, kubectl: Kubectl, spec: dict[str, Any], reason: str, field: str
) -> None:
    await kubectl.create(MEMORIES, sample("process-size"))
    await ready(kubectl, "process-size")
    hostile = {"apiVersion": "flinkmemory.io/v1alpha1", "kind": "FlinkTaskManagerMemory"}
    await kubectl.create(
        MEMORIES, {**hostile, "metadata": {"name": "hostile", "namespace": "default"}, "spec": spec}
    )

    status = await observed(kubectl, "hostile", 1, timeout=20)

    primary = next(conflict for conflict in status["conflicts"] if conflict["primary"])
    assert primary["reason"] == reason, primary
    assert field in primary["fields"] or primary["message"].startswith(field), primary
    assert len(primary["message"]) < 4096
    assert (
        kubectl.condition("hostile", "Ready")["status"],
        kubectl.condition("hostile", "Ready")["reason"],
    ) == (
        "False",
        "Degraded",
    )
    assert kubectl.get(CONFIG_MAPS, "hostile-flink-tm-memory") is None
    annotations = (kubectl.get(MEMORIES, "hostile") or {})["metadata"].get("annotations") or {}
    assert LAST_APPLIED_ANNOTATION not in annotations
    await _still_reconciles_the_others(kubectl)


async def _still_reconciles_the_others(kubectl: Kubectl) -> None:
    await kubectl.patch(MEMORIES, "process-size", {"spec": {"flinkConfiguration": {PROCESS: "4g"}}})
    status = await ready(kubectl, "process-size", timeout=20)
    assert status["breakdown"]["totalProcess"] == 4 << 30
    assert status["observedGeneration"] == 2


async def test_a_resource_turning_hostile_keeps_its_last_layout_written_once(
    operator: object, kubectl: Kubectl, emulator: ApiEmulator
) -> None:
    await kubectl.create(MEMORIES, sample("process-size"))
    good = await ready(kubectl, "process-size")
    recorded = (kubectl.get(MEMORIES, "process-size") or {})["metadata"]["annotations"][
        LAST_APPLIED_ANNOTATION
    ]

    await kubectl.patch(
        MEMORIES, "process-size", {"spec": {"flinkConfiguration": {"padding": "x" * (200 << 10)}}}
    )
    status = await observed(kubectl, "process-size", 2, timeout=20)

    assert [conflict["reason"] for conflict in status["conflicts"]] == ["SpecTooLarge"]
    assert status["conflicts"][0]["fields"] == ["spec.flinkConfiguration[padding]"]
    assert status["breakdown"] == good["breakdown"]
    assert len(emulator.versions(CONFIG_MAPS, "default", "process-size-flink-tm-memory")) == 1
    annotations = (kubectl.get(MEMORIES, "process-size") or {})["metadata"]["annotations"]
    assert annotations[LAST_APPLIED_ANNOTATION] == recorded
    assert kubectl.condition("process-size", "Applied")["reason"] == "LastGoodKept"
