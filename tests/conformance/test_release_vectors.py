"""Real Flink accepts the ``ManagedMemoryUnused`` note's advice, and it frees the managed memory as it says.

``vectors-release/<v>.jsonl`` (``release_vectors.py``, made by ``make vectors``, no Java needed here)
holds, for every public vector Flink lays out with managed memory, the change the note advises and
Flink's verdict on the configuration with it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from flink_tm_memory.memory.options import MANAGED_SIZE, TASK_HEAP
from flink_tm_memory.memory.sizes import parse_memory_size
from tests.conformance.jsonl import read_jsonl
from tests.conformance.release_vectors import PUBLIC_ROOT, RELEASE_ROOT, cases_for, engine_release

FILES = sorted(RELEASE_ROOT.glob("*.jsonl"))
SHOWN = 10


def lines(path: Path) -> list[dict[str, Any]]:
    return read_jsonl(path)


def public_layouts(version: str) -> dict[str, dict[str, int]]:
    return {
        line["id"]: line["expect"]["bytes"]
        for line in read_jsonl(PUBLIC_ROOT / f"{version}.jsonl")
        if line["expect"]["ok"]
    }


def test_release_vectors_exist_for_every_version_with_public_vectors() -> None:
    assert {path.stem for path in FILES} == {path.stem for path in PUBLIC_ROOT.glob("*.jsonl")}


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.stem)
def test_the_engine_advises_what_flink_was_asked_about(path: Path) -> None:
    cases = {case["id"]: case for case in cases_for(path.stem)}
    on_file = lines(path)
    assert [line["id"] for line in on_file] == list(cases)
    stale = [
        line["id"] for line in on_file if engine_release(cases[line["id"]], path.stem) != line["release"]
    ]
    assert not stale, (
        f"{path.name} is stale for {stale[:SHOWN]}: run `make vectors VECTORS_ARGS='--modes release'`"
    )


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.stem)
def test_flink_accepts_every_piece_of_advice_with_no_managed_memory(path: Path) -> None:
    advised = [line for line in lines(path) if line["release"]]
    assert len(advised) > len(lines(path)) * 0.9
    refused = [(line["id"], line["flink"]) for line in advised if not line["flink"]["ok"]]
    assert not refused, refused[:SHOWN]
    kept = [line["id"] for line in advised if line["flink"]["bytes"]["managed"] != 0]
    assert not kept, kept[:SHOWN]
    assert all(line["release"][MANAGED_SIZE.key] == "0" for line in advised)


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.stem)
def test_the_task_heap_takes_exactly_the_managed_memory_when_the_advice_says_so(path: Path) -> None:
    before = public_layouts(path.stem)
    to_heap = [line for line in lines(path) if line["release"] and TASK_HEAP.key in line["release"]]
    assert to_heap  # a configured task heap with a fixed total is among the public vectors
    wrong = [
        line["id"]
        for line in to_heap
        if line["flink"]["bytes"]["taskHeap"] != before[line["id"]]["taskHeap"] + line["managed"]
        or parse_memory_size(line["release"][TASK_HEAP.key]) != line["flink"]["bytes"]["taskHeap"]
        or line["flink"]["bytes"]["totalProcess"] != before[line["id"]]["totalProcess"]
    ]
    assert not wrong, wrong[:SHOWN]


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.stem)
def test_no_advice_only_where_flink_refuses_both_changes(path: Path) -> None:
    """The engine gives no advice for a few cases: Flink was not asked, so the engine must refuse both
    candidates itself; the public vectors pin the engine to Flink on refusals."""
    unadvised = [line for line in lines(path) if line["release"] is None]
    assert len(unadvised) < len(lines(path)) * 0.05
