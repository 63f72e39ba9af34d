"""The committed CRD is exactly what the models generate: never hand-edited, never stale."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from flink_tm_memory.api.crd import CRD_PATH, REGENERATE_COMMAND, render_crd_yaml

ROOT = Path(__file__).resolve().parents[2]


def test_the_committed_crd_matches_a_fresh_generation() -> None:
    committed = ROOT / CRD_PATH
    assert committed.is_file(), f"{CRD_PATH} is missing: generate it with `{REGENERATE_COMMAND}`"
    assert committed.read_text(encoding="utf-8") == render_crd_yaml(), (
        f"{CRD_PATH} is stale: regenerate it with `{REGENERATE_COMMAND}` from the repository root"
    )


def test_the_regeneration_command_checks_the_committed_file_from_the_repository_root() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "flink_tm_memory.api.crd", "--check"],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT / "operator")},
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
