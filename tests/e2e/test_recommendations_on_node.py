"""On the real node: a real Flink job's metrics become a recommendation, and Auto rolls the TaskManagers to it.

A JobManager pod runs a small streaming job in application mode (``flink/job/UsageJob.java``,
compiled against the release's ``flink-dist`` and mounted as ``usrlib/usage-job.jar`` from a
ConfigMap); a TaskManager Deployment, oversized on purpose (1600m), runs it. A
``FlinkTaskManagerMemory`` in ``updateMode: Auto`` targets the Deployment and reads the JobManager's
REST API: the operator, in its pod inside the node's network namespace, calls the JobManager pod
(never the host: the host reaches the cluster only through the API server's forwarder on 127.0.0.1,
and this test reads the JobManager through the API server's pod proxy). Then:

* the operator samples the real metrics (``status.usage.lastPoll.reason: Sampled``), recommends, and
  applies the recommendation once (``status.autoUpdates.current``);
* the Deployment rolls: the new TaskManager pod's container resources are the recommendation's;
* the new TaskManager's REST ``memoryConfiguration`` equals ``status.breakdown``, whose total is the
  recommended process size, and the job is still running.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.flink.job import JAR_NAME, MAIN_CLASS, usage_job_jar
from tests.e2e.node.cluster import NodeCluster
from tests.e2e.node.images import NodeImages
from tests.e2e.support import eventually
from tests.e2e.test_flink_pods import (  # the chart's install and the helpers of the Flink pod tests
    READY_TIMEOUT,
    TASK_MANAGER_SPEC,
    Pods,
    _expected_resources,
    _resource,
    _running_task_managers,
    _task_manager_view,
    _task_managers,
    operator,  # noqa: F401 (a fixture)
)
from tests.e2e.test_flink_taskmanager import REST_NAMES

Json = dict[str, Any]
VERSION = "2.2.1"
NAME = "usage"
JOB_CONFIG_MAP = "usage-job"


@pytest.fixture
def pods(node_cluster: NodeCluster, operator: None) -> Iterator[Pods]:  # noqa: F811 (the fixture above)
    namespace = "flink-usage"
    node_cluster.control_plane.kubectl("create", "namespace", namespace)
    try:
        yield Pods(node_cluster, namespace)
    finally:
        node_cluster.control_plane.kubectl(
            "delete", "namespace", namespace, "--wait=true", "--timeout=120s", check=False
        )


def _application_job_manager(image: str) -> Json:
    """A JobManager running the usage job in application mode, the job's jar in ``usrlib/``."""
    container = {
        "name": "jobmanager",
        "image": image,
        "imagePullPolicy": "Never",
        "args": ["standalone-job", "--job-classname", MAIN_CLASS],
        "env": [
            {"name": "JOB_MANAGER_RPC_ADDRESS", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}
        ],
        "ports": [{"containerPort": 8081, "name": "rest"}],
        "readinessProbe": {"httpGet": {"path": "/config", "port": 8081}, "periodSeconds": 2},
        "resources": {"requests": {"cpu": "250m", "memory": "1600Mi"}, "limits": {"memory": "1600Mi"}},
        "volumeMounts": [
            {"name": "tmp", "mountPath": "/tmp"},
            {"name": "job", "mountPath": f"/opt/flink/usrlib/{JAR_NAME}", "subPath": JAR_NAME},
        ],
    }
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "jobmanager", "labels": {"app": "jobmanager"}},
        "spec": {
            "containers": [container],
            "volumes": [
                {"name": "tmp", "emptyDir": {}},
                {"name": "job", "configMap": {"name": JOB_CONFIG_MAP}},
            ],
        },
    }


def _running_jobs(pods: Pods) -> list[Json]:
    base = f"/api/v1/namespaces/{pods.namespace}/pods/jobmanager:8081/proxy"
    with contextlib.suppress(subprocess.CalledProcessError, json.JSONDecodeError, KeyError):
        return [job for job in pods.raw(f"{base}/jobs/overview")["jobs"] if job["state"] == "RUNNING"]
    return []


def test_auto_rolls_the_task_managers_to_the_recommendation_from_a_real_jobs_metrics(
    pods: Pods, node_images: NodeImages
) -> None:
    image = node_images.flink[VERSION].reference
    jar = usage_job_jar(VERSION)
    pods.kubectl("create", "configmap", JOB_CONFIG_MAP, f"--from-file={JAR_NAME}={jar}")
    pods.apply(_application_job_manager(image))
    pods.kubectl("wait", "--for=condition=Ready", "pod/jobmanager", f"--timeout={READY_TIMEOUT:.0f}s")
    job_manager_ip: str = (pods.get("pod", "jobmanager") or {})["status"]["podIP"]
    pods.apply(_task_managers(NAME, image, job_manager_ip, 1))
    resource = _resource(NAME, VERSION, {**TASK_MANAGER_SPEC, "taskmanager.memory.process.size": "1600m"})
    resource["spec"]["updateMode"] = "Auto"
    resource["spec"]["recommendations"] = {
        # the operator's pod calls the JobManager's pod inside the node's network namespace
        "jobManager": {"url": f"http://{job_manager_ip}:8081"},
        "window": "10m",
        "minObservation": "90s",  # the job runs a while before the first recommendation
        "pollInterval": "5s",
        "margin": "15%",
        "minChangeInterval": "1h",
    }
    pods.apply(resource)
    eventually(lambda: _running_jobs(pods), timeout=READY_TIMEOUT, what="the usage job running")

    def changed() -> Json | None:
        status: Json = (pods.get("ftmm", NAME) or {}).get("status") or {}
        return status if (status.get("autoUpdates") or {}).get("current") else None

    status = eventually(changed, timeout=2 * READY_TIMEOUT, what="the automatic change")
    change = status["autoUpdates"]["current"]
    assert status["usage"]["lastPoll"]["flinkVersion"] == VERSION
    assert status["usage"]["peaks"]["heap"] > 0
    assert status["usage"]["peaks"]["metaspace"] > 0
    assert change["fromProcessBytes"] == 1600 << 20
    assert change["processBytes"] < change["fromProcessBytes"]

    def applied() -> Json | None:
        body = pods.get("ftmm", NAME) or {}
        current: Json = body.get("status") or {}
        total = (current.get("breakdown") or {}).get("totalProcess")
        return current if total == change["processBytes"] else None

    status = eventually(applied, timeout=READY_TIMEOUT, what="the recommended layout in the status")
    resources = _expected_resources(status)
    [pod] = _running_task_managers(pods, NAME, 1, resources)
    view = _task_manager_view(pods, job_manager_ip, pod)
    expected = {rest: status["breakdown"][component] for rest, component in REST_NAMES.items()}
    assert view.memory_configuration == expected
    assert view.memory_configuration["totalProcessMemory"] == change["processBytes"]
    assert eventually(lambda: _running_jobs(pods), timeout=READY_TIMEOUT, what="the job running again")
