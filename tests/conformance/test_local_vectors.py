"""Every public local-execution vector from real Flink, for every supported release, must match exactly.

The vectors in ``vectors/local/<version>.jsonl`` hold what Flink's
``TaskExecutorResourceUtils.resourceSpecFromConfigForLocalExecution`` answered (see ``regenerate.py``);
a case passes only if CPU, the four sizes and the adjusted configuration, or the error's message and
whole chain, are identical.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from flink_tm_memory.memory.local import derive_local_execution, local_output
from tests.conformance.jsonl import read_jsonl

VECTORS = Path(__file__).parent / "vectors" / "local"
VERSION_FILES = sorted(VECTORS.glob("*.jsonl"))


def load_cases(path: Path) -> list[dict[str, Any]]:
    return read_jsonl(path)


def test_every_supported_version_has_local_vectors() -> None:
    names = {path.stem.rsplit(".", 1)[0] for path in VERSION_FILES}
    assert names == {"1.17", "1.18", "1.19", "1.20", "2.0", "2.1", "2.2", "2.3"}


@pytest.mark.parametrize("path", VERSION_FILES, ids=lambda path: path.stem)
def test_every_local_case_matches_flink(path: Path) -> None:
    cases = load_cases(path)
    assert len(cases) >= 300
    version = path.stem
    mismatches = []
    for case in cases:
        got = local_output(derive_local_execution(case["config"], version))
        if got != case["expect"]:
            mismatches.append(
                f"{case['id']}: {json.dumps(case['config'])}\n  got  {got}\n  want {case['expect']}"
            )
    assert not mismatches, f"{len(mismatches)} of {len(cases)} cases differ:\n" + "\n".join(mismatches[:5])
