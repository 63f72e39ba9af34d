"""What the pod watch for OOM kills costs the operator at 1 000 resources (10 000 TaskManager pods).

The operator keeps one pod list+watch per watched namespace (``control.oom``); every pod event is read
in the watch's worker thread, and only a pod with an ``OOMKilled`` container goes further. This
measures, on realistic pod bodies (a Deployment's TaskManager pod as the API server returns it, about
2 KB of JSON without managed fields, with a sidecar), with no API server:

- the initial list: parsing the list's JSON and looking at every pod (``_PodSink.replace``);
- one watch event of a healthy pod (a status update): its line's JSON parsed, then looked at;
- one watch event of an OOM-killed pod: parsed, read into a sighting (no pod body kept);
- one incident recorded, without the API: the attribution with its engine-checked fixes and the new
  ``status.oomKills`` (``render.oom.attribute`` and ``render.oom_status``);
- the memory the watch keeps for 10 000 healthy pods (tracemalloc, after the list), and the peak
  while the list's JSON is parsed: whole, and in pages of ``LIST_PAGE`` as the watch lists (each
  page parsed and looked at before the next).

Prints a table and JSON; asserts nothing. ``python benchmarks/pod_watch_cost.py [--resources 1000]``.
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import time
import tracemalloc
from typing import Any

from flink_tm_memory.cluster.watch import LIST_PAGE
from flink_tm_memory.control.oom import _PodSink
from flink_tm_memory.render.oom import attribute
from flink_tm_memory.render.oom_pods import OomSighting, PodOwner, oom_sightings
from flink_tm_memory.render.oom_status import next_oom_status
from flink_tm_memory.render.plan import derive_memory_plan
from flink_tm_memory.render.pod_resources import render_pod_resources

PODS_PER_RESOURCE = 10
SPEC = {"flinkConfiguration": {"taskmanager.memory.process.size": "4g", "state.backend.type": "rocksdb"}}


def pod(index: int) -> dict[str, Any]:
    """A TaskManager pod of a Deployment, as the API server stores it (managed fields left out)."""
    name = f"tm-{index // PODS_PER_RESOURCE}"
    container = {
        "name": "taskmanager",
        "image": "flink:2.2.1",
        "args": ["taskmanager"],
        "env": [{"name": "JOB_MANAGER_RPC_ADDRESS", "value": f"{name}-jobmanager"}],
        "resources": {"requests": {"memory": "4Gi", "cpu": "2"}, "limits": {"memory": "4Gi", "cpu": "2"}},
        "volumeMounts": [
            {"name": "conf", "mountPath": "/opt/flink/conf"},
            {"name": "tmp", "mountPath": "/tmp"},
        ],
        "terminationMessagePath": "/dev/termination-log",
        "imagePullPolicy": "IfNotPresent",
    }
    sidecar = {"name": "log-shipper", "image": "fluent-bit:3", "resources": {"requests": {"memory": "64Mi"}}}
    status = {
        "name": "taskmanager",
        "ready": True,
        "restartCount": 0,
        "image": "flink:2.2.1",
        "containerID": f"containerd://{index:064x}",
        "state": {"running": {"startedAt": "2026-12-07T19:00:00Z"}},
    }
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"{name}-5b7c9d-{index:05d}",
            "namespace": f"team-{index % 50}",
            "uid": f"00000000-0000-0000-0000-{index:012d}",
            "resourceVersion": str(100000 + index),
            "labels": {"app": name, "pod-template-hash": "5b7c9d", "component": "taskmanager"},
            "annotations": {"kubectl.kubernetes.io/restartedAt": "2026-12-07T18:00:00Z"},
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "name": f"{name}-5b7c9d",
                    "uid": "rs",
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": {
            "containers": [container, sidecar],
            "volumes": [
                {"name": "conf", "configMap": {"name": f"{name}-conf"}},
                {"name": "tmp", "emptyDir": {}},
            ],
            "nodeName": "node-1",
            "serviceAccountName": "default",
            "tolerations": [
                {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"}
            ],
        },
        "status": {
            "phase": "Running",
            "podIP": f"10.0.{index // 250}.{index % 250}",
            "conditions": [
                {"type": t, "status": "True"}
                for t in ("Initialized", "Ready", "ContainersReady", "PodScheduled")
            ],
            "containerStatuses": [
                status,
                {"name": "log-shipper", "ready": True, "restartCount": 0, "state": {"running": {}}},
            ],
        },
    }


def oom_killed(body: dict[str, Any]) -> dict[str, Any]:
    killed = copy.deepcopy(body)
    killed["status"]["containerStatuses"][0].update(
        restartCount=1,
        state={"waiting": {"reason": "CrashLoopBackOff"}},
        lastState={
            "terminated": {
                "reason": "OOMKilled",
                "exitCode": 137,
                "finishedAt": "2026-12-07T20:00:00Z",
                "containerID": "containerd://dead",
            }
        },
    )
    return killed


def per_call(work: Any, calls: int) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        work()
    return (time.perf_counter() - started) / calls


def paged_list_peak(sink: _PodSink, pods: list[dict[str, Any]]) -> int:
    """The memory peak while the pods are listed as the watch lists them: in pages of ``LIST_PAGE``, each
    parsed and looked at before the next is read."""
    pages = [
        json.dumps(
            {"kind": "PodList", "metadata": {"resourceVersion": "1"}, "items": pods[at : at + LIST_PAGE]}
        )
        for at in range(0, len(pods), LIST_PAGE)
    ]
    tracemalloc.start()
    for index, page in enumerate(pages):
        sink.page(None, json.loads(page)["items"], first=index == 0, last=index == len(pages) - 1)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--resources", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    pods = [pod(index) for index in range(args.resources * PODS_PER_RESOURCE)]
    listed = json.dumps({"kind": "PodList", "metadata": {"resourceVersion": "1"}, "items": pods})
    offered: list[tuple[list[OomSighting], PodOwner]] = []
    sink = _PodSink(lambda sightings, owner: offered.append((sightings, owner)))

    list_times = []
    for _ in range(args.runs):
        started = time.perf_counter()
        sink.replace(None, json.loads(listed)["items"])
        list_times.append(time.perf_counter() - started)

    items = json.loads(listed)["items"]
    look_times = []
    for _ in range(args.runs):
        started = time.perf_counter()
        sink.replace(None, items)
        look_times.append(time.perf_counter() - started)
    healthy_look = statistics.median(per_call(lambda: sink.put(pods[0]), 5000) for _ in range(args.runs))

    del items
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    sink.replace(None, json.loads(listed)["items"])
    kept = sum(stat.size_diff for stat in tracemalloc.take_snapshot().compare_to(before, "filename"))
    _, list_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    healthy = json.dumps({"type": "MODIFIED", "object": pods[0]}).encode()
    killed = json.dumps({"type": "MODIFIED", "object": oom_killed(pods[0])}).encode()
    healthy_event = statistics.median(
        per_call(lambda: sink.put(json.loads(healthy)["object"]), 2000) for _ in range(args.runs)
    )
    killed_event = statistics.median(
        per_call(lambda: sink.put(json.loads(killed)["object"]), 2000) for _ in range(args.runs)
    )

    plan = derive_memory_plan(SPEC)
    assert plan.layout is not None
    assert plan.resolved is not None
    resources = render_pod_resources(plan.layout, 1.0, 1.0)
    status = {"podResources": resources.to_manifest(), "dynamicConfigs": plan.layout.dynamic_configs()}
    [sighting] = oom_sightings(oom_killed(pods[0]))

    def record() -> None:
        found = attribute(SPEC, status, sighting.facts, restart_count=1, kills_of_pod=1)
        next_oom_status(None, sighting, found).to_manifest()

    incident = statistics.median(per_call(record, 20) for _ in range(args.runs))
    result = {
        "resources": args.resources,
        "pods": len(pods),
        "listBytes": len(listed),
        "listSeconds": statistics.median(list_times),
        "listLookSeconds": statistics.median(look_times),
        "healthyLookMicros": healthy_look * 1e6,
        "keptBytesAfterList": kept,
        "listPeakBytes": list_peak,
        "pagedListPeakBytes": (paged_peak := paged_list_peak(sink, pods)),
        "pageSize": LIST_PAGE,
        "healthyEventMicros": healthy_event * 1e6,
        "oomEventMicros": killed_event * 1e6,
        "incidentMillis": incident * 1e3,
        "offered": len(offered),
    }
    print(f"{len(pods)} pods of {args.resources} resources, list {len(listed) / 1e6:.1f} MB of JSON")
    print(f"  the list, parsed and looked at: {result['listSeconds'] * 1e3:.0f} ms (median of {args.runs})")
    print(f"  of which looking at the pods (on the event loop): {result['listLookSeconds'] * 1e3:.0f} ms")
    print(
        f"  kept after the list: {kept / 1024:.1f} KiB; peak while the list is parsed: {list_peak / 2**20:.0f} MiB"
    )
    print(f"  peak while listed in pages of {LIST_PAGE} (as the watch lists): {paged_peak / 2**20:.1f} MiB")
    print(f"  a healthy pod's watch event: {result['healthyEventMicros']:.0f} us")
    print(f"  of which looking at the pod (no JSON): {result['healthyLookMicros']:.1f} us")
    print(f"  an OOM-killed pod's watch event: {result['oomEventMicros']:.0f} us")
    print(f"  one incident attributed with its fixes, status rendered: {result['incidentMillis']:.1f} ms")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
