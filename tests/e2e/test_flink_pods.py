"""Real Flink in pods on the real node: TaskManagers sized by the operator report its status.

For a 2.x and a 1.x release, with the operator installed by the chart (in its pod, webhooks on), a
Flink JobManager pod and a TaskManager Deployment (the Flink image built by
``tests/e2e/node/images.py``: Debian's Java 17, Flink from PyPI, the official image's entrypoint)
run on the node. A ``FlinkTaskManagerMemory`` targets the Deployment and the ConfigMap the
TaskManagers mount as their ``conf/``; its pods opt in to the mutating webhook. Then, for every
TaskManager:

* the container's requests and limits equal ``status.podResources``;
* the memory limit the kubelet set in the container's cgroup (``memory.limit_in_bytes``) is the
  pod's memory limit;
* the JobManager REST API's ``memoryConfiguration`` of the TaskManager equals ``status.breakdown``,
  its slots ``status.numSlots``;
* the JVM's ``-Xmx``/``-Xms``/``-XX:MaxDirectMemorySize``/``-XX:MaxMetaspaceSize`` (its pid 1's
  command line) equal ``status.jvmParameters`` and the ``-D`` options ``status.dynamicConfigs``.

Last, a TaskManager whose process uses native memory beyond what its limit leaves (a Java agent that
allocates outside the heap, direct and metaspace caps, as a native library or a leaking RocksDB
would) is OOMKilled by the kernel under the kubelet's limit, and the pod's status says so; the
operator records it in ``status.oomKills``, attributed to the JVM overhead (the budget outside the
JVM's caps), with an engine-checked fix, and posts a Warning Event per incident. In ``updateMode:
Auto`` (with a JobManager the operator cannot reach: no metrics at all) the fix is applied at once,
the Deployment rolls, and the new pod, under the same ballast, runs with the raised budget (its limit
and Flink's layout as the status says) and stays running, never restarted nor killed.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.flink.cluster import JVM_MEMORY_FLAGS, TaskManagerView
from tests.e2e.node.cluster import NodeCluster
from tests.e2e.node.images import NodeImages
from tests.e2e.node.node import CGROUP_ROOT
from tests.e2e.support import eventually
from tests.e2e.test_flink_taskmanager import REST_NAMES

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "flink-tm-memory-operator"
RELEASE = "flink-tm-memory-operator"
SYSTEM = "flink-tm-memory"
"""The namespace of ``test_cluster.py``'s release: the CRD it kept is owned by a release of that name there."""
Json = dict[str, Any]
TASK_MANAGERS = 2
READY_TIMEOUT = 240.0
TASK_MANAGER_SPEC = {
    "taskmanager.memory.process.size": "1200m",
    "taskmanager.numberOfTaskSlots": 2,
    # Two TaskManagers, a JobManager and the operator share two cores: ask for a quarter each.
    "taskmanager.cpu.cores": 0.25,
}


class Pods:
    """kubectl on the node's cluster, for one namespace."""

    def __init__(self, cluster: NodeCluster, namespace: str) -> None:
        self.cluster = cluster
        self.namespace = namespace

    def kubectl(
        self, *args: str, check: bool = True, input: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        return self.cluster.control_plane.kubectl("-n", self.namespace, *args, check=check, input=input)

    def apply(self, document: Json) -> None:
        self.kubectl("apply", "-f", "-", input=json.dumps(document))

    def get(self, kind: str, name: str) -> Json | None:
        found = self.kubectl("get", kind, name, "-o", "json", check=False)
        return json.loads(found.stdout) if found.returncode == 0 else None

    def pods(self, selector: str) -> list[Json]:
        listed = json.loads(self.kubectl("get", "pods", "-l", selector, "-o", "json").stdout)["items"]
        return [pod for pod in listed if not pod["metadata"].get("deletionTimestamp")]

    def raw(self, path: str) -> Json:
        document: Json = json.loads(self.cluster.control_plane.kubectl("get", "--raw", path).stdout)
        return document


@pytest.fixture(scope="module")
def operator(node_cluster: NodeCluster, node_images: NodeImages) -> Iterator[None]:
    """The chart installed with only the image set, as in ``test_cluster.py``, in its own namespace."""
    plane = node_cluster.control_plane
    repository, _, tag = node_images.operator.reference.rpartition(":")
    installed = plane.helm("status", RELEASE, "-n", SYSTEM, check=False).returncode == 0
    if not installed:
        if plane.kubectl("get", "namespace", SYSTEM, check=False).returncode != 0:
            plane.kubectl("create", "namespace", SYSTEM)
        plane.helm(
            "install", RELEASE, str(CHART), "-n", SYSTEM, "--set", f"image.repository={repository}", "--set",
            f"image.tag={tag}", "--wait", "--timeout=240s",
        )  # fmt: skip
    yield
    plane.helm("uninstall", RELEASE, "-n", SYSTEM, "--wait", check=False)


def _quantity_bytes(quantity: str) -> int:
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "k": 10**3, "M": 10**6, "G": 10**9}
    for suffix, factor in units.items():
        if quantity.endswith(suffix):
            return int(quantity.removesuffix(suffix)) * factor
    return int(quantity)


def _resource(name: str, version: str, configuration: Json) -> Json:
    return {
        "apiVersion": "flinkmemory.io/v1alpha1",
        "kind": "FlinkTaskManagerMemory",
        "metadata": {"name": name},
        "spec": {
            "flinkVersion": ".".join(version.split(".")[:2]),
            "flinkConfiguration": configuration,
            "targets": {
                "configMap": {"name": f"{name}-conf"},
                "workloads": [
                    {"kind": "Deployment", "name": f"{name}-taskmanager", "container": "taskmanager"}
                ],
            },
        },
    }


def _job_manager(image: str) -> Json:
    container = {
        "name": "jobmanager",
        "image": image,
        "imagePullPolicy": "Never",
        "args": ["jobmanager"],
        "env": [
            {"name": "JOB_MANAGER_RPC_ADDRESS", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}
        ],
        "ports": [{"containerPort": 8081, "name": "rest"}],
        "readinessProbe": {"httpGet": {"path": "/config", "port": 8081}, "periodSeconds": 2},
        "resources": {"requests": {"cpu": "250m", "memory": "1600Mi"}, "limits": {"memory": "1600Mi"}},
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
    }
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "jobmanager", "labels": {"app": "jobmanager"}},
        "spec": {"containers": [container], "volumes": [{"name": "tmp", "emptyDir": {}}]},
    }


def _task_managers(name: str, image: str, job_manager_ip: str, replicas: int) -> Json:
    """The Deployment the resource targets: its pods mount the resource's ConfigMap as ``conf/``."""
    labels = {"app": f"{name}-taskmanager", "flinkmemory.io/profile": name}
    container = {
        "name": "taskmanager",
        "image": image,
        "imagePullPolicy": "Never",
        "args": ["taskmanager"],
        "env": [{"name": "JOB_MANAGER_RPC_ADDRESS", "value": job_manager_ip}],
        "securityContext": {"readOnlyRootFilesystem": True},
        "volumeMounts": [
            {"name": "conf", "mountPath": "/opt/flink/conf", "readOnly": True},
            {"name": "tmp", "mountPath": "/tmp"},
        ],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        # opted in: the operator writes a workload it did not create only for the resource it names
        "metadata": {"name": f"{name}-taskmanager", "annotations": {"flinkmemory.io/memory": name}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": f"{name}-taskmanager"}},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "containers": [container],
                    "volumes": [
                        {"name": "conf", "configMap": {"name": f"{name}-conf"}},
                        {"name": "tmp", "emptyDir": {}},
                    ],
                },
            },
        },
    }


@pytest.fixture(scope="module", params=["2.2.1", "1.20.5"])
def flink_version(request: pytest.FixtureRequest) -> str:
    version: str = request.param
    return version


@pytest.fixture
def pods(node_cluster: NodeCluster, operator: None, flink_version: str) -> Iterator[Pods]:
    namespace = f"flink-{flink_version.replace('.', '-')}"
    node_cluster.control_plane.kubectl("create", "namespace", namespace)
    pods = Pods(node_cluster, namespace)
    try:
        yield pods
    finally:
        node_cluster.control_plane.kubectl(
            "delete", "namespace", namespace, "--wait=true", "--timeout=120s", check=False
        )


def _ready_status(pods: Pods, name: str) -> Json:
    def check() -> Json | None:
        body = pods.get("ftmm", name) or {}
        status: Json = body.get("status") or {}
        conditions = {entry["type"]: entry["status"] for entry in status.get("conditions", [])}
        current = status.get("observedGeneration") == body.get("metadata", {}).get("generation")
        return status if current and conditions.get("Ready") == "True" else None

    return eventually(check, timeout=60, what=f"{name} Ready")


def _start_job_manager(pods: Pods, image: str) -> str:
    pods.apply(_job_manager(image))
    pods.kubectl("wait", "--for=condition=Ready", "pod/jobmanager", f"--timeout={READY_TIMEOUT:.0f}s")
    address: str = (pods.get("pod", "jobmanager") or {})["status"]["podIP"]
    return address


def _running_task_managers(pods: Pods, name: str, expected: int, resources: Json) -> list[Json]:
    """The TaskManager pods of the Deployment's current template (the patched one), once all are Ready."""

    def check() -> list[Json] | None:
        current = [
            pod
            for pod in pods.pods(f"app={name}-taskmanager")
            if _container_resources(pod) == resources
            and all(status.get("ready") for status in pod["status"].get("containerStatuses", []))
            and pod["status"].get("containerStatuses")
        ]
        return (
            current
            if len(current) == expected and len(pods.pods(f"app={name}-taskmanager")) == expected
            else None
        )

    return eventually(check, timeout=READY_TIMEOUT, what=f"{expected} Ready TaskManagers of {name}")


def _container_resources(pod: Json) -> Json:
    [container] = pod["spec"]["containers"]
    resources: Json = container.get("resources", {})
    return resources


def _expected_resources(status: Json) -> Json:
    wanted = status["podResources"]
    return {
        side: {key: wanted[side][key] for key in ("memory", "cpu") if key in wanted[side]}
        for side in ("requests", "limits")
    }


def _cgroup_memory_limit(pod: Json) -> int:
    """``memory.limit_in_bytes`` of the TaskManager container's cgroup, read on the node."""
    [status] = pod["status"]["containerStatuses"]
    container_id = status["containerID"].removeprefix("containerd://")
    matches = list((CGROUP_ROOT / "memory").glob(f"flink-tm-memory-e2e/*/kubepods/**/{container_id}"))
    assert len(matches) == 1, f"no single memory cgroup for container {container_id}: {matches}"
    return int((matches[0] / "memory.limit_in_bytes").read_text())


def _task_manager_view(pods: Pods, job_manager_ip: str, pod: Json) -> TaskManagerView:
    """The REST document of the TaskManager running in ``pod`` and its JVM's command line."""
    pod_ip = pod["status"]["podIP"]
    base = f"/api/v1/namespaces/{pods.namespace}/pods/jobmanager:8081/proxy"

    def registered() -> Json | None:
        with contextlib.suppress(subprocess.CalledProcessError, json.JSONDecodeError):
            for entry in pods.raw(f"{base}/taskmanagers")["taskmanagers"]:
                ours = (
                    str(entry.get("path", "")).split("@", 1)[-1].startswith(f"{pod_ip}:")
                    or pod_ip in entry["id"]
                )
                # Registered first, slots reported a moment later: wait for both.
                if ours and entry.get("slotsNumber", 0) > 0:
                    return entry  # type: ignore[no-any-return]
        return None

    entry = eventually(
        registered, timeout=READY_TIMEOUT, what=f"TaskManager {pod_ip} registered at {job_manager_ip}"
    )
    rest = pods.raw(f"{base}/taskmanagers/{entry['id']}")
    command_line = pods.kubectl(
        "exec", pod["metadata"]["name"], "-c", "taskmanager", "--", "cat", "/proc/1/cmdline"
    ).stdout
    return TaskManagerView(
        id=entry["id"], rest=rest, command_line=command_line.split("\0")[:-1], startup_seconds=0.0
    )


def _flags(jvm_parameters: str) -> dict[str, list[str]]:
    options = jvm_parameters.split()
    return {
        prefix: [option.removeprefix(prefix) for option in options if option.startswith(prefix)]
        for prefix in JVM_MEMORY_FLAGS
    }


def test_task_manager_pods_sized_by_the_operator_run_with_the_status_layout(
    pods: Pods, node_images: NodeImages, flink_version: str
) -> None:
    image = node_images.flink[flink_version].reference
    job_manager_ip = _start_job_manager(pods, image)
    name = "sized"
    pods.apply(_task_managers(name, image, job_manager_ip, TASK_MANAGERS))
    pods.apply(_resource(name, flink_version, TASK_MANAGER_SPEC))
    status = _ready_status(pods, name)
    resources = _expected_resources(status)

    running = _running_task_managers(pods, name, TASK_MANAGERS, resources)

    breakdown = status["breakdown"]
    expected_memory = {rest: breakdown[component] for rest, component in REST_NAMES.items()}
    limit = _quantity_bytes(resources["limits"]["memory"])
    for pod in running:
        assert pod["metadata"]["annotations"]["flinkmemory.io/mutated"].startswith(f"{name} generation ")
        assert _cgroup_memory_limit(pod) == limit
        view = _task_manager_view(pods, job_manager_ip, pod)
        assert view.memory_configuration == expected_memory
        assert view.rest["slotsNumber"] == status["numSlots"]
        assert view.jvm_memory_flags == _flags(status["jvmParameters"])
        dynamic = " ".join(f"-D {key}={value}" for key, value in view.dynamic_options)
        assert dynamic == status["dynamicConfigs"]


def test_a_task_manager_using_native_memory_beyond_its_limit_is_oom_killed(
    pods: Pods, node_images: NodeImages, flink_version: str
) -> None:
    image = node_images.flink[flink_version].reference
    name = "native-leak"
    process_size = "1g"
    # The agent allocates (and touches) as much native memory as the whole process may use: whatever
    # the JVM itself uses on top of it goes beyond the container's limit.
    spec = {
        **TASK_MANAGER_SPEC,
        "taskmanager.memory.process.size": process_size,
        "env.java.opts.taskmanager": f"-javaagent:/opt/flink-e2e/ballast.jar={process_size}",
    }
    pods.apply(_task_managers(name, image, "127.0.0.1", 1))
    pods.apply(_resource(name, flink_version, spec))
    status = _ready_status(pods, name)
    resources = _expected_resources(status)

    def oom_killed() -> Json | None:
        for pod in pods.pods(f"app={name}-taskmanager"):
            if _container_resources(pod) != resources:
                continue
            for container in pod["status"].get("containerStatuses", []):
                for state in (container.get("state", {}), container.get("lastState", {})):
                    terminated = state.get("terminated") or {}
                    if terminated.get("reason") == "OOMKilled":
                        return {"pod": pod, "terminated": terminated}
        return None

    found = eventually(oom_killed, timeout=READY_TIMEOUT, what=f"an OOMKilled TaskManager of {name}")
    assert found["terminated"]["exitCode"] == 137
    assert _cgroup_memory_limit_of_pod(found["pod"]) == _quantity_bytes(resources["limits"]["memory"])

    # The operator attributes it: the hashmap backend keeps no state natively and the limit is the
    # process size, so the budget that ran out is the JVM overhead, as the status's breakdown sizes it.
    killed = {pod["metadata"]["name"] for pod in pods.pods(f"app={name}-taskmanager")}
    try:
        kills = eventually(
            lambda: (pods.get("ftmm", name) or {}).get("status", {}).get("oomKills"),
            timeout=READY_TIMEOUT,
            what=f"status.oomKills of {name}",
        )
    except AssertionError as error:
        logs = pods.cluster.control_plane.kubectl(
            "-n", SYSTEM, "logs", f"deployment/{RELEASE}", "--tail=60", check=False
        )
        raise AssertionError(f"{error}; the operator's last lines:\n{logs.stdout}{logs.stderr}") from None
    assert kills["count"] >= 1
    assert kills["lastPod"] in killed
    assert kills["lastContainer"] == "taskmanager"
    assert _quantity_bytes(kills["containerLimit"]) == _quantity_bytes(resources["limits"]["memory"])
    assert kills["budget"] == "JVM overhead"
    assert kills["budgetBytes"] == status["breakdown"]["jvmOverhead"]
    assert kills["ranDerivedLayout"] is True, kills["evidence"]
    fix = kills["fix"]
    assert (
        fix["flinkConfiguration"]["taskmanager.memory.jvm-overhead.min"]
        == (fix["flinkConfiguration"]["taskmanager.memory.jvm-overhead.max"])
    )
    assert fix["budgetBytes"] >= kills["budgetBytes"] * 1.25
    events = eventually(lambda: _oom_events(pods, name), timeout=60, what=f"an OOMKilled Event about {name}")
    count = ((pods.get("ftmm", name) or {}).get("status", {}).get("oomKills") or {})["count"]
    assert len(events) <= count  # one per incident, never more (read before the count)
    assert all(event["type"] == "Warning" for event in events)
    assert all("JVM overhead" in event["message"] for event in events)
    assert any(any(pod in event["message"] for pod in killed) for event in events)


def _oom_events(pods: Pods, name: str) -> list[Json]:
    listed = json.loads(pods.kubectl("get", "events", "-o", "json").stdout)["items"]
    return [
        event
        for event in listed
        if event.get("reason") == "OOMKilled"
        and event.get("involvedObject", {}).get("kind") == "FlinkTaskManagerMemory"
        and event.get("involvedObject", {}).get("name") == name
    ]


def _cgroup_memory_limit_of_pod(pod: Json) -> int:
    """The pod-level memory cgroup's limit (the container's may be gone between restarts)."""
    uid = pod["metadata"]["uid"]
    matches = list((CGROUP_ROOT / "memory").glob(f"flink-tm-memory-e2e/*/kubepods/**/pod{uid}"))
    assert len(matches) == 1, f"no single memory cgroup for pod {uid}: {matches}"
    return int((matches[0] / "memory.limit_in_bytes").read_text())


# Why these sizes (issue 16's proof: "in Auto the raised budget keeps the next pod alive under the same
# load"). The TaskManager runs with a process size (= the container's limit) of 1 GiB and a ballast of
# 1 GiB of native memory, touched page by page before Flink's main starts: the ballast alone fills the
# old limit, so whatever the JVM needs of its own (its resident set without the ballast: RSS_OWN below,
# measured by this test on the surviving pod) is beyond it: the kill is certain, with all of RSS_OWN as
# the margin. Flink gives 1 GiB the minimum JVM overhead, 192 MiB; with step 4 the fix pins the overhead
# to 5 x 192 = 960 MiB and grows the process size by the same 768 MiB to 1792 MiB, heap, direct,
# metaspace and managed memory unchanged. The new pod holds the same 1 GiB of ballast; it survives if
# RSS_OWN < 768 MiB. Measured by this test (VmHWM of the JVM less the ballast, a TaskManager registered
# at its JobManager, watched for a minute): 279 and 272 MiB with Flink 2.2.1, 287 MiB with 1.20.5
# (the container's own peak 1300 to 1315 MiB of its 1792 MiB limit). So the old limit is exceeded by
# ~280 MiB and the new one is ~480 MiB away; the test asserts RSS_OWN stays under half of the 768 MiB,
# so a JVM that grew enough to thin that margin fails here first, not by an OOM kill some day.
OOM_AUTO_PROCESS = "1g"
OOM_AUTO_BALLAST = "1g"
OOM_AUTO_STEP = 4
OOM_AUTO_RAISED_PROCESS = (1024 + OOM_AUTO_STEP * 192) << 20
OOM_AUTO_WATCH = 60.0
"""Seconds the new pod is watched once its TaskManager has registered: it must neither restart nor be killed."""


def test_in_auto_the_raised_budget_keeps_the_next_pod_alive_under_the_same_load(
    pods: Pods, node_images: NodeImages, flink_version: str
) -> None:
    image = node_images.flink[flink_version].reference
    job_manager_ip = _start_job_manager(pods, image)
    name = "oom-auto"
    spec = {
        **TASK_MANAGER_SPEC,
        "taskmanager.memory.process.size": OOM_AUTO_PROCESS,
        "env.java.opts.taskmanager": f"-javaagent:/opt/flink-e2e/ballast.jar={OOM_AUTO_BALLAST}",
    }
    resource = _resource(name, flink_version, spec)
    resource["spec"] |= {
        "updateMode": "Auto",
        "oomKills": {"step": OOM_AUTO_STEP},
        # No metrics: the operator's own loopback, where nothing answers. The fix must not wait for them.
        "recommendations": {
            "jobManager": {"url": "http://127.0.0.1:9"},
            "pollInterval": "1h",
            "maxProcess": "2Gi",
        },
    }
    pods.apply(_task_managers(name, image, job_manager_ip, 1))
    pods.apply(resource)
    first = _ready_status(pods, name)
    assert first["breakdown"]["totalProcess"] == 1 << 30
    assert first["breakdown"]["jvmOverhead"] == 192 << 20

    def applied() -> Json | None:
        status: Json = (pods.get("ftmm", name) or {}).get("status") or {}
        current = (status.get("autoUpdates") or {}).get("current") or {}
        return status if current.get("oomKillTime") else None

    try:
        status = eventually(applied, timeout=2 * READY_TIMEOUT, what=f"the OOM kill's fix applied to {name}")
    except AssertionError as error:
        logs = pods.cluster.control_plane.kubectl(
            "-n", SYSTEM, "logs", f"deployment/{RELEASE}", "--tail=60", check=False
        )
        raise AssertionError(f"{error}; the operator's last lines:\n{logs.stdout}{logs.stderr}") from None
    kills = status["oomKills"]
    assert kills["budget"] == "JVM overhead"
    assert status["autoUpdates"]["current"]["oomKillTime"] in [
        incident["time"] for incident in kills["incidents"]
    ]
    current = status["autoUpdates"]["current"]
    assert "applied without waiting for usage" in current["reason"], current
    assert current["fromProcessBytes"] == 1 << 30
    assert current["processBytes"] == OOM_AUTO_RAISED_PROCESS
    assert status["usage"]["lastPoll"]["reason"] == "JobManagerUnreachable"

    def written() -> Json | None:
        status = _ready_status(pods, name)
        return status if status["breakdown"]["totalProcess"] == OOM_AUTO_RAISED_PROCESS else None

    status = eventually(written, timeout=READY_TIMEOUT, what=f"{name}'s raised layout written")
    assert status["breakdown"]["jvmOverhead"] == (1 + OOM_AUTO_STEP) * (192 << 20)
    for component in ("taskHeap", "taskOffHeap", "network", "managed", "jvmMetaspace"):
        assert status["breakdown"][component] == first["breakdown"][component], component
    resources = _expected_resources(status)
    limit = _quantity_bytes(resources["limits"]["memory"])
    assert limit == OOM_AUTO_RAISED_PROCESS

    # The Deployment rolls: its one pod now runs with the raised limit, under the same ballast.
    [pod] = _running_task_managers(pods, name, 1, resources)
    assert _cgroup_memory_limit(pod) == limit
    view = _task_manager_view(pods, job_manager_ip, pod)  # registered: Flink's start-up is behind it
    expected_memory = {rest: status["breakdown"][component] for rest, component in REST_NAMES.items()}
    assert view.memory_configuration == expected_memory
    assert f"-javaagent:/opt/flink-e2e/ballast.jar={OOM_AUTO_BALLAST}" in view.command_line
    uid, pod_name = pod["metadata"]["uid"], pod["metadata"]["name"]

    def alive() -> bool:
        found = pods.get("pod", pod_name) or {}
        [container] = found.get("status", {}).get("containerStatuses") or [{}]
        return (
            found.get("metadata", {}).get("uid") == uid
            and container.get("restartCount") == 0
            and "running" in container.get("state", {})
            and not container.get("lastState")
        )

    deadline = time.monotonic() + OOM_AUTO_WATCH
    while time.monotonic() < deadline:  # a claim that nothing happens: watched throughout, never assumed
        assert alive(), f"the pod with the raised budget did not stay running: {pods.get('pod', pod_name)}"
        time.sleep(2)
    resident = _proc_status_kib(pods, pod)
    ballast = _quantity_bytes(OOM_AUTO_BALLAST.replace("g", "Gi"))
    own = resident["VmHWM"] * 1024 - ballast  # the JVM's own peak resident memory
    room = OOM_AUTO_RAISED_PROCESS - (1 << 30)
    peak = _cgroup_value(pod, "memory.max_usage_in_bytes")
    print(  # the measurement behind the sizes above (run with -s to see it)
        f"[oom-auto {flink_version}] JVM peak RSS {resident['VmHWM'] >> 10} MiB, of which its own "
        f"{own >> 20} MiB beyond the {ballast >> 20} MiB ballast; the container's peak {peak >> 20} MiB "
        f"of its {limit >> 20} MiB limit",
        file=sys.stderr,
    )
    assert own > 0  # the old limit (the ballast's size) was certainly exceeded
    assert own < room / 2, (
        f"the JVM's own {own >> 20} MiB leave too thin a margin under the {room >> 20} MiB of room"
    )
    assert peak < limit


def _proc_status_kib(pods: Pods, pod: Json) -> dict[str, int]:
    """The TaskManager JVM's (pid 1's) memory lines of ``/proc/1/status``, in KiB."""
    text = pods.kubectl(
        "exec", pod["metadata"]["name"], "-c", "taskmanager", "--", "cat", "/proc/1/status"
    ).stdout
    found = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0])
    return found


def _cgroup_value(pod: Json, name: str) -> int:
    """One file of the TaskManager container's memory cgroup, read on the node."""
    [status] = pod["status"]["containerStatuses"]
    container_id = status["containerID"].removeprefix("containerd://")
    matches = list((CGROUP_ROOT / "memory").glob(f"flink-tm-memory-e2e/*/kubepods/**/{container_id}"))
    assert len(matches) == 1, f"no single memory cgroup for container {container_id}: {matches}"
    return int((matches[0] / name).read_text())
