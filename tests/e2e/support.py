"""Small helpers the end-to-end tests share: waiting for a condition, asking an HTTP endpoint, checking
that the operator trusts its webhooks, and installing the chart on the node cluster."""

from __future__ import annotations

import contextlib
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from tests.e2e.controlplane import ControlPlane
    from tests.e2e.node.cluster import NodeCluster
    from tests.e2e.node.images import NodeImages

T = TypeVar("T")

CHART = Path(__file__).resolve().parents[2] / "charts" / "flink-tm-memory-operator"
RELEASE = "flink-tm-memory-operator"
"""The Helm release every end-to-end module installs (one at a time: they share the node cluster)."""
SYSTEM = "flink-tm-memory"
"""The operator's namespace."""
ROLLOUT_TIMEOUT_S = 180


def eventually(check: Callable[[], T | None], timeout: float = 60, what: str = "the condition") -> T:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout} s")
        time.sleep(0.25)


def answers(url: str) -> bool:
    """``url`` answers 200."""
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


def webhooks_trusted(kubectl: Callable[..., subprocess.CompletedProcess[str]], name: str) -> bool:
    """Both webhook configurations ``name`` carry a ``caBundle`` (the operator wrote its CA)."""
    for kind in ("validatingwebhookconfiguration", "mutatingwebhookconfiguration"):
        found = kubectl("get", kind, name, "-o", "jsonpath={.webhooks[0].clientConfig.caBundle}", check=False)
        if found.returncode != 0 or not found.stdout:
            return False
    return True


def image_settings(images: NodeImages, values: Mapping[str, str] | None = None) -> list[str]:
    """``--set`` arguments for the operator image built for the node, and any other chart ``values``."""
    repository, _, tag = images.operator.reference.rpartition(":")
    settings = {"image.repository": repository, "image.tag": tag, **(values or {})}
    return [argument for key, value in settings.items() for argument in ("--set", f"{key}={value}")]


class ChartOnNode:
    """The node cluster with the chart installed as a user installs it (``helm install``), for a module."""

    def __init__(self, cluster: NodeCluster, images: NodeImages) -> None:
        self.cluster = cluster
        self.images = images

    def kubectl(
        self, *args: str, check: bool = True, input: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        return self.cluster.control_plane.kubectl(*args, check=check, input=input)

    def helm(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.cluster.control_plane.helm(*args)

    def install(self, values: Mapping[str, str] | None = None) -> None:
        """``helm install`` into ``SYSTEM`` (which must exist), then wait for the operator's rollout."""
        self.helm("install", RELEASE, str(CHART), "--namespace", SYSTEM, *image_settings(self.images, values))
        self.wait_for_rollout()

    def wait_for_rollout(self) -> None:
        waited = self.cluster.control_plane.kubectl(
            "rollout", "status", f"deployment/{RELEASE}", "-n", SYSTEM, f"--timeout={ROLLOUT_TIMEOUT_S}s",
            check=False, timeout=ROLLOUT_TIMEOUT_S + 30,
        )  # fmt: skip
        if waited.returncode != 0:
            pods = self.kubectl("get", "pods", "-A", "-o", "wide").stdout
            described = self.kubectl("describe", "pods", "-n", SYSTEM, check=False).stdout[-3000:]
            raise AssertionError(
                f"the operator did not roll out:\n{waited.stdout}{waited.stderr}\n{pods}\n{described}\n"
                f"{self.operator_log()}"
            )

    def operator_log(self, tail: int = 80) -> str:
        found = self.kubectl("logs", "-n", SYSTEM, f"deployment/{RELEASE}", f"--tail={tail}", check=False)
        return found.stdout + found.stderr


@contextlib.contextmanager
def chart_upgraded(plane: ControlPlane, images: NodeImages, apps: str) -> Iterator[None]:
    """The chart with its defaults (``helm upgrade --install --wait``) and a namespace ``apps`` for the
    test's resources, once the webhooks are trusted; both removed afterwards."""
    if plane.kubectl("get", "namespace", SYSTEM, check=False).returncode != 0:
        plane.kubectl("create", "namespace", SYSTEM)
    plane.helm(
        "upgrade", "--install", RELEASE, str(CHART), "-n", SYSTEM, *image_settings(images),
        "--wait", "--timeout=240s",
    )  # fmt: skip
    plane.kubectl("create", "namespace", apps)
    eventually(
        lambda: webhooks_trusted(plane.kubectl, RELEASE), what="caBundle in the webhook configurations"
    )
    try:
        yield
    finally:
        plane.kubectl("delete", "namespace", apps, "--wait=false", check=False)
        plane.helm("uninstall", RELEASE, "-n", SYSTEM, "--wait", check=False)
