"""The OOM watch's pieces that need no API server: the TaskManager container, the index's listeners, and the
pod watches of namespaces given by pattern (against a scripted client)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from flink_tm_memory.api.workloads import WorkloadKind
from flink_tm_memory.control.oom import OomWatch, task_manager_container
from flink_tm_memory.control.state import KeyedLocks, WatchedWorkloads
from flink_tm_memory.render.oom_pods import ContainerFacts, OomSighting, Termination
from tests.unit.cluster.test_watch import FakeStream, _Endless, event, listing

DEPLOYMENT = (WorkloadKind.DEPLOYMENT, "tm")


def sighting(container: str, names: tuple[str, ...]) -> OomSighting:
    return OomSighting(
        "ns",
        "tm-1",
        "uid",
        Termination(container, 1, None, None),
        ContainerFacts(None, None, None, ()),
        names,
    )


def spec_naming(container: str | None) -> dict[str, Any]:
    target: dict[str, Any] = {"kind": "Deployment", "name": "tm"}
    if container is not None:
        target["container"] = container
    return {"targets": {"workloads": [target]}}


def test_the_target_names_the_container() -> None:
    seen = sighting("main", ("sidecar", "main"))
    assert task_manager_container(spec_naming("main"), seen, DEPLOYMENT) == "main"
    assert task_manager_container(spec_naming("sidecar"), seen, DEPLOYMENT) == "sidecar"


def test_else_flinks_default_names_else_the_only_container() -> None:
    assert task_manager_container(spec_naming(None), sighting("x", ("log", "taskmanager")), DEPLOYMENT) == (
        "taskmanager"
    )
    assert task_manager_container({}, sighting("x", ("flink-main-container", "taskmanager")), None) == (
        "flink-main-container"
    )
    assert task_manager_container({}, sighting("only", ("only",)), None) == "only"
    assert task_manager_container({}, sighting("a", ("a", "b")), None) is None  # cannot be told


def test_a_malformed_spec_is_read_as_naming_no_container() -> None:
    for spec in (
        {"targets": "x"},
        {"targets": {"workloads": [1, {"kind": 2}]}},
        {"targets": {"workloads": "x"}},
    ):
        assert (
            task_manager_container(spec, sighting("taskmanager", ("taskmanager",)), DEPLOYMENT)
            == "taskmanager"
        )


def test_listeners_hear_of_a_resources_new_targets_only() -> None:
    workloads = WatchedWorkloads()
    heard: list[frozenset[tuple[WorkloadKind, str, str]]] = []
    workloads.listeners.append(heard.append)
    workloads.watch(("ns", "orders"), [DEPLOYMENT])
    workloads.watch(("ns", "orders"), [DEPLOYMENT])  # unchanged: nothing to hear
    workloads.watch(("ns", "orders"), [])
    assert heard == [frozenset({(WorkloadKind.DEPLOYMENT, "ns", "tm")})]


class _NamespacedClient:
    """Answers the namespace list+watch from a script and every pod list+watch with nothing, recording paths."""

    def __init__(self, namespaces: list[str], events: bytes) -> None:
        self.namespaces, self.events = namespaces, events
        self.listed: list[str] = []
        self.watched: list[str] = []

    async def get(self, path: str, query: Mapping[str, str] | None = None, **_: str) -> dict[str, Any]:
        self.listed.append(path)
        names = self.namespaces if path == "/api/v1/namespaces" else []
        return listing("10", *({"metadata": {"name": name}} for name in names))

    def open_stream(self, path: str, query: Mapping[str, str], read_timeout: float) -> FakeStream:
        self.watched.append(path)
        if path == "/api/v1/namespaces" and self.events:
            data, self.events = self.events, b""
            return FakeStream(data, 64)
        return _Endless()


def _namespace(name: str, version: str) -> dict[str, Any]:
    return {"kind": "Namespace", "metadata": {"name": name, "resourceVersion": version}}


async def test_namespaces_given_by_pattern_get_a_pod_watch_each_as_they_come_and_go() -> None:
    client = _NamespacedClient(
        ["team-a", "other", "batch"],
        event("ADDED", _namespace("team-b", "11"))
        + event("ADDED", _namespace("elsewhere", "12"))
        + event("DELETED", _namespace("team-a", "13")),
    )
    watch = OomWatch(
        client,  # type: ignore[arg-type]
        namespaces=("team-*", "batch"),
        workloads=WatchedWorkloads(),
        locks=KeyedLocks(),
        events=None,  # type: ignore[arg-type]  # nothing is recorded: no pod is killed
        metrics=None,  # type: ignore[arg-type]
    )
    tasks = [asyncio.create_task(work) for work in watch.works()]
    try:

        async def settled() -> None:
            while set(watch.matched) != {"team-b"} or "/api/v1/namespaces/team-b/pods" not in client.watched:
                await asyncio.sleep(0.01)

        await asyncio.wait_for(settled(), 10)
        pod_lists = {path for path in client.listed if path.endswith("/pods")}
        # team-a while it lived, team-b once it came, batch by name; never other, elsewhere, or every namespace
        assert pod_lists == {
            "/api/v1/namespaces/team-a/pods",
            "/api/v1/namespaces/team-b/pods",
            "/api/v1/namespaces/batch/pods",
        }
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    assert watch.matched == {}  # the pod watches of matched namespaces end with the namespace watch
