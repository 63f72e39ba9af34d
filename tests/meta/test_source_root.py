"""``operator/`` is a source root, never a package: a package there would shadow the standard library."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_operator_folder_has_no_init_module() -> None:
    assert not (ROOT / "operator" / "__init__.py").exists()


def test_operator_folder_holds_only_the_import_package() -> None:
    # Build by-products (pip's editable egg-info, caches) are ignored by git and do not count.
    entries = {
        path.name
        for path in (ROOT / "operator").iterdir()
        if path.name != "__pycache__" and not path.name.endswith(".egg-info")
    }
    assert entries == {"flink_tm_memory"}


def test_import_operator_is_the_standard_library_module_from_the_repo_root() -> None:
    probe = (
        "import operator, sys; print(operator.__file__); "
        "sys.exit(0 if hasattr(operator, 'itemgetter') else 1)"
    )
    completed = subprocess.run(
        [sys.executable, "-S", "-c", probe], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stderr
    assert not completed.stdout.strip().startswith(str(ROOT / "operator"))
