"""Our own conformance cases, answered by real Flink for every supported release, must match exactly.

The public vectors cover some rules thinly (external resources, CPU truncation, deprecated and
legacy keys, unit spellings, min/max boundaries, YAML-looking values). ``cases/<mode>.jsonl`` holds
hand-written inputs for them; ``regenerate.py`` stores Flink's answers in ``vectors-own/`` (never
answers from our engine). A tm case passes only if the breakdown, CPU, slots and both strings, or the
error's message and whole chain, are identical.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from flink_tm_memory.memory import derive_task_manager_memory
from flink_tm_memory.memory.local import derive_local_execution, local_output
from flink_tm_memory.memory.oracle_format import task_manager_output
from tests.conformance.jsonl import read_jsonl

HERE = Path(__file__).parent
CASES = HERE / "cases"
OWN_VECTORS = HERE / "vectors-own"
PUBLIC_VECTORS = HERE / "vectors"
MODE_FOLDERS = {"tm": OWN_VECTORS, "local": OWN_VECTORS / "local", "weights": OWN_VECTORS / "weights"}
TM_FILES = sorted(OWN_VECTORS.glob("*.jsonl"))
LOCAL_FILES = sorted((OWN_VECTORS / "local").glob("*.jsonl"))
ALL_FILES = [(mode, path) for mode, folder in MODE_FOLDERS.items() for path in sorted(folder.glob("*.jsonl"))]
SHOWN = 20


def load_cases(path: Path) -> list[dict[str, Any]]:
    return read_jsonl(path)


def without_expect(case: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in case.items() if key != "expect"}


def test_own_vectors_exist_for_every_version_with_public_vectors() -> None:
    public = {path.stem for path in PUBLIC_VECTORS.glob("*.jsonl")}
    assert {path.stem for path in TM_FILES} == public


@pytest.mark.parametrize(("mode", "path"), ALL_FILES, ids=lambda value: getattr(value, "stem", value))
def test_own_vectors_were_made_from_the_current_cases(mode: str, path: Path) -> None:
    inputs = load_cases(CASES / f"{mode}.jsonl")
    assert [without_expect(case) for case in load_cases(path)] == inputs, (
        f"{path.relative_to(HERE)} is stale: run `make vectors` after editing cases/{mode}.jsonl"
    )


@pytest.mark.parametrize("path", TM_FILES, ids=lambda path: path.stem)
def test_every_own_case_matches_flink(path: Path) -> None:
    cases = load_cases(path)
    assert cases
    version = path.stem
    mismatches = []
    for case in cases:
        got = task_manager_output(derive_task_manager_memory(case["config"], version))
        if got != case["expect"]:
            mismatches.append(
                f"{case['id']}: {json.dumps(case['config'])}\n  got  {got}\n  want {case['expect']}"
            )
    assert not mismatches, f"{len(mismatches)} of {len(cases)} cases differ:\n" + "\n".join(
        mismatches[:SHOWN]
    )


@pytest.mark.parametrize("path", LOCAL_FILES, ids=lambda path: path.stem)
def test_every_own_local_execution_case_matches_flink(path: Path) -> None:
    cases = load_cases(path)
    assert cases
    mismatches = [
        f"{case['id']}: {json.dumps(case['config'])}\n  got  {got}\n  want {case['expect']}"
        for case in cases
        if (got := local_output(derive_local_execution(case["config"], path.stem))) != case["expect"]
    ]
    assert not mismatches, f"{len(mismatches)} of {len(cases)} cases differ:\n" + "\n".join(
        mismatches[:SHOWN]
    )
