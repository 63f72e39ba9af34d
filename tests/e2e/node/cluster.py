"""A real single-node Kubernetes cluster, all of it inside a network namespace of the tests' own.

What: ``start_node_cluster(tools, images, workdir)`` creates the namespace
(``tests/e2e/node/netns.py``), starts the control plane in it (etcd, kube-apiserver,
kube-controller-manager: ``tests/e2e/controlplane``) with the API server on port 443 of every
address there, so that pods reach it at the ``kubernetes`` Service's ClusterIP, starts the node
(containerd, kube-scheduler, kubelet: ``tests/e2e/node/node.py``) with the images built by
``tests/e2e/node/images.py``, and a forwarder from this host's ``127.0.0.1`` to the API server
(``tests/e2e/node/forward.py``). It returns once the node is Ready. kubectl and Helm are bound to
the forwarder (``cluster.control_plane.kubectl(...)``); ``stop()`` removes everything again and
raises if anything of the cluster is left (a process in the namespace, a mount, a cgroup).

Why a namespace: see ``netns.py``. Nothing of the cluster listens or connects in this host's
namespace but the forwarder, on loopback.

Only the standard library is used: ``python -m tests.e2e.node.cluster`` (``make cluster``) runs it
before the project's virtualenv exists.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import signal
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

from tests.e2e.controlplane import ControlPlane, ToolPaths, build_tools, start_control_plane
from tests.e2e.node.forward import Forwarder
from tests.e2e.node.netns import NetworkNamespace
from tests.e2e.node.node import NODE_NAME, Node, NodeError, NodeTools

__all__ = ["NodeCluster", "start_node_cluster"]

API_SERVER_PORT = 443
"""The ``kubernetes`` Service's port: pods dial ``10.96.0.1:443`` and it is a local address there."""
NODE_READY_TIMEOUT = 180.0


@dataclass
class NodeCluster:
    """The running cluster. ``control_plane`` runs kubectl and Helm through the forwarder."""

    namespace: NetworkNamespace
    control_plane: ControlPlane
    node: Node
    forwarder: Forwarder
    workdir: Path

    def kubectl_json(self, *args: str) -> dict[str, object]:
        document: dict[str, object] = json.loads(self.control_plane.kubectl(*args, "-o", "json").stdout)
        return document

    def stop(self) -> None:
        """Stop the node, the control plane, the forwarder and the namespace; raise on leftovers."""
        errors: list[str] = []
        try:
            self.node.stop()
        except NodeError as error:
            errors.append(str(error))
        self.control_plane.stop()
        self.forwarder.stop()
        self.namespace.stop()
        left = self.namespace.processes()
        if left:
            errors.append(f"processes left in the cluster's network namespace: {left}")
        if errors:
            raise NodeError("\n".join(errors))

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()


def chart_default_image(repo_root: Path) -> str:
    """The image the chart runs with default values (``image.repository``, the chart's ``appVersion``).

    The node has the operator image under this name too, so the README's ``helm install`` works on
    it as written, with no value set.
    """
    chart = repo_root / "charts" / "flink-tm-memory-operator"
    values = (chart / "values.yaml").read_text(encoding="utf-8")
    repository = re.search(r"^image:\n(?:  .*\n)*?  repository: (\S+)$", values, re.MULTILINE)
    app_version = re.search(
        r'^appVersion: "?([^"\s]+)"?$', (chart / "Chart.yaml").read_text(encoding="utf-8"), re.MULTILINE
    )
    if repository is None or app_version is None:
        raise ValueError(f"cannot read image.repository and appVersion from {chart}")
    return f"{repository.group(1)}:{app_version.group(1)}"


def start_node_cluster(
    tools: ToolPaths,
    image_archives: Sequence[Path],
    workdir: Path,
    *,
    image_aliases: Mapping[str, str] | None = None,
    log: Callable[[str], None] = lambda _: None,
) -> NodeCluster:
    """Start the namespace, the control plane, the node; return once the node is Ready.

    ``image_archives`` are imported into the node, ``image_aliases`` tag some of them again.
    """
    workdir = workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    namespace = NetworkNamespace.create()
    addresses = namespace.addresses
    cleanups: list[Callable[[], None]] = [namespace.stop]
    try:
        control_plane = start_control_plane(
            tools,
            workdir / "controlplane",
            extra_args=[
                "--bind-address=0.0.0.0",
                f"--apiserver-port={API_SERVER_PORT}",
                f"--advertise-address={addresses.node}",
                f"--node-name={NODE_NAME}",
            ],
            command_prefix=namespace.command([]),
        )
        cleanups.append(control_plane.stop)
        log(f"control plane ready in {time.monotonic() - started:.1f} s")
        forwarder = Forwarder(namespace.path, ("127.0.0.1", API_SERVER_PORT)).start()
        cleanups.append(forwarder.stop)
        control_plane.use_server(f"https://127.0.0.1:{forwarder.port}")

        node = Node(namespace, workdir / "node", NodeTools(tools.kubelet, tools.scheduler, tools.criclean))
        cleanups.append(node.stop)
        node.start_containerd()
        node.import_images(image_archives, image_aliases, log)
        node.start_scheduler(Path(str(control_plane.ready["scheduler_kubeconfig"])))
        node.start_kubelet(
            Path(str(control_plane.ready["kubelet_kubeconfig"])), Path(str(control_plane.ready["ca_file"]))
        )
        _wait_node_ready(control_plane, node)
        log(f"node {NODE_NAME} Ready {time.monotonic() - started:.1f} s after the start")
    except BaseException:
        for cleanup in reversed(cleanups):
            with contextlib.suppress(Exception):
                cleanup()
        raise
    return NodeCluster(namespace, control_plane, node, forwarder, workdir)


def _wait_node_ready(control_plane: ControlPlane, node: Node) -> None:
    deadline = time.monotonic() + NODE_READY_TIMEOUT
    while True:
        node.check_running()
        found = control_plane.kubectl("get", "node", NODE_NAME, "-o", "json", check=False)
        if found.returncode == 0:
            conditions = json.loads(found.stdout)["status"].get("conditions", [])
            if any(entry["type"] == "Ready" and entry["status"] == "True" for entry in conditions):
                return
        if time.monotonic() > deadline:
            raise NodeError(
                f"node {NODE_NAME} not Ready after {NODE_READY_TIMEOUT:.0f} s:\n{found.stdout}{found.stderr}\n"
                f"kubelet log:\n{node.log_tail('kubelet')}"
            )
        time.sleep(0.5)


def main(argv: Sequence[str] | None = None) -> int:
    from tests.e2e.node.images import build_node_images  # noqa: PLC0415 - only the command needs it

    repo_root = Path(__file__).resolve().parents[3]
    parser = argparse.ArgumentParser(description="Run a real single-node Kubernetes cluster until Ctrl-C.")
    parser.add_argument("workdir", nargs="?", type=Path, default=repo_root / ".tools" / "cluster")
    options = parser.parse_args(argv)

    def say(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    say("building kubectl, helm, the control plane, kubelet and kube-scheduler (minutes the first time)...")
    tools = build_tools(repo_root)
    say("building the images (the operator, Flink, pause; about 15 minutes the first time)...")
    images = build_node_images(repo_root, FLINK_VERSIONS, log=say)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(128 + signal.SIGTERM))
    archives = [images.pause.path, images.operator.path, *(image.path for image in images.flink.values())]
    aliases = {images.operator.reference: chart_default_image(repo_root)}
    with start_node_cluster(tools, archives, options.workdir, image_aliases=aliases, log=say) as cluster:
        plane = cluster.control_plane
        flink = ", ".join(image.reference for image in images.flink.values())
        print(
            f"Kubernetes {plane.ready.get('kubernetes_version', '')} with node {NODE_NAME} ready at {plane.server}\n\n"
            f"  export KUBECONFIG={plane.kubeconfig}\n"
            f'  export PATH="{tools.kubectl.parent}:$PATH"   # kubectl and helm\n\n'
            f"images on the node: the operator as {images.operator.reference} and {aliases[images.operator.reference]} "
            f"(the chart's default), {flink}\n"
            f"logs: {cluster.workdir}\n"
            "Press Ctrl-C to stop (everything is removed).",
            flush=True,
        )
        try:
            while True:
                cluster.node.check_running()
                if not plane.running():
                    say(f"the control plane exited; log tail:\n{plane.log_tail()}")
                    return 1
                time.sleep(1)
        except KeyboardInterrupt:
            say("\nstopping...")
    return 0


FLINK_VERSIONS = ("2.2.1", "1.20.5")
"""The Flink releases whose images the node gets: a 2.x and the last 1.x."""


if __name__ == "__main__":
    sys.exit(main())
