"""The OOM watch's pieces that need no API server: the TaskManager container, the index's listeners."""

from __future__ import annotations

from typing import Any

from flink_tm_memory.api.workloads import WorkloadKind
from flink_tm_memory.control.oom import task_manager_container
from flink_tm_memory.control.state import WatchedWorkloads
from flink_tm_memory.render.oom_pods import ContainerFacts, OomSighting, Termination

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
