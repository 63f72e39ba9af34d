"""The operator image's SBOM, built with the image: CycloneDX JSON listing exactly the locked packages.

The Dockerfile's ``sbom`` stage runs ``cyclonedx-py environment`` on the venv the image runs, and
``tests/e2e/node/images.py`` copies the document out of the built image next to its archive. The
image installs ``requirements.lock`` with ``--require-hashes --no-deps``, so the SBOM must name each
locked package at its locked version (a package URL each), nothing else, and the project itself as
the described component.
"""

from __future__ import annotations

import json
import tomllib
from typing import Any

from tests.e2e.node.images import NodeImages
from tests.meta.lockfile import ROOT, RUNTIME_LOCK, normalized, read_lock


def test_the_images_sbom_lists_exactly_the_locked_packages_at_their_versions(node_images: NodeImages) -> None:
    document: dict[str, Any] = json.loads(node_images.operator_sbom.read_text(encoding="utf-8"))
    assert document["bomFormat"] == "CycloneDX"
    assert tuple(int(part) for part in document["specVersion"].split(".")) >= (1, 5)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    described = document["metadata"]["component"]
    assert (described["name"], described["version"]) == (project["name"], project["version"])
    listed = {normalized(component["name"]): component for component in document["components"]}
    locked = read_lock(RUNTIME_LOCK)
    assert {name: component["version"] for name, component in listed.items()} == {
        name: item.version for name, item in locked.items()
    }
    for name, component in listed.items():
        assert component["purl"].lower().startswith(f"pkg:pypi/{name}@"), component["purl"]
