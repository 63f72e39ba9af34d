"""Every generated file of the repository, written or checked by one command.

    python -m tests.generated           # write them (what `make manifests` runs)
    python -m tests.generated --check   # exit 1 naming each stale file (what `make verify` runs)

The files and what makes each:

- ``manifests/crd/...yaml`` and the chart's copy in ``files/``: the CRD, from the pydantic models
  (``flink_tm_memory.api.crd``);
- ``manifests/webhooks/flink-tm-memory-operator.yaml``: the webhook configurations, as
  ``flink-tm-memory webhook-configurations`` prints them with its defaults;
- ``manifests/install.yaml``: the chart rendered by real Helm with default values (needs ``make tools``).

A file is written only when its content changes, so a fresh checkout regenerates to no diff.
"""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Callable
from contextlib import redirect_stdout
from dataclasses import dataclass
from pathlib import Path

from flink_tm_memory.api.crd import render_crd_yaml
from flink_tm_memory.cli import main as cli_main
from tests.chart.install_manifest import install_manifest

ROOT = Path(__file__).resolve().parents[1]
CRD = Path("manifests/crd/flinkmemory.io_flinktaskmanagermemories.yaml")


@dataclass(frozen=True, slots=True)
class Generated:
    """One generated file: where it lives, and how its content is made."""

    path: Path
    make: Callable[[], str]

    def stale(self) -> bool:
        target = ROOT / self.path
        return not target.is_file() or target.read_text(encoding="utf-8") != self.make()

    def write(self) -> bool:
        """Writes the file if its content changed; whether it did."""
        target = ROOT / self.path
        fresh = self.make()
        if target.is_file() and target.read_text(encoding="utf-8") == fresh:
            return False
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(fresh, encoding="utf-8")
        return True


def webhook_configurations() -> str:
    out = io.StringIO()
    with redirect_stdout(out):
        code = cli_main(["webhook-configurations"])
    if code != 0:
        raise RuntimeError(f"flink-tm-memory webhook-configurations exited {code}")
    return out.getvalue()


GENERATED = (
    Generated(CRD, render_crd_yaml),
    Generated(Path("charts/flink-tm-memory-operator/files") / CRD.name, render_crd_yaml),
    Generated(Path("manifests/webhooks/flink-tm-memory-operator.yaml"), webhook_configurations),
    Generated(Path("manifests/install.yaml"), install_manifest),
)
"""In dependency order: the chart's copy of the CRD is part of what Helm renders into install.yaml."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 naming each stale file")
    check = parser.parse_args(argv).check
    if check:
        stale = [str(generated.path) for generated in GENERATED if generated.stale()]
        for path in stale:
            print(f"stale: {path} (run `make manifests`)", file=sys.stderr)
        return 1 if stale else 0
    for generated in GENERATED:
        if generated.write():
            print(f"wrote {generated.path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
