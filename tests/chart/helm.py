"""The chart as Helm renders it: real Helm (built from its Go module by ``make tools``), run by the tests.

``render`` runs ``helm template`` with the given values (written to a file, as a user's values file)
and returns the rendered objects; ``helm_failure`` returns Helm's error for values it must refuse.
Helm is looked up at ``$FLINK_TM_HELM`` or ``.tools/e2e/bin/helm``; a missing binary is an error
naming the command that builds it (the tests fail, never skip).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "flink-tm-memory-operator"
RELEASE = "flink-tm-memory-operator"
NAMESPACE = "flink-tm-memory"
Json = dict[str, Any]


def helm_binary() -> Path:
    binary = Path(os.environ.get("FLINK_TM_HELM", ROOT / ".tools" / "e2e" / "bin" / "helm"))
    if not binary.is_file():
        raise FileNotFoundError(
            f"Helm is not built at {binary}: run `make tools` (builds it from helm.sh/helm/v3)"
        )
    return binary


def helm(*args: str, values: Json | None = None) -> subprocess.CompletedProcess[str]:
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as values_file:
        yaml.safe_dump(values or {}, values_file)
        values_file.flush()
        return subprocess.run(
            [str(helm_binary()), *args, "--values", values_file.name],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
            env={
                **os.environ,
                "HELM_CACHE_HOME": tempfile.gettempdir(),
                "HELM_CONFIG_HOME": tempfile.gettempdir(),
            },
        )


def render(values: Json | None = None, *, namespace: str = NAMESPACE, release: str = RELEASE) -> list[Json]:
    """The objects ``helm template`` renders for these values."""
    completed = helm("template", release, str(CHART), "--namespace", namespace, values=values)
    assert completed.returncode == 0, completed.stderr
    return [document for document in yaml.safe_load_all(completed.stdout) if document]


def helm_failure(values: Json) -> str:
    """Helm's error for values it must refuse."""
    completed = helm("template", RELEASE, str(CHART), "--namespace", NAMESPACE, values=values)
    assert completed.returncode != 0, f"Helm accepted {values}"
    return completed.stderr


def find(objects: list[Json], kind: str, name: str | None = None) -> Json:
    found = [item for item in objects if item["kind"] == kind and name in (None, item["metadata"]["name"])]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
    return found[0]


def kinds(objects: list[Json]) -> list[str]:
    return sorted(item["kind"] for item in objects)
