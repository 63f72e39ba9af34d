"""The engine's sizing answers meet every need in real Flink, and 1 MiB less does not.

``vectors-sizing/<v>.jsonl`` holds, for every seeded case of ``cases/sizing.jsonl``, the engine's
answer (the options to set) and real Flink's verdicts on the user's configuration with that answer
and with its process size 1 MiB smaller (see ``sizing_vectors.py``; made by ``make vectors``, no Java
needed here). The engine's answers are derived again and must be exactly the ones Flink was asked about.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from flink_tm_memory.memory.sizes import MIB, parse_memory_size
from tests.conformance.jsonl import read_jsonl
from tests.conformance.sizing_vectors import PROCESS_SIZE, SIZING_ROOT, cases_for, engine_answer, meets

PUBLIC_VECTORS = Path(__file__).parent / "vectors"
FILES = sorted(SIZING_ROOT.glob("*.jsonl"))
SHOWN = 10


def lines(path: Path) -> list[dict[str, Any]]:
    return read_jsonl(path)


def test_sizing_vectors_exist_for_every_version_with_public_vectors() -> None:
    assert {path.stem for path in FILES} == {path.stem for path in PUBLIC_VECTORS.glob("*.jsonl")}


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.stem)
def test_the_engine_answers_what_flink_was_asked_about(path: Path) -> None:
    on_file = lines(path)
    assert [line["id"] for line in on_file] == [case["id"] for case in cases_for(path.stem)]
    stale = [line["id"] for line in on_file if engine_answer(line, path.stem) != line["answer"]]
    assert not stale, (
        f"{path.name} is stale for {stale[:SHOWN]}: run `make vectors VECTORS_ARGS='--modes sizing'`"
    )


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.stem)
def test_flink_lays_out_every_answer_meeting_every_need(path: Path) -> None:
    answered = [line for line in lines(path) if line["answer"]["ok"]]
    assert len(answered) > len(lines(path)) * 0.9  # the cases are meant to be meetable, but a few
    unmet = [(line["id"], line["flink"]) for line in answered if not meets(line["flink"], line["needs"])]
    assert not unmet, unmet[:SHOWN]


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.stem)
def test_one_mib_less_process_memory_does_not_meet_the_needs(path: Path) -> None:
    answered = [line for line in lines(path) if line["answer"]["ok"]]
    still_met = [line["id"] for line in answered if meets(line["smaller"], line["needs"])]
    assert not still_met, still_met[:SHOWN]


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.stem)
def test_every_answer_sets_a_process_size_in_whole_mib(path: Path) -> None:
    sizes = [line["answer"]["config"][PROCESS_SIZE] for line in lines(path) if line["answer"]["ok"]]
    assert sizes
    assert all(parse_memory_size(size) % MIB == 0 and size.endswith(("m", "g", "t")) for size in sizes)


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.stem)
def test_flink_cannot_meet_the_needs_the_engine_calls_unmeetable(path: Path) -> None:
    unmeetable = [line for line in lines(path) if not line["answer"]["ok"]]
    assert unmeetable  # the refused base is among the cases
    met = [line["id"] for line in unmeetable if meets(line["flink"], line["needs"])]
    assert not met, met[:SHOWN]
