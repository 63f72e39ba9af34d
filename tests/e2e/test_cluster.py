"""The operator against a real Kubernetes control plane, installed by real Helm, with the chart's RBAC.

One control plane (etcd, kube-apiserver, kube-controller-manager built from the Kubernetes Go modules,
``tests/e2e/controlplane/``) serves the whole module. The chart is installed with Helm as a user
would, except that the operator runs as a local process (no kubelet here): with a token of the
chart's ServiceAccount, so exactly the RBAC the chart grants, and reached by the API server through
the chart's webhook Service (an ``ExternalName`` Service pointing at loopback). The tests then run
in order, as one story:

1. the generated CRD is a structural schema the API server accepts; valid samples are stored, the
   conflicting one is denied by our validating webhook with Flink's message; ``--dry-run=server``
   shows the warnings;
2. a resource becomes Ready, its ConfigMap is written with an owner reference, its target Deployment
   is patched, and the pods the ReplicaSet controller creates go through our mutating webhook;
3. a conflicting edit is denied; a hand-edited ConfigMap is repaired; with the webhooks turned off
   (``helm upgrade``), a conflicting edit is stored, and the operator keeps the last good output and
   reports Degraded; deleting the resource garbage-collects its ConfigMap;
4. ``helm uninstall`` leaves no operator object behind, except the CRD, kept by policy.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml

from flink_tm_memory.render.admission import admission_verdict
from tests.e2e.controlplane import ControlPlane, build_tools, start_control_plane
from tests.integration.webhooks import free_port

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "flink-tm-memory-operator"
SAMPLES = ROOT / "manifests" / "samples"
CRD = ROOT / "manifests" / "crd" / "flinkmemory.io_flinktaskmanagermemories.yaml"
RELEASE = "flink-tm-memory-operator"
SYSTEM = "flink-tm-memory"
APPS = "flink"
SERVICE = f"{RELEASE}-webhook"
SCRIPT = Path(sys.executable).parent / "flink-tm-memory"
T = TypeVar("T")
Json = dict[str, Any]


def eventually(check: Callable[[], T | None], timeout: float = 60, what: str = "the condition") -> T:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout} s")
        time.sleep(0.25)


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

    def start_operator(self, *, webhook: bool) -> None:
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
                f"--webhook-cert-dir={self.workdir / 'webhook-tls'}",
                "--webhook-manage-configurations",
                f"--webhook-service={SYSTEM}/{SERVICE}:{self.port}",
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
            lambda: _answers(f"http://127.0.0.1:{health}/healthz"), what="the operator's liveness endpoint"
        )
        if webhook:
            eventually(self._webhooks_trusted, what="caBundle in the webhook configurations")

    def _webhooks_trusted(self) -> bool:
        for kind in ("validatingwebhookconfiguration", "mutatingwebhookconfiguration"):
            found = self.kubectl(
                "get", kind, RELEASE, "-o", "jsonpath={.webhooks[0].clientConfig.caBundle}", check=False
            )
            if found.returncode != 0 or not found.stdout:
                return False
        return True

    def stop_operator(self) -> None:
        if self.operator is not None:
            self.operator.stop()
            self.operator = None

    def operator_log(self) -> str:
        return self.operator.log.read_text(errors="replace")[-4000:] if self.operator else ""


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


@contextlib.contextmanager
def installed_story(
    workdir: Path, namespace: str, *, webhook: bool, helm_values: Callable[[Story], list[str]]
) -> Iterator[Story]:
    """A control plane with the chart installed (``--set`` values from the story), ``namespace`` made,
    and the operator running with the chart's ServiceAccount; everything stopped afterwards."""
    with start_control_plane(build_tools(ROOT), workdir / "controlplane") as cluster:
        story = Story(cluster, workdir)
        settings = [arg for value in helm_values(story) for arg in ("--set", value)]
        cluster.helm("install", RELEASE, str(CHART), "--namespace", SYSTEM, "--create-namespace", *settings)
        story.kubectl("wait", "--for=condition=Established", "crd/flinktaskmanagermemories.flinkmemory.io")
        story.kubectl("create", "namespace", namespace)
        story.start_operator(webhook=webhook)
        try:
            yield story
        finally:
            story.stop_operator()


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Story]:
    with installed_story(
        tmp_path_factory.mktemp("cluster"),
        APPS,
        webhook=True,
        helm_values=lambda story: ["webhook.externalName=localhost", f"webhook.servicePort={story.port}"],
    ) as story:
        yield story


def sample(name: str) -> Json:
    document: Json = yaml.safe_load((SAMPLES / f"{name}.yaml").read_text(encoding="utf-8"))
    return document


def apply(story: Story, document: Json, *extra: str) -> subprocess.CompletedProcess[str]:
    return story.kubectl("apply", "-n", APPS, *extra, "-f", "-", input=yaml.safe_dump(document), check=False)


# ---------------------------------------------------------------------------------------------- 1


def test_the_crd_is_a_structural_schema_the_api_server_established(story: Story) -> None:
    crd = story.get("crd", "flinktaskmanagermemories.flinkmemory.io", namespace="default")
    assert crd is not None
    conditions = {entry["type"]: entry["status"] for entry in crd["status"]["conditions"]}
    assert conditions["Established"] == "True"
    assert conditions.get("NonStructuralSchema", "False") == "False"
    assert story.kubectl("apply", "--dry-run=server", "-f", str(CRD)).returncode == 0


def test_valid_samples_are_stored_and_the_conflicting_one_is_denied_with_flinks_message(story: Story) -> None:
    for path in sorted(SAMPLES.glob("*.yaml")):
        document = sample(path.stem)
        applied = apply(story, document)
        if path.stem == "conflicting":
            assert applied.returncode != 0
            assert 'admission webhook "validate-memory.flinkmemory.io" denied the request' in applied.stderr
            first_line = admission_verdict(document).message.splitlines()[0]
            assert first_line in applied.stderr
            assert story.get("ftmm", "conflicting") is None
        else:
            assert applied.returncode == 0, applied.stderr
            assert story.get("ftmm", document["metadata"]["name"]) is not None


def test_a_server_side_dry_run_answers_with_the_warnings_and_stores_nothing(story: Story) -> None:
    document = sample("kubernetes-quantity")
    document["metadata"]["name"] = "dry-run-only"
    document["spec"]["resources"]["memory"] = "4G"

    applied = apply(story, document, "--dry-run=server")

    assert applied.returncode == 0, applied.stderr
    assert "Warning: spec.resources.memory: ambiguous size: 4G is 4000000000 bytes" in applied.stderr
    assert story.get("ftmm", "dry-run-only") is None


# ---------------------------------------------------------------------------------------------- 2


def taskmanager_deployment() -> Json:
    labels = {"app": "flink-taskmanager", "flinkmemory.io/profile": "deployment-target"}
    container = {"name": "taskmanager", "image": "flink:2.2", "args": ["taskmanager"]}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "flink-taskmanager"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "flink-taskmanager"}},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}},
        },
    }


def ready_status(story: Story, name: str) -> Json:
    def check() -> Json | None:
        body = story.get("ftmm", name) or {}
        status: Json = body.get("status") or {}
        conditions = {entry["type"]: entry["status"] for entry in status.get("conditions", [])}
        current = status.get("observedGeneration") == body.get("metadata", {}).get("generation")
        return status if current and conditions.get("Ready") == "True" else None

    return eventually(check, what=f"{name} Ready\n{story.operator_log()}")


def test_a_resource_is_ready_with_an_owned_configmap_a_patched_deployment_and_mutated_pods(
    story: Story,
) -> None:
    assert apply(story, taskmanager_deployment()).returncode == 0
    status = ready_status(story, "deployment-target")
    resource = story.get("ftmm", "deployment-target")
    assert resource is not None

    config_map = story.get("configmap", "flink-config")
    assert config_map is not None
    [owner] = config_map["metadata"]["ownerReferences"]
    assert (owner["kind"], owner["uid"]) == ("FlinkTaskManagerMemory", resource["metadata"]["uid"])

    wanted = status["podResources"]
    expected = {
        side: {key: wanted[side][key] for key in ("memory", "cpu")} for side in ("requests", "limits")
    }

    def deployment_resources() -> Json | None:
        body = story.get("deployment", "flink-taskmanager") or {}
        [container] = body["spec"]["template"]["spec"]["containers"]
        return container.get("resources") if container.get("resources") == expected else None

    eventually(deployment_resources, what="the Deployment's container resources")

    def mutated_pods() -> list[Json] | None:
        listed = story.kubectl("get", "pods", "-n", APPS, "-l", "app=flink-taskmanager", "-o", "json")
        pods = [
            pod
            for pod in json.loads(listed.stdout)["items"]
            if "flinkmemory.io/mutated" in pod["metadata"].get("annotations", {})
        ]
        return pods if len(pods) >= 2 else None

    pods = eventually(mutated_pods, what="pods created through the mutating webhook")
    for pod in pods:
        [container] = pod["spec"]["containers"]
        assert {key: container["resources"][key] for key in ("requests", "limits")} == expected
        [properties] = [entry["value"] for entry in container["env"] if entry["name"] == "FLINK_PROPERTIES"]
        pinned = [option.split("=", 1) for option in status["dynamicConfigs"].split("-D ") if option.strip()]
        assert all(f"{key}: {value.strip()}" in properties.splitlines() for key, value in pinned), properties
        assert pod["metadata"]["annotations"]["flinkmemory.io/mutated"].startswith(
            "deployment-target generation "
        )


# ---------------------------------------------------------------------------------------------- 3


CONFLICT = {
    "spec": {
        "flinkConfiguration": {
            "taskmanager.memory.task.heap.size": "8g",
            "taskmanager.memory.managed.size": "1g",
        }
    }
}


def test_a_conflicting_edit_is_denied(story: Story) -> None:
    patched = story.kubectl(
        "patch", "ftmm", "process-size", "-n", APPS, "--type=merge", "-p", json.dumps(CONFLICT), check=False
    )
    assert patched.returncode != 0
    assert 'admission webhook "validate-memory.flinkmemory.io" denied the request' in patched.stderr


def test_a_hand_edited_configmap_is_repaired(story: Story) -> None:
    before = (story.get("configmap", "flink-config") or {})["data"]
    edited = dict.fromkeys(before, "edited by hand")
    story.kubectl(
        "patch", "configmap", "flink-config", "-n", APPS, "--type=merge", "-p", json.dumps({"data": edited})
    )
    eventually(
        lambda: (story.get("configmap", "flink-config") or {}).get("data") == before, what="the repair"
    )


def test_without_webhooks_a_conflicting_edit_is_stored_and_the_operator_keeps_the_last_good_output(
    story: Story,
) -> None:
    story.stop_operator()
    story.cluster.helm(
        "upgrade",
        RELEASE,
        str(CHART),
        "--namespace",
        SYSTEM,
        "--reuse-values",
        "--set",
        "webhook.enabled=false",
    )
    assert story.kubectl("get", "validatingwebhookconfiguration", RELEASE, check=False).returncode != 0
    story.start_operator(webhook=False)
    ready_status(story, "deployment-target")
    before = (story.get("configmap", "flink-config") or {})["data"]

    story.kubectl(
        "patch", "ftmm", "deployment-target", "-n", APPS, "--type=merge", "-p", json.dumps(CONFLICT)
    )

    def degraded() -> Json | None:
        body = story.get("ftmm", "deployment-target") or {}
        status: Json = body.get("status") or {}
        conditions = {entry["type"]: entry for entry in status.get("conditions", [])}
        current = status.get("observedGeneration") == body["metadata"]["generation"]
        return status if current and conditions.get("ConfigValid", {}).get("status") == "False" else None

    status = eventually(degraded, what=f"Degraded\n{story.operator_log()}")
    assert status["conflicts"], status
    assert (story.get("configmap", "flink-config") or {})["data"] == before


def test_deleting_the_resource_garbage_collects_its_configmap(story: Story) -> None:
    story.kubectl("delete", "ftmm", "deployment-target", "-n", APPS, "--wait=true", "--timeout=60s")
    eventually(
        lambda: story.get("configmap", "flink-config") is None, timeout=90, what="the ConfigMap collected"
    )


# ---------------------------------------------------------------------------------------------- 4


def test_helm_uninstall_leaves_no_operator_object_but_the_crd(story: Story) -> None:
    story.kubectl("delete", "ftmm", "--all", "-n", APPS, "--wait=true", "--timeout=60s")
    story.stop_operator()
    story.cluster.helm("uninstall", RELEASE, "--namespace", SYSTEM, "--wait")
    selector = f"app.kubernetes.io/instance={RELEASE}"
    kinds = "deployments,services,serviceaccounts,roles,rolebindings,configmaps"
    left = story.kubectl("get", kinds, "-A", "-l", selector, "-o", "name").stdout.split()
    cluster_kinds = (
        "clusterroles,clusterrolebindings,validatingwebhookconfigurations,mutatingwebhookconfigurations"
    )
    left += story.kubectl("get", cluster_kinds, "-l", selector, "-o", "name").stdout.split()
    assert left == []
    assert story.get("crd", "flinktaskmanagermemories.flinkmemory.io", namespace="default") is not None
