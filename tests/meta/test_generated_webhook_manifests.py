"""The committed webhook configurations are exactly what ``flink-tm-memory webhook-configurations`` prints."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "manifests" / "webhooks" / "flink-tm-memory-operator.yaml"


def test_the_committed_webhook_manifest_matches_a_fresh_generation() -> None:
    fresh = subprocess.run(
        [sys.executable, "-m", "flink_tm_memory", "webhook-configurations"],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT / "operator")},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert MANIFEST.is_file(), "manifests/webhooks/ is missing: run `make manifests`"
    assert MANIFEST.read_text(encoding="utf-8") == fresh, "manifests/webhooks/ is stale: run `make manifests`"
