"""A TaskManager container killed for memory: recorded in the status, one Event, counted; never twice.

The real operator watches pods on the emulated API server. A pod of a targeted Deployment (owned by
its ReplicaSet ``<deployment>-<pod-template-hash>``, as the Deployment controller makes them) turns
``OOMKilled``; the resource's ``status.oomKills`` then names the budget that ran out with an
engine-checked fix, one Warning Event says so and the metric counts it. A second operator (a
restart, or a new leader) lists the same pod again and neither counts nor announces it again; a
later incident of the same pod is counted as one more. Pods whose statuses are garbage never stop
the watch. Waits are on the emulator's store with generous deadlines, never on time.
"""

from __future__ import annotations

import copy
from typing import Any

import aiohttp
import kmock
import pytest

from flink_tm_memory.cluster import watch
from tests.integration.conftest import StartOperator
from tests.integration.emulator import ApiEmulator
from tests.integration.kubectl import (
    DEPLOYMENTS,
    MEMORIES,
    Json,
    Kubectl,
    deployment,
    eventually,
    ready,
    sample,
    stays,
)
from tests.integration.test_targets import TASKMANAGER
from tests.integration.webhooks import free_port

PODS = "v1/pods"
REPLICA_SETS = "apps/v1/replicasets"
HOUR = 3600.0
TEMPLATE_HASH = "5b7c9d"
POD = f"flink-taskmanager-{TEMPLATE_HASH}-x2k4p"


def taskmanager_pod(name: str = POD, uid: str = "pod-uid-1", resources: Json | None = None) -> Json:
    container = {**copy.deepcopy(TASKMANAGER), "resources": resources or {}}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "uid": uid,
            "labels": {"app": "flink-taskmanager", "pod-template-hash": TEMPLATE_HASH},
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "name": f"flink-taskmanager-{TEMPLATE_HASH}",
                    "uid": "rs",
                }
            ],
        },
        "spec": {"containers": [{"name": "log-shipper", "image": "fluent-bit"}, container]},
    }


async def create_pod(kubectl: Kubectl, pod: Json) -> Json:
    """Creates ``pod`` owned by its ReplicaSet, made first if needed: a pod whose owners are all absent
    is garbage-collected at once, on the emulator as on a cluster."""
    owner = pod["metadata"]["ownerReferences"][0]
    replica_set = kubectl.get(REPLICA_SETS, owner["name"])
    if replica_set is None:
        replica_set = await kubectl.create(
            REPLICA_SETS,
            {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": owner["name"]}, "spec": {}},
        )
    owner["uid"] = replica_set["metadata"]["uid"]
    return await kubectl.create(PODS, pod)


def oom_status(restarts: int, finished: str, container_id: str, container: str = "taskmanager") -> Json:
    return {
        "status": {
            "phase": "Running",
            "containerStatuses": [
                {"name": "log-shipper", "restartCount": 0, "state": {"running": {}}},
                {
                    "name": container,
                    "restartCount": restarts,
                    "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                    "lastState": {
                        "terminated": {
                            "reason": "OOMKilled",
                            "exitCode": 137,
                            "finishedAt": finished,
                            "containerID": container_id,
                        }
                    },
                },
            ],
        }
    }


def oom_events(kubectl: Kubectl, name: str) -> list[Json]:
    return [event for event in kubectl.events(name) if event.get("reason") == "OOMKilled"]


async def scrape(port: int) -> str:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{port}/metrics") as response,
    ):
        return await response.text()


def counted(text: str, metric: str) -> float:
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(metric + "{"))


async def deployment_target(kubectl: Kubectl) -> Json:
    await kubectl.create(MEMORIES, sample("deployment-target"))
    await kubectl.create(
        DEPLOYMENTS,
        deployment("flink-taskmanager", [copy.deepcopy(TASKMANAGER)], for_memory="deployment-target"),
    )
    status = await ready(kubectl, "deployment-target")
    resources: Json = (kubectl.get(DEPLOYMENTS, "flink-taskmanager") or {})["spec"]["template"]["spec"][
        "containers"
    ][0]["resources"]
    assert status["podResources"]["limits"]["memory"] == "4Gi"
    return resources


async def test_an_oom_kill_is_recorded_announced_once_and_counted_once_across_restarts(
    start_operator: StartOperator, kubectl: Kubectl
) -> None:
    port = free_port()
    first = await start_operator(drift_interval=HOUR, metrics_port=port, metrics_listen="127.0.0.1")
    resources = await deployment_target(kubectl)
    await create_pod(kubectl, taskmanager_pod(resources=resources))
    await kubectl.patch(PODS, POD, oom_status(1, "2026-12-07T20:00:00Z", "containerd://one"))

    def recorded(count: int) -> Json | None:
        kills: Json | None = kubectl.status("deployment-target").get("oomKills")
        return kills if kills and kills["count"] == count else None

    kills = await eventually(lambda: recorded(1), 10.0, what="the OOM kill recorded")
    assert kills["lastPod"] == POD
    assert kills["lastContainer"] == "taskmanager"
    assert kills["lastTime"] == "2026-12-07T20:00:00Z"
    assert kills["containerLimit"] == "4Gi"
    assert kills["budget"] == "JVM overhead"
    assert kills["ranDerivedLayout"] is True
    overhead = kubectl.status("deployment-target")["breakdown"]["jvmOverhead"]
    assert kills["budgetBytes"] == overhead
    fix = kills["fix"]
    assert "taskmanager.memory.jvm-overhead.max" in fix["flinkConfiguration"]
    assert fix["resources"]["memory"] == "4199Mi"  # spec.resources.memory is 4Gi: the quantity grows
    uid = (kubectl.get(PODS, POD) or {})["metadata"]["uid"]  # the API server's, not the one sent
    assert [incident["uid"] for incident in kills["incidents"]] == [uid]
    [event] = await eventually(lambda: oom_events(kubectl, "deployment-target"), what="the Warning Event")
    assert event["type"] == "Warning"
    assert POD in event["message"]
    assert "JVM overhead" in event["message"]
    assert counted(await scrape(port), "flink_tm_memory_oom_kills_total") == 1
    await first.stop()

    second_port = free_port()
    await start_operator(drift_interval=HOUR, metrics_port=second_port, metrics_listen="127.0.0.1")
    # Another pod killed after the restart: the new operator lists the first pod (its incident still
    # in lastState) before it watches, and handles its pods in that order, so a count of 2 and two
    # Events in all prove the first incident was neither counted nor announced again.
    other = f"flink-taskmanager-{TEMPLATE_HASH}-q8w2z"
    await create_pod(kubectl, taskmanager_pod(other, uid="pod-uid-2", resources=resources))
    await kubectl.patch(PODS, other, oom_status(1, "2026-12-07T20:02:00Z", "containerd://other"))
    kills = await eventually(lambda: recorded(2), 10.0, what="the second pod's OOM kill recorded")
    assert kills["lastPod"] == other
    await eventually(lambda: len(oom_events(kubectl, "deployment-target")) == 2, what="the second Event")
    # The first pod killed again (restarted since): a new incident of the same pod.
    await kubectl.patch(PODS, POD, oom_status(2, "2026-12-07T20:03:00Z", "containerd://two"))
    kills = await eventually(lambda: recorded(3), 10.0, what="the first pod's second OOM kill recorded")
    assert [incident["containerId"] for incident in kills["incidents"]] == [
        "containerd://one",
        "containerd://other",
        "containerd://two",
    ]
    assert any("2 OOM kills of this pod" in line for line in kills["evidence"])
    await eventually(lambda: len(oom_events(kubectl, "deployment-target")) == 3, what="the third Event")
    assert counted(await scrape(second_port), "flink_tm_memory_oom_kills_total") == 2  # this run's


@pytest.mark.parametrize(
    "garbage",
    [
        {"status": {"containerStatuses": "nope"}},
        {"status": {"containerStatuses": [None, 3, {"name": 7}, {"name": "taskmanager", "lastState": []}]}},
        {
            "status": {
                "containerStatuses": [
                    {
                        "name": "taskmanager",
                        "restartCount": -4,
                        "lastState": {"terminated": {"reason": "OOMKilled", "finishedAt": 12}},
                    }
                ]
            }
        },
        {
            "metadata": {"ownerReferences": "x"},
            "status": {
                "containerStatuses": [
                    {"name": "taskmanager", "lastState": {"terminated": {"reason": "OOMKilled"}}}
                ]
            },
        },
    ],
    ids=["not-a-list", "junk-entries", "bad-fields", "bad-owners"],
)
async def test_malformed_pod_statuses_never_stop_the_watch(
    start_operator: StartOperator, kubectl: Kubectl, garbage: dict[str, Any]
) -> None:
    await start_operator(drift_interval=HOUR)
    resources = await deployment_target(kubectl)
    await create_pod(kubectl, taskmanager_pod("broken", uid="broken-uid", resources=resources))
    await kubectl.patch(PODS, "broken", garbage)
    await create_pod(kubectl, taskmanager_pod(resources=resources))
    await kubectl.patch(PODS, POD, oom_status(1, "2026-12-07T20:00:00Z", "containerd://one"))

    def last_pod() -> str | None:
        kills = kubectl.status("deployment-target").get("oomKills") or {}
        return kills.get("lastPod") if kills.get("count") else None

    # The well-formed incident after the garbage is still recorded (the garbage pod's own OOM kill,
    # if it shows one with a readable container, may be counted first: it is one of the target's).
    assert await eventually(last_pod, 10.0, what="the OOM kill after garbage recorded") in (POD, "broken")
    await eventually(lambda: last_pod() == POD, 10.0, what="the well-formed incident recorded")


async def test_a_sidecar_killed_for_memory_is_not_the_task_managers(
    start_operator: StartOperator, kubectl: Kubectl
) -> None:
    await start_operator(drift_interval=HOUR)
    resources = await deployment_target(kubectl)
    await create_pod(kubectl, taskmanager_pod("sidecar-pod", uid="s-uid", resources=resources))
    await kubectl.patch(
        PODS, "sidecar-pod", oom_status(1, "2026-12-07T20:00:00Z", "containerd://s", container="log-shipper")
    )
    await create_pod(kubectl, taskmanager_pod(resources=resources))
    await kubectl.patch(PODS, POD, oom_status(1, "2026-12-07T20:01:00Z", "containerd://one"))
    kills = await eventually(
        lambda: kubectl.status("deployment-target").get("oomKills"), 10.0, what="the TaskManager's OOM kill"
    )
    assert kills["count"] == 1
    assert kills["lastPod"] == POD


async def test_an_incident_from_before_the_operator_started_is_recorded_once(
    start_operator: StartOperator, kubectl: Kubectl
) -> None:
    # Everything exists before the operator starts: its pod list may come before the resource is
    # reconciled (and indexed), so the sighting waits for the resource to target the Deployment.
    await kubectl.create(MEMORIES, sample("deployment-target"))
    await kubectl.create(
        DEPLOYMENTS,
        deployment("flink-taskmanager", [copy.deepcopy(TASKMANAGER)], for_memory="deployment-target"),
    )
    await create_pod(
        kubectl, taskmanager_pod(resources={"limits": {"memory": "4Gi"}, "requests": {"memory": "4Gi"}})
    )
    await kubectl.patch(PODS, POD, oom_status(1, "2026-12-07T20:00:00Z", "containerd://one"))
    await start_operator(drift_interval=HOUR)
    kills = await eventually(
        lambda: kubectl.status("deployment-target").get("oomKills"),
        10.0,
        what="the earlier OOM kill recorded",
    )
    assert kills["count"] == 1
    assert kills["lastPod"] == POD
    await eventually(lambda: oom_events(kubectl, "deployment-target"), what="its Event")
    await stays(lambda: len(oom_events(kubectl, "deployment-target")) == 1, 1.0, what="one Event")
    assert kubectl.status("deployment-target")["oomKills"]["count"] == 1


async def test_the_pod_watchs_first_list_is_read_in_pages(
    start_operator: StartOperator, kubectl: Kubectl, emulator: ApiEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Five pods killed before the operator starts, listed two at a time: every one is recorded."""
    monkeypatch.setattr(watch, "LIST_PAGE", 2)
    await kubectl.create(MEMORIES, sample("deployment-target"))
    await kubectl.create(
        DEPLOYMENTS,
        deployment("flink-taskmanager", [copy.deepcopy(TASKMANAGER)], for_memory="deployment-target"),
    )
    resources = {"limits": {"memory": "4Gi"}, "requests": {"memory": "4Gi"}}
    names = [f"flink-taskmanager-{TEMPLATE_HASH}-p{index}" for index in range(5)]
    for index, name in enumerate(names):
        await create_pod(kubectl, taskmanager_pod(name, uid=f"paged-{index}", resources=resources))
        await kubectl.patch(
            PODS, name, oom_status(1, f"2026-12-07T20:0{index}:00Z", f"containerd://p{index}")
        )
    await start_operator(drift_interval=HOUR)

    def all_recorded() -> Json | None:
        kills: Json | None = kubectl.status("deployment-target").get("oomKills")
        return kills if kills and kills["count"] == len(names) else None

    kills = await eventually(all_recorded, 30.0, what="the five OOM kills recorded")
    assert sorted(incident["pod"] for incident in kills["incidents"]) == names
    pod_pages = [
        (limit, token) for resource, limit, token in emulator.pages if resource == kmock.resource(PODS)
    ]
    assert pod_pages[:3] == [("2", None), ("2", pod_pages[1][1]), ("2", pod_pages[2][1])]
    assert all(token for _, token in pod_pages[1:3])
    await stays(lambda: kubectl.status("deployment-target")["oomKills"]["count"] == len(names), 1.0)


async def test_auto_applies_an_oom_kills_fix_while_the_job_manager_is_unreachable(
    start_operator: StartOperator, kubectl: Kubectl
) -> None:
    """No metrics at all (nothing listens at the JobManager's URL): the fix of the kill is applied anyway,
    at once (the poll schedule, backed off to hours by the failing JobManager, is not waited for)."""
    await start_operator(drift_interval=HOUR)
    manifest = sample("deployment-target")
    manifest["spec"]["updateMode"] = "Auto"
    manifest["spec"]["recommendations"] = {
        "jobManager": {"url": f"http://127.0.0.1:{free_port()}"},  # nothing listens there
        "pollInterval": "1h",
        "maxProcess": "8Gi",
    }
    await kubectl.create(MEMORIES, manifest)
    await kubectl.create(
        DEPLOYMENTS,
        deployment("flink-taskmanager", [copy.deepcopy(TASKMANAGER)], for_memory="deployment-target"),
    )
    status = await ready(kubectl, "deployment-target")
    before = status["breakdown"]["totalProcess"]
    overhead = status["breakdown"]["jvmOverhead"]
    heap = status["breakdown"]["taskHeap"]

    def polled() -> Json | None:
        usage: Json = kubectl.status("deployment-target").get("usage") or {}
        return usage if (usage.get("lastPoll") or {}).get("reason") == "JobManagerUnreachable" else None

    await eventually(polled, 30.0, what="the failed poll of the JobManager")
    resources = (kubectl.get(DEPLOYMENTS, "flink-taskmanager") or {})["spec"]["template"]["spec"][
        "containers"
    ][0]["resources"]
    await create_pod(kubectl, taskmanager_pod(resources=resources))
    finished = "2026-12-07T20:00:00Z"
    await kubectl.patch(PODS, POD, oom_status(1, finished, "containerd://one"))

    def applied() -> Json | None:
        status: Json = kubectl.status("deployment-target")
        current = (status.get("autoUpdates") or {}).get("current") or {}
        return status if current.get("oomKillTime") == finished else None

    status = await eventually(applied, 30.0, what="the OOM kill's fix applied")
    fix = status["oomKills"]["fix"]
    current = status["autoUpdates"]["current"]
    assert "applied without waiting for usage" in current["reason"]
    assert "JobManagerUnreachable" in current["reason"]
    assert status["usage"]["lastPoll"]["reason"] == "JobManagerUnreachable"
    assert current["fromProcessBytes"] == before
    assert current["processBytes"] > before
    pinned = fix["flinkConfiguration"]["taskmanager.memory.jvm-overhead.max"]
    assert current["set"]["taskmanager.memory.jvm-overhead.max"] == pinned
    assert current["set"]["taskmanager.memory.jvm-overhead.min"] == pinned

    def rolled() -> Json | None:
        status: Json = kubectl.status("deployment-target")
        breakdown = status.get("breakdown") or {}
        if breakdown.get("totalProcess") != current["processBytes"]:
            return None
        containers = (kubectl.get(DEPLOYMENTS, "flink-taskmanager") or {})["spec"]["template"]["spec"][
            "containers"
        ]
        request = containers[0]["resources"]["requests"]["memory"]
        return status if request == f"{current['processBytes'] // (1 << 20)}Mi" else None

    status = await eventually(rolled, 30.0, what="the Deployment written with the fix")
    assert status["breakdown"]["jvmOverhead"] > overhead
    assert status["breakdown"]["taskHeap"] >= heap  # the room goes to the overhead: nothing lowered
    events = [event for event in kubectl.events("deployment-target") if event.get("reason") == "AutoUpdated"]
    assert len(events) == 1
    assert "OOM kill" in events[0]["message"]
