"""The fixes proposed for an OOM-killed TaskManager are accepted by real Flink and give the budget room.

``vectors-oom-fixes/<v>.jsonl`` holds, for a grid of specs, the attribution's fixes and real Flink's
layout of each spec's configuration and of each fixed one (``oom_fix_vectors.py``; no Java needed
here). The proposals are derived again and must be the ones Flink was asked about.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from flink_tm_memory.memory.engine import derive_task_manager_memory
from tests.conformance.oom_fix_vectors import ROOT, VERSIONS, on_file, proposed

FILES = sorted(ROOT.glob("*.jsonl"))
OVERHEAD_KEYS = {"taskmanager.memory.jvm-overhead.min", "taskmanager.memory.jvm-overhead.max"}


def caps(flink_bytes: dict[str, int]) -> tuple[int, int, int, int]:
    """Heap, direct memory, metaspace and managed memory, as Flink sized them."""
    heap = flink_bytes["frameworkHeap"] + flink_bytes["taskHeap"]
    direct = flink_bytes["frameworkOffHeap"] + flink_bytes["taskOffHeap"] + flink_bytes["network"]
    return heap, direct, flink_bytes["jvmMetaspace"], flink_bytes["managed"]


def flink_budget(line: dict[str, Any], flink_bytes: dict[str, int], factor: float) -> int:
    """The budget in Flink's bytes: overhead, managed when counted, and what the limit grants beyond."""
    managed = flink_bytes["managed"] if "managed" in line["budget"] else 0
    beyond = int(-(-flink_bytes["totalProcess"] * factor // 1)) - flink_bytes["totalProcess"]
    return flink_bytes["jvmOverhead"] + managed + max(0, beyond)


def limit_factor(spec: dict[str, Any]) -> float:
    return float((spec.get("resources") or {}).get("memoryLimitFactor", 1.0))


def test_vectors_exist_for_every_version() -> None:
    assert {path.stem for path in FILES} == set(VERSIONS)


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.stem)
def test_the_proposals_on_file_are_the_attributions(path: Path) -> None:
    for line in on_file(path.stem):
        again = proposed(line["spec"])
        assert [fix["config"] for fix in again["fixes"]] == [fix["config"] for fix in line["fixes"]], (
            f"{path.name} is stale: run python -m tests.conformance.oom_fix_vectors --oracle ..."
        )
        assert again["budgetBytes"] == line["budgetBytes"]


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.stem)
def test_flink_accepts_every_fix_and_the_engine_derives_flinks_layout(path: Path) -> None:
    for line in on_file(path.stem):
        assert line["flink"]["ok"], line["id"]
        assert line["fixes"], line["id"]
        for fix in line["fixes"]:
            assert fix["flink"]["ok"], (line["id"], fix["summary"], fix["flink"])
            layout = derive_task_manager_memory(fix["config"], path.stem).layout
            assert layout is not None
            assert layout.components() == {
                key: value for key, value in fix["flink"]["bytes"].items() if key in layout.components()
            }, (line["id"], fix["summary"])


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.stem)
def test_in_flinks_bytes_the_overhead_fix_keeps_every_cap_and_every_fix_gives_the_room(path: Path) -> None:
    for line in on_file(path.stem):
        before = line["flink"]["bytes"]
        assert flink_budget(line, before, limit_factor(line["spec"])) == line["budgetBytes"], line["id"]
        for fix in line["fixes"]:
            after = fix["flink"]["bytes"]
            factor = float(fix["resources"].get("memoryLimitFactor", limit_factor(line["spec"])))
            added = flink_budget(line, after, factor) - flink_budget(line, before, limit_factor(line["spec"]))
            assert added >= line["room"], (line["id"], fix["summary"], added, line["room"])
            if set(fix["flinkConfiguration"]) >= OVERHEAD_KEYS:
                assert caps(after) == caps(before), (line["id"], fix["summary"])
