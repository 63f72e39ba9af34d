"""Every managed-memory weights vector from real Flink, for every supported release, must match exactly.

``vectors/weights/<version>.jsonl`` are the oracle's public weights vectors (300 cases per release);
``vectors-own/weights/<version>.jsonl`` are Flink's answers to our own inputs in ``cases/weights.jsonl``,
made by ``regenerate.py`` (``make vectors``; see README.md), which runs
``flink-oracle --flink <version> --weights`` on them. A case passes only if the weights, the state backend
decision and every fraction, or the error's class, message and whole chain, are identical.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from flink_tm_memory.memory.weights import derive_managed_memory_weights, weights_output
from tests.conformance.jsonl import read_jsonl

HERE = Path(__file__).parent
PUBLIC_FILES = sorted((HERE / "vectors" / "weights").glob("*.jsonl"))
OWN_FILES = sorted((HERE / "vectors-own" / "weights").glob("*.jsonl"))
RELEASES = {"1.17", "1.18", "1.19", "1.20", "2.0", "2.1", "2.2", "2.3"}


def load_cases(path: Path) -> list[dict[str, Any]]:
    return read_jsonl(path)


def derive_as_oracle(case: dict[str, Any], version: str) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if "useCases" in case:
        options["use_cases"] = case["useCases"]
    if "stateBackendUsesManagedMemory" in case:
        options["state_backend_uses_managed_memory"] = case["stateBackendUsesManagedMemory"]
    if "fractionOfUseCase" in case:
        options["fraction_of_use_case"] = case["fractionOfUseCase"]
    if "jobConfig" in case:
        options["job_config"] = case["jobConfig"]
    return weights_output(derive_managed_memory_weights(case["config"], version, **options))


def mismatches(path: Path) -> list[str]:
    found = []
    for case in load_cases(path):
        got = derive_as_oracle(case, path.stem)
        if got != case["expect"]:
            found.append(f"{case['id']}: {json.dumps(case['config'])}\n  got  {got}\n  want {case['expect']}")
    return found


@pytest.mark.parametrize("files", [PUBLIC_FILES, OWN_FILES], ids=["public", "own"])
def test_every_supported_release_has_weights_vectors(files: list[Path]) -> None:
    assert {path.stem.rsplit(".", 1)[0] for path in files} == RELEASES


@pytest.mark.parametrize("path", PUBLIC_FILES, ids=lambda path: path.stem)
def test_every_public_case_matches_flink(path: Path) -> None:
    assert len(load_cases(path)) >= 300
    found = mismatches(path)
    assert not found, f"{len(found)} cases differ:\n" + "\n".join(found[:5])


@pytest.mark.parametrize("path", OWN_FILES, ids=lambda path: path.stem)
def test_every_own_case_matches_flink(path: Path) -> None:
    assert load_cases(path)
    found = mismatches(path)
    assert not found, f"{len(found)} cases differ:\n" + "\n".join(found[:5])
