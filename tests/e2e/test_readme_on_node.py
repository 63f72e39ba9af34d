"""The README's real-node recipe works as written: its lines run verbatim on the node ``make cluster`` starts.

The block after "To play with the operator on a real node" is read from the README and run by bash,
line by line as a newcomer pastes it, in a directory laid out like a checkout after ``make cluster``
(``charts/``, ``manifests/``, the built tools and the cluster's kubeconfig at the paths the README
names), with only ``make cluster`` itself left out: the session's cluster is that cluster.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.e2e.node.cluster import NodeCluster

ROOT = Path(__file__).resolve().parents[2]
MARKER = "To play with the operator on a real node"


def readme_recipe() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    after = text[text.index(MARKER) :]
    block = after[after.index("```sh\n") + len("```sh\n") :]
    return block[: block.index("```")].splitlines()


def test_the_recipe_starts_with_make_cluster_and_installs_with_helm() -> None:
    lines = readme_recipe()
    assert lines[0].startswith("make cluster")
    assert any(line.startswith("helm install ") for line in lines)


def test_the_readme_recipe_runs_verbatim_on_the_node(node_cluster: NodeCluster, tmp_path: Path) -> None:
    checkout = tmp_path / "checkout"
    (checkout / ".tools" / "cluster" / "controlplane").mkdir(parents=True)
    for name in ("charts", "manifests"):
        (checkout / name).symlink_to(ROOT / name)
    (checkout / ".tools" / "e2e").symlink_to(node_cluster.control_plane.tools.kubectl.parent.parent)
    kubeconfig = checkout / ".tools" / "cluster" / "controlplane" / "kubeconfig-host"
    kubeconfig.symlink_to(node_cluster.control_plane.kubeconfig)
    script = "\n".join(line for line in readme_recipe() if not line.startswith("make cluster"))
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith(("KUBECONFIG", "HELM_"))
    }
    environment |= {
        "HOME": str(tmp_path / "home"),  # Helm's cache and configuration, fresh as a newcomer's
        "PWD": str(checkout),
    }

    ran = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=checkout,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )

    assert ran.returncode == 0, f"{script}\nstdout:\n{ran.stdout}\nstderr:\n{ran.stderr}"
    assert "process-size" in ran.stdout
