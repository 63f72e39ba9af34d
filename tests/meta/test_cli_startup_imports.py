"""A one-shot ``flink-tm-memory derive`` imports nothing that slows its start: a speed test that times nothing.

The command must answer at least 10x faster than Flink's ``BashJavaUtils`` (``benchmarks/run.py``
measures it), and at a few tens of milliseconds the imports are most of the answer. ``dataclasses``
(which imports ``inspect``) and ``typing`` cost about a quarter of it, the operator's dependencies far
more; ``memory/records.py`` explains how the derive path does without them. Timing the command here
would be flaky; checking what it imported is not.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SLOW_TO_IMPORT = frozenset({"dataclasses", "inspect", "typing", "kopf", "kubernetes", "pydantic", "yaml"})

# Modules already loaded by the interpreter's start (site, .pth files) are not the command's doing.
_PROBE = """\
import sys
already_loaded = set(sys.modules)
from flink_tm_memory.cli import main
main(sys.argv[1:])
print(*sorted(set(sys.modules) - already_loaded), sep="\\n", file=sys.stderr)
"""


def imported_by(*arguments: str) -> set[str]:
    """The top-level names of the modules the command imported, run in a fresh interpreter."""
    environment = {**os.environ, "PYTHONPATH": str(ROOT / "operator")}
    completed = subprocess.run(
        [sys.executable, "-c", _PROBE, *arguments],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        env=environment,
    )
    assert completed.stdout, completed.stderr
    return {line.split(".")[0] for line in completed.stderr.splitlines()}


@pytest.mark.parametrize(
    "arguments",
    [
        pytest.param(("derive",), id="table-shipped-default"),
        pytest.param(("derive", "-D", "taskmanager.memory.process.size=1m"), id="table-rejected"),
        pytest.param(
            (
                "derive",
                "--format",
                "flink",
                "--flink-version",
                "2.2.1",
                "-D",
                "taskmanager.memory.process.size=1728m",
            ),
            id="flink-as-benchmarked",
        ),
    ],
)
def test_a_one_shot_derive_imports_nothing_slow(arguments: tuple[str, ...]) -> None:
    assert imported_by(*arguments) & SLOW_TO_IMPORT == set()


def test_the_probe_sees_a_slow_import() -> None:
    # --format yaml imports yaml on purpose: proof that the check above can fail.
    assert "yaml" in imported_by("derive", "--format", "yaml")
