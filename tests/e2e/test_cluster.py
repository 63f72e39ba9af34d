"""The operator in its pod on a real node, installed by real Helm from the chart, as a user installs it.

One real single-node cluster (``tests/e2e/conftest.py``: control plane, containerd, kubelet,
scheduler, all in a network namespace of the tests' own) serves the session. The operator image is
built from the project's ``Dockerfile`` on a Debian-python base and imported into the node; the chart
is installed with Helm with only the image's repository and tag set, into a namespace that enforces
the restricted Pod Security Standard. The operator then runs as users run it: read-only root, uid
65532, probed by the kubelet, reached by the API server through the chart's webhook Service, and
talking to the API server with its pod's ServiceAccount token. The tests run in order, as one story:

1. the operator pod becomes Ready under the restricted standard and the kubelet probes it;
2. the generated CRD is a structural schema the API server accepts; valid samples are stored, the
   conflicting one is denied by our validating webhook with Flink's message; ``--dry-run=server``
   shows the warnings;
3. a resource becomes Ready, its ConfigMap is written with an owner reference, its target Deployment
   is patched, and the pods the ReplicaSet controller creates go through our mutating webhook;
   ``kubectl describe`` of every sample says each thing once and stays short (line counts printed);
4. a conflicting edit is denied; a hand-edited ConfigMap is repaired; with ``hostNetwork`` the API
   server reaches the webhooks at the node's address; with the webhooks turned off
   (``helm upgrade``), a conflicting edit is stored, and the operator keeps the last good output and
   reports Degraded; deleting the resource garbage-collects its ConfigMap;
5. ``helm uninstall`` leaves no operator object behind, except the CRD, kept by policy.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from flink_tm_memory.render.admission import admission_verdict
from tests.e2e.node.cluster import NodeCluster
from tests.e2e.node.images import NodeImages
from tests.e2e.node.node import NODE_NAME
from tests.e2e.support import CHART, RELEASE, SYSTEM, ChartOnNode, eventually, webhooks_trusted

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "manifests" / "samples"
CRD = ROOT / "manifests" / "crd" / "flinkmemory.io_flinktaskmanagermemories.yaml"
APPS = "flink"
Json = dict[str, Any]


class Story(ChartOnNode):
    """The cluster, the chart installed on it and what the tests share."""

    def get(self, kind: str, name: str, namespace: str = APPS) -> Json | None:
        found = self.kubectl("get", kind, name, "-n", namespace, "-o", "json", check=False)
        if found.returncode != 0:
            return None
        document: Json = json.loads(found.stdout)
        return document

    def operator_pod(self) -> Json:
        """One of the operator's pods (the chart runs two replicas: any of them will do)."""
        listed = self.kubectl(
            "get", "pods", "-n", SYSTEM, "-l", f"app.kubernetes.io/instance={RELEASE}", "-o", "json"
        )
        running = [
            pod for pod in json.loads(listed.stdout)["items"] if not pod["metadata"].get("deletionTimestamp")
        ]
        assert len(running) >= 1, "no operator pod"
        pod: Json = sorted(running, key=lambda found: str(found["metadata"]["name"]))[0]
        return pod

    def webhooks_trusted(self) -> bool:
        return webhooks_trusted(self.kubectl, RELEASE)


@pytest.fixture(scope="module")
def story(node_cluster: NodeCluster, node_images: NodeImages) -> Iterator[Story]:
    story = Story(node_cluster, node_images)
    # The namespace a platform team gives an operator: the restricted Pod Security Standard enforced.
    story.kubectl("create", "namespace", SYSTEM)
    story.kubectl("label", "namespace", SYSTEM, "pod-security.kubernetes.io/enforce=restricted")
    story.install()
    story.kubectl("wait", "--for=condition=Established", "crd/flinktaskmanagermemories.flinkmemory.io")
    story.kubectl("create", "namespace", APPS)
    eventually(story.webhooks_trusted, what="caBundle in the webhook configurations")
    yield story
    story.kubectl("delete", "namespace", APPS, "--wait=false", check=False)


# ---------------------------------------------------------------------------------------------- 1


def test_the_operator_pod_is_ready_under_the_restricted_pod_security_standard(story: Story) -> None:
    pod = story.operator_pod()
    [container] = pod["spec"]["containers"]
    [status] = pod["status"]["containerStatuses"]
    assert status["ready"] is True
    assert status["restartCount"] == 0, story.operator_log()
    assert status["imageID"], status
    assert container["image"] == story.images.operator.reference
    assert pod["spec"]["nodeName"] == NODE_NAME
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert pod["spec"]["securityContext"]["runAsUser"] == 65532
    # The process really runs as 65532, with no capability, on a read-only root.
    identity = story.kubectl("exec", "-n", SYSTEM, pod["metadata"]["name"], "--", "id", "-u").stdout
    assert identity.strip() == "65532"
    written = story.kubectl(
        "exec", "-n", SYSTEM, pod["metadata"]["name"], "--", "touch", "/opt/venv/x", check=False
    )
    assert written.returncode != 0
    assert "Read-only file system" in written.stderr
    # No kubeconfig: the operator's client found the pod's ServiceAccount token.
    environment = story.kubectl("exec", "-n", SYSTEM, pod["metadata"]["name"], "--", "env").stdout
    assert "KUBECONFIG=" not in environment
    assert "KUBERNETES_SERVICE_HOST=10.96.0.1" in environment


def test_the_operator_started_without_an_error_line(story: Story) -> None:
    # An API server that is still starting may answer 429: kopf retries, and logs it as a WARNING.
    pod = story.operator_pod()["metadata"]["name"]
    log = story.kubectl("logs", "-n", SYSTEM, pod).stdout
    records = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert records, log
    assert [record for record in records if record.get("severity") in ("error", "fatal")] == []
    assert not [
        r for r in records if r.get("severity") == "info" and str(r.get("message")).endswith("succeeded.")
    ]


def test_the_kubelet_probes_the_operator(story: Story) -> None:
    pod = story.operator_pod()["metadata"]["name"]

    def probed() -> dict[str, float] | None:
        metrics = story.kubectl("get", "--raw", f"/api/v1/nodes/{NODE_NAME}/proxy/metrics/probes").stdout
        counts: dict[str, float] = {}
        for line in metrics.splitlines():
            if (
                line.startswith("prober_probe_total{")
                and f'pod="{pod}"' in line
                and 'result="successful"' in line
            ):
                probe_type = line.split('probe_type="', 1)[1].split('"', 1)[0]
                counts[probe_type] = counts.get(probe_type, 0) + float(line.rsplit(" ", 1)[1])
        return counts if {"Liveness", "Readiness"} <= counts.keys() else None

    counts = eventually(probed, timeout=90, what="successful liveness and readiness probes of the operator")
    assert counts["Readiness"] >= 1
    assert counts["Liveness"] >= 1


# ---------------------------------------------------------------------------------------------- 2


def sample(name: str) -> Json:
    document: Json = yaml.safe_load((SAMPLES / f"{name}.yaml").read_text(encoding="utf-8"))
    return document


def apply(story: Story, document: Json, *extra: str) -> subprocess.CompletedProcess[str]:
    return story.kubectl("apply", "-n", APPS, *extra, "-f", "-", input=yaml.safe_dump(document), check=False)


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


# ---------------------------------------------------------------------------------------------- 3


def taskmanager_deployment(story: Story) -> Json:
    """A TaskManager Deployment whose pods only need to be created (and so admitted): no node matches
    their selector, so they never take the node's CPU from the operator (``test_flink_pods.py`` runs
    TaskManagers for real)."""
    labels = {"app": "flink-taskmanager", "flinkmemory.io/profile": "deployment-target"}
    image = next(iter(story.images.flink.values())).reference
    container = {
        "name": "taskmanager",
        "image": image,
        "imagePullPolicy": "Never",
        "command": ["sleep", "infinity"],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        # opted in: the operator writes a workload it did not create only for the resource it names
        "metadata": {
            "name": "flink-taskmanager",
            "annotations": {"flinkmemory.io/memory": "deployment-target"},
        },
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "flink-taskmanager"}},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "containers": [container],
                    "nodeSelector": {"flinkmemory.io/e2e": "never-scheduled"},
                },
            },
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
    assert apply(story, taskmanager_deployment(story)).returncode == 0
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


DESCRIBE_PROCESS_SIZE_MAX_LINES = 100
DESCRIBE_MAX_LINES = 120
"""``kubectl describe`` of a sample, at most (issue 15): its breakdown once, in bytes, no trace, no empty
list. Measured on this node: process-size 95 lines (141 before), the others 92 to 115 (128 to 151)."""


def current_status(story: Story, name: str) -> Json:
    """The status of ``name`` once it describes the current spec (Ready or not: a target may be absent)."""

    def check() -> Json | None:
        body = story.get("ftmm", name) or {}
        status: Json = body.get("status") or {}
        current = status.get("observedGeneration") == body.get("metadata", {}).get("generation")
        return status if current and status.get("conditions") else None

    return eventually(check, what=f"{name} reconciled\n{story.operator_log()}")


def test_kubectl_describe_of_every_sample_says_each_thing_once_and_stays_short(story: Story) -> None:
    counts: dict[str, int] = {}
    for path in sorted(SAMPLES.glob("*.yaml")):
        if path.stem == "conflicting":
            continue
        current_status(story, path.stem)
        described = story.kubectl("describe", "flinktaskmanagermemory", path.stem, "-n", APPS).stdout
        counts[path.stem] = len(described.splitlines())
        print(f"kubectl describe flinktaskmanagermemory {path.stem}: {counts[path.stem]} lines\n{described}")
        status = described.split("\nStatus:\n", 1)[1]
        assert "  Breakdown:\n" in status, described
        for repeated in ("Human:", "Short:", "Memory Bytes:", "Human Per Slot:", "Explain:", "Conflicts:"):
            assert repeated not in status, described
    print("kubectl describe line counts:", json.dumps(counts, sort_keys=True))
    assert counts["process-size"] <= DESCRIBE_PROCESS_SIZE_MAX_LINES, counts
    assert max(counts.values()) <= DESCRIBE_MAX_LINES, counts


# ---------------------------------------------------------------------------------------------- 4


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


def test_with_host_network_the_api_server_reaches_the_webhooks_at_the_nodes_address(story: Story) -> None:
    # A host-network pod does not meet the restricted standard: the namespace must allow it.
    story.kubectl(
        "label", "namespace", SYSTEM, "pod-security.kubernetes.io/enforce=privileged", "--overwrite"
    )
    # On the host network two replicas on one node would want the same ports: one replica here.
    story.helm(
        "upgrade", RELEASE, str(CHART), "--namespace", SYSTEM, "--reuse-values",
        "--set", "hostNetwork=true", "--set", "replicaCount=1",
    )  # fmt: skip
    story.wait_for_rollout()
    pod = story.operator_pod()
    assert pod["spec"]["hostNetwork"] is True
    assert pod["spec"]["dnsPolicy"] == "ClusterFirstWithHostNet"
    assert pod["status"]["podIP"] == story.cluster.namespace.addresses.node

    denied = story.kubectl(
        "patch", "ftmm", "process-size", "-n", APPS, "--type=merge", "-p", json.dumps(CONFLICT), check=False
    )

    assert denied.returncode != 0
    assert 'admission webhook "validate-memory.flinkmemory.io" denied the request' in denied.stderr
    story.helm(
        "upgrade", RELEASE, str(CHART), "--namespace", SYSTEM, "--reuse-values",
        "--set", "hostNetwork=false", "--set", "replicaCount=2",
    )  # fmt: skip
    story.wait_for_rollout()
    story.kubectl(
        "label", "namespace", SYSTEM, "pod-security.kubernetes.io/enforce=restricted", "--overwrite"
    )
    assert story.operator_pod()["spec"].get("hostNetwork") is not True


def test_the_image_runs_as_an_arbitrary_user_in_group_0_as_openshift_runs_it(story: Story) -> None:
    # OpenShift's restricted-v2 picks a user id from the namespace's range and runs it in group 0; the
    # chart's ids are set to null for it, and here the node's runtime is given such an id.
    arbitrary = "1000770000"
    story.helm(
        "upgrade", RELEASE, str(CHART), "--namespace", SYSTEM, "--reuse-values",
        "--set", f"podSecurityContext.runAsUser={arbitrary}", "--set", "podSecurityContext.runAsGroup=0",
        "--set", "podSecurityContext.fsGroup=null",
    )  # fmt: skip
    story.wait_for_rollout()
    pod = story.operator_pod()
    [status] = pod["status"]["containerStatuses"]
    assert status["ready"] is True, story.operator_log()
    assert "fsGroup" not in pod["spec"]["securityContext"]
    identity = story.kubectl("exec", "-n", SYSTEM, pod["metadata"]["name"], "--", "id").stdout
    assert identity.startswith(f"uid={arbitrary} gid=0"), identity
    eventually(story.webhooks_trusted, what="caBundle in the webhook configurations")
    denied = story.kubectl(
        "patch", "ftmm", "process-size", "-n", APPS, "--type=merge", "-p", json.dumps(CONFLICT), check=False
    )
    assert 'admission webhook "validate-memory.flinkmemory.io" denied the request' in denied.stderr
    story.helm(
        "upgrade", RELEASE, str(CHART), "--namespace", SYSTEM, "--reuse-values",
        "--set", "podSecurityContext.runAsUser=65532", "--set", "podSecurityContext.runAsGroup=65532",
        "--set", "podSecurityContext.fsGroup=65532",
    )  # fmt: skip
    story.wait_for_rollout()
    assert story.operator_pod()["spec"]["securityContext"]["runAsUser"] == 65532


def test_without_webhooks_a_conflicting_edit_is_stored_and_the_operator_keeps_the_last_good_output(
    story: Story,
) -> None:
    story.helm(
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
    story.wait_for_rollout()
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


# ---------------------------------------------------------------------------------------------- 5


def test_helm_uninstall_leaves_no_operator_object_but_the_crd(story: Story) -> None:
    story.kubectl("delete", "ftmm", "--all", "-n", APPS, "--wait=true", "--timeout=60s")
    story.helm("uninstall", RELEASE, "--namespace", SYSTEM, "--wait")
    eventually(
        lambda: not json.loads(story.kubectl("get", "pods", "-n", SYSTEM, "-o", "json").stdout)["items"],
        timeout=90,
        what="the operator pod gone",
    )
    selector = f"app.kubernetes.io/instance={RELEASE}"
    kinds = "deployments,services,serviceaccounts,roles,rolebindings,configmaps,secrets"
    left = story.kubectl("get", kinds, "-A", "-l", selector, "-o", "name").stdout.split()
    cluster_kinds = (
        "clusterroles,clusterrolebindings,validatingwebhookconfigurations,mutatingwebhookconfigurations"
    )
    left += story.kubectl("get", cluster_kinds, "-l", selector, "-o", "name").stdout.split()
    assert left == []
    assert story.get("crd", "flinktaskmanagermemories.flinkmemory.io", namespace="default") is not None
