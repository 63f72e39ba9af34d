"""The engine's fixes for every case Flink rejects are accepted by real Flink, and minimal to 1 MiB.

``vectors-fixes/<v>.jsonl`` holds, for every rejected tm vector (public and own), the fixes the engine
proposed and real Flink's verdict on each fixed configuration and on each fix moved 1 MiB back
towards the user's size (see ``fix_vectors.py``; made by ``make vectors``, no Java needed here).
The engine's proposals are derived again and must be exactly the ones Flink was asked about.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conformance.fix_vectors import FIX_ROOT, build, proposed, rejected_cases, without_answers
from tests.conformance.jsonl import read_jsonl

PUBLIC_VECTORS = Path(__file__).parent / "vectors"
FILES = sorted(FIX_ROOT.glob("*.jsonl"))
SHOWN = 10


def lines(path: Path) -> dict[tuple[str, str], dict[str, Any]]:
    return {(line["suite"], line["id"]): line for line in read_jsonl(path)}


def test_fix_vectors_exist_for_every_version_with_public_vectors() -> None:
    assert {path.stem for path in FILES} == {path.stem for path in PUBLIC_VECTORS.glob("*.jsonl")}


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.stem)
def test_every_rejected_case_has_fixes_on_file(path: Path) -> None:
    on_file = lines(path)
    rejected = [(suite, case["id"]) for suite, case in rejected_cases(path.stem)]
    assert list(on_file) == rejected, f"{path.name} is stale: run `make vectors VECTORS_ARGS='--modes fixes'`"
    assert all(line["fixes"] for line in on_file.values())


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.stem)
def test_flink_accepts_every_fix(path: Path) -> None:
    refused = [
        (line["id"], fix["set"], fix["unset"], fix["flink"])
        for line in lines(path).values()
        for fix in line["fixes"]
        if not fix["flink"]["ok"]
    ]
    assert not refused, refused[:SHOWN]


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.stem)
def test_flink_rejects_every_fix_one_mib_closer_to_the_users_size(path: Path) -> None:
    accepted = [
        (line["id"], closer)
        for line in lines(path).values()
        for fix in line["fixes"]
        for closer in fix["closer"]
        if closer["flink"]["ok"]
    ]
    assert not accepted, accepted[:SHOWN]


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.stem)
def test_the_engine_proposes_the_fixes_flink_judged(path: Path) -> None:
    on_file = lines(path)
    differing = []
    for suite, case in rejected_cases(path.stem):
        judged = [without_answers(fix) for fix in on_file[(suite, case["id"])]["fixes"]]
        if proposed(case, path.stem) != judged:
            differing.append(case["id"])
    assert not differing, (
        f"{len(differing)} cases' fixes changed since Flink judged them (e.g. {differing[:SHOWN]}): "
        "run `make vectors VECTORS_ARGS='--modes fixes'`"
    )


def test_the_regeneration_asks_about_every_fix_and_every_size_moved_one_mib_closer() -> None:
    asked: list[dict[str, Any]] = []

    def ask(questions: list[dict[str, Any]]) -> list[dict[str, Any]]:
        asked.extend(questions)
        return [{"id": question["id"], "ok": True} for question in questions]

    built = build("2.2.1", ask)

    fixes = [fix for line in built for fix in line["fixes"]]
    closer = [entry for fix in fixes for entry in fix["closer"]]
    assert len(asked) == len(fixes) + len(closer)
    assert len({question["id"] for question in asked}) == len(asked)
    assert all(fix["flink"] == {"ok": True} for fix in fixes)
    assert all(entry["flink"] == {"ok": True} for entry in closer)
    assert [(line["suite"], line["id"]) for line in built] == [
        (suite, case["id"]) for suite, case in rejected_cases("2.2.1")
    ]
