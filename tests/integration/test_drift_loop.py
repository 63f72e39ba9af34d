"""The operator-wide drift loop, its Events and the absence of kopf's finalizer, against the emulator.

The schedule itself (spread, retries, concurrency) is tested in ``tests/unit/handlers/test_drift.py``;
here: what the loop writes through the API, and what kopf no longer does.
"""

from __future__ import annotations

import copy

import kmock

from tests.integration.conftest import StartOperator
from tests.integration.emulator import ApiEmulator, kubernetes_status
from tests.integration.kubectl import (
    DEPLOYMENTS,
    EVENTS,
    MEMORIES,
    Kubectl,
    deployment,
    eventually,
    first_container_limits,
    ready,
    sample,
    stays,
)

OLD_FINALIZER = "flinkmemory.io/finalizer"
UNAVAILABLE = kubernetes_status(
    503, "ServiceUnavailable", "the server is currently unable to handle the request"
)


async def test_a_new_resource_never_gets_a_finalizer(
    operator: object, kubectl: Kubectl, emulator: ApiEmulator
) -> None:
    await kubectl.create(MEMORIES, sample("process-size"))
    await ready(kubectl, "process-size")

    versions = emulator.versions(MEMORIES, "default", "process-size")
    assert [version["metadata"].get("finalizers") for version in versions] == [None] * len(versions)


async def test_the_finalizer_an_older_operator_added_is_removed(
    start_operator: StartOperator, kubectl: Kubectl
) -> None:
    upgraded = copy.deepcopy(sample("process-size"))
    upgraded["metadata"]["finalizers"] = [OLD_FINALIZER]
    await kubectl.create(MEMORIES, upgraded)

    await start_operator()

    await ready(kubectl, "process-size")
    await eventually(lambda: not (kubectl.get(MEMORIES, "process-size") or {})["metadata"].get("finalizers"))


async def test_a_status_field_someone_removed_is_written_back_by_the_drift_check(
    operator: object, kubectl: Kubectl
) -> None:
    await kubectl.create(MEMORIES, sample("process-size"))
    breakdown = (await ready(kubectl, "process-size"))["breakdown"]

    await kubectl.patch(MEMORIES, "process-size/status", {"status": {"breakdown": None}})

    await eventually(
        lambda: kubectl.status("process-size").get("breakdown") == breakdown, what="the breakdown"
    )


async def test_a_drift_check_that_cannot_read_its_resource_is_retried_and_repairs(
    operator: object, kubectl: Kubectl, emulator: ApiEmulator
) -> None:
    await kubectl.create(
        DEPLOYMENTS,
        deployment(
            "flink-taskmanager", [{"name": "taskmanager", "image": "flink"}], for_memory="deployment-target"
        ),
    )
    await kubectl.create(MEMORIES, sample("deployment-target"))
    await ready(kubectl, "deployment-target")
    # The reads of the resource itself: only the drift checks make them (kopf and the webhook's index
    # list and watch the collection, and a failure of those would not be the drift check's to retry).
    reads = emulator[kmock.action.FETCH, kmock.resource(MEMORIES), kmock.name("deployment-target")]
    seen = len(list(reads))  # a slice counts every matching request, the drift checks' so far included
    failed = reads[seen : seen + 3] << 503 << UNAVAILABLE

    await kubectl.patch(
        DEPLOYMENTS,
        "flink-taskmanager",
        {"spec": {"template": {"spec": {"containers": [{"name": "taskmanager", "resources": None}]}}}},
        content_type="application/strategic-merge-patch+json",
    )

    await eventually(
        lambda: first_container_limits(kubectl) == {"memory": "4Gi", "cpu": "2"}, what="the repair"
    )
    assert len(list(failed)) == 3


async def test_events_are_posted_once_through_server_errors(
    operator: object, kubectl: Kubectl, emulator: ApiEmulator
) -> None:
    failed = emulator.matching("POST", EVENTS)[:2] << 503 << UNAVAILABLE

    await kubectl.create(MEMORIES, sample("process-size"))
    await ready(kubectl, "process-size")

    [event] = await eventually(lambda: kubectl.events("process-size"), what="the event")
    assert event["reason"] == "ConfigMapCreated"
    assert event["source"] == {"component": "flink-tm-memory-operator"}
    assert len(list(failed)) == 2
    await stays(lambda: len(kubectl.events("process-size")) == 1, 0.5, what="one event")


async def test_a_deleted_resource_is_no_longer_checked(
    operator: object, kubectl: Kubectl, emulator: ApiEmulator
) -> None:
    await kubectl.create(MEMORIES, sample("process-size"))
    await ready(kubectl, "process-size")
    await eventually(lambda: _operator_reads(emulator) >= 2, what="two drift checks")

    await kubectl.delete(MEMORIES, "process-size")
    await eventually(lambda: kubectl.get(MEMORIES, "process-size") is None, what="the deletion")
    reads = _operator_reads(emulator)

    # The operator learns of the deletion from its watch, a moment after the API server made it: a
    # check scheduled before may still read the resource once, and forgets it on the answer (404).
    # A resource still checked would be read at every interval (0.4 s), three times in this window.
    await stays(lambda: _operator_reads(emulator) <= reads + 1, 1.5, what="no more drift checks")


def _operator_reads(emulator: ApiEmulator) -> int:
    return sum(
        1
        for request in emulator
        if request.method.value == "GET"
        and request.params.get("watch") != "true"
        and request.name == "process-size"
        and not request.headers.get("User-Agent", "").startswith("kmock/")
    )
