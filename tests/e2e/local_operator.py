"""The operator as a local process against the node-less control plane, with the chart's RBAC.

What: ``installed_story`` starts a control plane (``tests/e2e/controlplane``, no node), installs the
chart with Helm, and runs ``flink-tm-memory run`` here with a token of the chart's ServiceAccount, so
the operator has exactly the RBAC the chart grants and the API server reaches its webhooks through
the chart's Service (an ``ExternalName`` Service pointing at loopback).

Why: a test that SIGKILLs the operator many times (``test_operator_kills.py``) needs to kill and
restart it within milliseconds, which a local process allows and a pod does not. Every other
end-to-end test runs the operator in its pod on the real node (``test_cluster.py``).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.e2e.controlplane import ControlPlane, build_tools, start_control_plane
from tests.e2e.support import answers, eventually, webhooks_trusted
from tests.integration.webhooks import free_port

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "flink-tm-memory-operator"
RELEASE = "flink-tm-memory-operator"
SYSTEM = "flink-tm-memory"
SERVICE = f"{RELEASE}-webhook"
SCRIPT = Path(sys.executable).parent / "flink-tm-memory"
APPS = "flink"
Json = dict[str, Any]


@dataclass
class Operator:
    """``flink-tm-memory run`` as a local process, with the chart's ServiceAccount credentials."""

    process: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Story:
    """The cluster, the operator and what the tests share."""

    def __init__(self, cluster: ControlPlane, workdir: Path) -> None:
        self.cluster = cluster
        self.workdir = workdir
        self.port = free_port()
        self.operator: Operator | None = None

    def kubectl(
        self, *args: str, check: bool = True, input: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        return self.cluster.kubectl(*args, check=check, input=input)

    def get(self, kind: str, name: str, namespace: str = APPS) -> Json | None:
        found = self.kubectl("get", kind, name, "-n", namespace, "-o", "json", check=False)
        if found.returncode != 0:
            return None
        document: Json = json.loads(found.stdout)
        return document

    def operator_kubeconfig(self) -> Path:
        """A kubeconfig with a token of the chart's ServiceAccount: the operator gets exactly its RBAC."""
        token = self.kubectl("-n", SYSTEM, "create", "token", RELEASE, "--duration=2h").stdout.strip()
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": "e2e",
                    "cluster": {
                        "server": self.cluster.server,
                        "certificate-authority": str(self.cluster.workdir / "pki" / "ca.crt"),
                    },
                }
            ],
            "users": [{"name": "operator", "user": {"token": token}}],
            "contexts": [{"name": "operator", "context": {"cluster": "e2e", "user": "operator"}}],
            "current-context": "operator",
        }
        path = self.workdir / "operator-kubeconfig"
        path.write_text(yaml.safe_dump(config), encoding="utf-8")
        return path

    def start_operator(self, *, webhook: bool, via_service: bool = True) -> None:
        health = free_port()
        arguments = [
            "run",
            "--log-format",
            "plain",
            "--drift-interval",
            "2",
            "--liveness",
            f"http://127.0.0.1:{health}/healthz",
        ]
        if webhook:
            arguments += [
                f"--webhook-port={self.port}",
                "--webhook-listen=127.0.0.1",
                f"--webhook-self-signed={SERVICE}.{SYSTEM}.svc,localhost",
                f"--webhook-secret={SYSTEM}/{RELEASE}-webhook-certificates",  # the chart's, kept across kills
                f"--webhook-cert-dir={self.workdir / 'webhook-tls'}",
                "--webhook-manage-configurations",
                # through the chart's Service, or at https://localhost:PORT directly (the API server runs here)
                f"--webhook-service={SYSTEM}/{SERVICE}:{self.port}"
                if via_service
                else "--webhook-host=localhost",
            ]
        environment = {**os.environ, "KUBECONFIG": str(self.operator_kubeconfig())}
        environment.pop("KUBERNETES_SERVICE_HOST", None)
        log = self.workdir / f"operator-{time.monotonic_ns()}.log"
        with log.open("wb") as sink:
            process = subprocess.Popen(
                [str(SCRIPT), *arguments], env=environment, stdout=sink, stderr=subprocess.STDOUT
            )
        self.operator = Operator(process, log)
        eventually(
            lambda: answers(f"http://127.0.0.1:{health}/healthz"), what="the operator's liveness endpoint"
        )
        if webhook:
            eventually(self._webhooks_trusted, what="caBundle in the webhook configurations")

    def _webhooks_trusted(self) -> bool:
        return webhooks_trusted(self.kubectl, RELEASE)

    def stop_operator(self) -> None:
        if self.operator is not None:
            self.operator.stop()
            self.operator = None

    def operator_log(self) -> str:
        return self.operator.log.read_text(errors="replace")[-4000:] if self.operator else ""


@contextlib.contextmanager
def installed_story(
    workdir: Path,
    namespace: str,
    *,
    webhook: bool,
    helm_values: Callable[[Story], list[str]],
    via_service: bool = True,
) -> Iterator[Story]:
    """A control plane with the chart installed (``--set`` values from the story), ``namespace`` made,
    and the operator running with the chart's ServiceAccount; everything stopped afterwards."""
    with start_control_plane(build_tools(ROOT), workdir / "controlplane") as cluster:
        story = Story(cluster, workdir)
        settings = [arg for value in helm_values(story) for arg in ("--set", value)]
        cluster.helm("install", RELEASE, str(CHART), "--namespace", SYSTEM, "--create-namespace", *settings)
        story.kubectl("wait", "--for=condition=Established", "crd/flinktaskmanagermemories.flinkmemory.io")
        story.kubectl("create", "namespace", namespace)
        story.start_operator(webhook=webhook, via_service=via_service)
        try:
            yield story
        finally:
            story.stop_operator()
