"""Whole configuration files, answered by real Flink for every release that reads them, must match.

The cases (``cases/files/<flavour>.jsonl``) are the seeded output of the differential fuzzer
``fuzz_config_files.py``: ``config.yaml`` documents over YAML's syntax and ``flink-conf.yaml`` files
over the line parser's. ``vectors-files/<flavour>/<version>.jsonl`` holds what Flink answered when it
loaded each file itself (``flink-oracle --channel file``; ``make vectors`` regenerates them). A case
passes only if the engine, reading the same text as ``derive --config`` does, gives the same answer;
``file_vectors.py`` says what "the same" means for a file Flink refuses to load.

The fuzzer's documents are random; ``cases/files/syntax/<flavour>.jsonl`` adds hand-written ones for
the corners of YAML's syntax a random document rarely reaches (directives, verbatim tags and their URI
escapes, block scalar indicators, escapes, empty nodes in every kind of collection, ...), with their
vectors in ``vectors-files/syntax/``: together they take the YAML reader's every branch.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.conformance.file_vectors import FLAVOUR_VERSIONS, engine_answer, is_load_failure, same_answer
from tests.conformance.fuzz_config_files import FLAVOURS, generate
from tests.conformance.jsonl import read_jsonl

HERE = Path(__file__).parent
CASES = HERE / "cases" / "files"
VECTORS = HERE / "vectors-files"
SYNTAX = "syntax"
"""The sub-folder of ``cases/files`` and ``vectors-files`` with the hand-written syntax cases."""
PUBLIC_VECTORS = HERE / "vectors"
SEED, COUNT = 17, 300
FILES = [(flavour, version) for flavour, versions in FLAVOUR_VERSIONS.items() for version in versions]
SYNTAX_FILES = [
    (flavour, version) for flavour, version in FILES if (CASES / SYNTAX / f"{flavour}.jsonl").exists()
]
SHOWN = 10


def vector_path(flavour: str, version: str, case_set: str = "") -> Path:
    return VECTORS / case_set / flavour / f"{version}.jsonl"


def test_every_release_reads_some_file_flavour() -> None:
    public = {path.stem for path in PUBLIC_VECTORS.glob("*.jsonl")}
    assert {version for _flavour, version in FILES} == public
    assert set(FLAVOUR_VERSIONS) == set(FLAVOURS)


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_the_cases_are_the_fuzzers_seeded_output(flavour: str) -> None:
    command = f"python -m tests.conformance.fuzz_config_files --seed {SEED} --count {COUNT}"
    assert read_jsonl(CASES / f"{flavour}.jsonl") == generate(flavour, SEED, COUNT), (
        f"cases/files/{flavour}.jsonl is not what `{command}` writes"
    )


@pytest.mark.parametrize(("flavour", "version"), FILES, ids=str)
def test_the_vectors_were_made_from_the_current_cases(flavour: str, version: str) -> None:
    _assert_current(CASES / f"{flavour}.jsonl", vector_path(flavour, version))


@pytest.mark.parametrize(("flavour", "version"), SYNTAX_FILES, ids=str)
def test_the_syntax_vectors_were_made_from_the_current_cases(flavour: str, version: str) -> None:
    _assert_current(CASES / SYNTAX / f"{flavour}.jsonl", vector_path(flavour, version, SYNTAX))


def test_there_are_syntax_cases_for_config_yaml() -> None:
    assert ("config.yaml", "2.2.1") in SYNTAX_FILES


@pytest.mark.parametrize(("flavour", "version"), FILES, ids=str)
def test_the_vectors_hold_accepted_rejected_and_unloadable_files(flavour: str, version: str) -> None:
    # A suite of one kind of answer could not tell a reader that refuses too much from one that refuses too little.
    kinds = Counter(_kind(case["expect"]) for case in read_jsonl(vector_path(flavour, version)))
    assert kinds["ok"] >= 30
    assert kinds["error"] >= 30
    if flavour == "config.yaml":
        assert kinds["refused"] >= 30


@pytest.mark.parametrize(
    ("flavour", "version", "case_set"),
    [*((flavour, version, "") for flavour, version in FILES), *((f, v, SYNTAX) for f, v in SYNTAX_FILES)],
    ids=str,
)
def test_every_file_is_read_as_flink_reads_it(flavour: str, version: str, case_set: str) -> None:
    cases = read_jsonl(vector_path(flavour, version, case_set))
    mismatches = [
        f"{case['id']}: {case['text']!r}\n  got  {json.dumps(got)[:400]}\n  want {json.dumps(case['expect'])[:400]}"
        for case in cases
        if not same_answer(got := engine_answer(case, version), case["expect"])
    ]
    assert not mismatches, f"{len(mismatches)} of {len(cases)} files differ:\n" + "\n".join(
        mismatches[:SHOWN]
    )


def _assert_current(cases: Path, vectors: Path) -> None:
    stored = [{key: value for key, value in case.items() if key != "expect"} for case in read_jsonl(vectors)]
    assert stored == read_jsonl(cases), f"{vectors.relative_to(HERE)} is stale: run `make vectors`"


def _kind(answer: dict[str, Any]) -> str:
    return "ok" if answer["ok"] else "refused" if is_load_failure(answer) else "error"
