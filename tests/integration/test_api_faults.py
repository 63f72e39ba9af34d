"""The API server misbehaves (5xx, 409, timeouts, dropped watches): nothing is lost, nothing is done twice.

Faults are scripted as kmock reactions, which answer before the emulator's store is touched: a
scripted 500 or 409 leaves the object as it was, as a real API server would. "No duplicated writes"
is checked on the objects' stored versions (a no-op write stores none), "no lost writes" on the
final state.
"""

from __future__ import annotations

import asyncio
import copy
from typing import Any, cast

import kmock

from tests.integration.conftest import StartOperator
from tests.integration.emulator import ApiEmulator, kubernetes_status
from tests.integration.kubectl import (
    CONFIG_MAPS,
    DEPLOYMENTS,
    MEMORIES,
    Kubectl,
    deployment,
    eventually,
    observed,
    ready,
    sample,
)

CONFIG_MAP = "process-size-flink-tm-memory"
SERVER_ERROR = kubernetes_status(500, "InternalError", "etcdserver: request timed out")
CONFLICT = kubernetes_status(409, "Conflict", "the object has been modified")
MIN_ABOVE_MAX = {"taskmanager.memory.jvm-overhead.min": "2g", "taskmanager.memory.jvm-overhead.max": "1g"}


async def test_server_errors_on_a_configmap_write_are_retried_until_it_is_written_once(
    operator: object, kubectl: Kubectl, emulator: ApiEmulator
) -> None:
    emulator.matching("POST", CONFIG_MAPS)[:2] << 500 << SERVER_ERROR

    await kubectl.create(MEMORIES, sample("process-size"))
    await ready(kubectl, "process-size")

    assert len(emulator.operator_writes(CONFIG_MAPS)) == 3
    assert len(emulator.versions(CONFIG_MAPS, "default", CONFIG_MAP)) == 1


async def test_a_failing_target_is_reported_while_it_fails_and_applied_once_it_recovers(
    operator: object, kubectl: Kubectl, emulator: ApiEmulator
) -> None:
    await kubectl.create(
        DEPLOYMENTS,
        deployment(
            "flink-taskmanager", [{"name": "taskmanager", "image": "flink"}], for_memory="deployment-target"
        ),
    )
    failing = emulator.matching("PATCH", DEPLOYMENTS)[:3] << 503 << SERVER_ERROR

    await kubectl.create(MEMORIES, sample("deployment-target"))

    await eventually(
        lambda: kubectl.condition("deployment-target", "Applied").get("reason") == "TargetFailed"
    )
    await ready(kubectl, "deployment-target")
    assert len(list(failing)) == 3
    assert len(emulator.versions(DEPLOYMENTS, "default", "flink-taskmanager")) == 2  # created, then ours


async def test_a_conflicting_concurrent_write_is_re_read_and_both_changes_survive(
    operator: object, kubectl: Kubectl, emulator: ApiEmulator
) -> None:
    await kubectl.create(
        DEPLOYMENTS,
        deployment(
            "flink-taskmanager", [{"name": "taskmanager", "image": "flink"}], for_memory="deployment-target"
        ),
    )

    async def someone_scales_first(request: Any) -> None:
        async with emulator._lock:  # an HPA writes between the operator's read and its patch
            await emulator.apply_patch(
                request.resource, "default", "flink-taskmanager", {"spec": {"replicas": 7}}
            )

    emulator.matching("PATCH", DEPLOYMENTS)[:1] >> someone_scales_first

    await kubectl.create(MEMORIES, sample("deployment-target"))
    await ready(kubectl, "deployment-target")

    final = kubectl.get(DEPLOYMENTS, "flink-taskmanager") or {}
    assert final["spec"]["replicas"] == 7
    assert final["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["memory"] == "4Gi"
    assert len(emulator.operator_writes(DEPLOYMENTS)) == 2  # the stale patch (409), then the re-read one
    assert len(emulator.versions(DEPLOYMENTS, "default", "flink-taskmanager")) == 3


async def test_a_plain_409_is_retried_without_a_second_write(
    operator: object, kubectl: Kubectl, emulator: ApiEmulator
) -> None:
    await kubectl.create(MEMORIES, sample("process-size"))
    await ready(kubectl, "process-size")
    emulator.matching("PATCH", CONFIG_MAPS)[:1] << 409 << CONFLICT

    await _grow(kubectl)
    await observed(kubectl, "process-size", 2)
    await ready(kubectl, "process-size")

    assert len(emulator.versions(CONFIG_MAPS, "default", CONFIG_MAP)) == 2


async def test_a_write_whose_answer_is_lost_in_a_timeout_is_not_written_twice(
    start_operator: StartOperator, kubectl: Kubectl, emulator: ApiEmulator
) -> None:
    await start_operator(request_timeout=0.5)
    await kubectl.create(MEMORIES, sample("process-size"))
    await ready(kubectl, "process-size")

    abandoned: list[bool] = []

    async def apply_then_hang(request: Any) -> dict[str, Any]:
        applied: dict[str, Any] = await emulator._serve_update(request)
        try:
            await asyncio.sleep(1.5)  # the operator gives up waiting after 0.5 s
        finally:  # aiohttp cancels the handler of a request whose client went away
            abandoned.append(request._raw_request.transport is None)
        return applied

    emulator.matching("PATCH", CONFIG_MAPS)[:1] << apply_then_hang

    await _grow(kubectl)
    status = await observed(kubectl, "process-size", 2)
    await ready(kubectl, "process-size")

    assert len(emulator.operator_writes(CONFIG_MAPS)) == 2  # the creation and the one update
    assert len(emulator.versions(CONFIG_MAPS, "default", CONFIG_MAP)) == 2
    assert status["breakdown"]["totalProcess"] == 4 << 30
    assert await eventually(lambda: abandoned, what="the hung answer") == [True]


async def test_a_change_made_while_the_watch_stream_was_down_is_still_reconciled(
    operator: object, kubectl: Kubectl, emulator: ApiEmulator
) -> None:
    await kubectl.create(MEMORIES, sample("process-size"))
    await ready(kubectl, "process-size")
    changed = asyncio.Event()
    reopened: list[bool] = []

    async def reopen_after_the_change(request: Any) -> object:
        reopened.append(changed.is_set())
        await changed.wait()  # the operator's new watch request gets no stream until the change is made
        return NotImplemented  # then the emulator serves the watch as usual

    # NotImplemented (fall through to the emulator's own answer) is the emulator's, not in kmock's Payload type.
    emulator[kmock.action.WATCH, kmock.resource(MEMORIES)] << cast(Any, reopen_after_the_change)
    await emulator.drop_watches()
    await _grow(kubectl)
    changed.set()

    status = await observed(kubectl, "process-size", 2)
    await ready(kubectl, "process-size")
    assert reopened  # the operator asked for its stream again, and got it only after the change
    assert status["breakdown"]["totalProcess"] == 4 << 30
    assert len(emulator.versions(CONFIG_MAPS, "default", CONFIG_MAP)) == 2


async def test_server_errors_on_status_writes_are_retried_until_the_status_is_written(
    operator: object, kubectl: Kubectl, emulator: ApiEmulator
) -> None:
    failed = emulator.matching("PATCH", MEMORIES, subresource="status")[:2] << 500 << SERVER_ERROR

    await kubectl.create(MEMORIES, copy.deepcopy(sample("process-size")))

    status = await ready(kubectl, "process-size")
    assert len(list(failed)) == 2
    assert status["applied"]["configMap"]["generation"] == 1
    assert len(emulator.versions(CONFIG_MAPS, "default", CONFIG_MAP)) == 1


async def _grow(kubectl: Kubectl) -> None:
    await kubectl.patch(
        MEMORIES, "process-size", {"spec": {"flinkConfiguration": {"taskmanager.memory.process.size": "4g"}}}
    )


async def test_kopf_keeps_retrying_its_status_write_through_an_outage_longer_than_its_backoffs(
    operator: object, kubectl: Kubectl, emulator: ApiEmulator
) -> None:
    # Five attempts with the test backoffs; kopf used to give up after them, drop the event, and
    # leave the resource without a status until it changed again.
    failed = emulator.matching("PATCH", MEMORIES, subresource="status")[:8] << 503 << SERVER_ERROR

    await kubectl.create(MEMORIES, copy.deepcopy(sample("process-size")))

    status = await ready(kubectl, "process-size")
    assert len(list(failed)) == 8
    assert status["applied"]["configMap"]["generation"] == 1


async def test_a_resource_whose_first_patch_answer_was_lost_is_still_reconciled(
    start_operator: StartOperator, kubectl: Kubectl, emulator: ApiEmulator
) -> None:
    # The first write to a new resource records its spec as the last applied one. Applied, but the
    # answer lost (a timeout): the reconciliation is retried, finds the record in place, goes on.
    await start_operator(request_timeout=0.5)

    async def apply_then_hang(request: Any) -> dict[str, Any]:
        applied: dict[str, Any] = await emulator._serve_update(request)
        await asyncio.sleep(1.0)
        return applied

    emulator.matching("PATCH", MEMORIES)[:1] << apply_then_hang

    await kubectl.create(MEMORIES, sample("process-size"))

    status = await ready(kubectl, "process-size")
    assert status["applied"]["configMap"]["generation"] == 1
    assert len(emulator.versions(CONFIG_MAPS, "default", CONFIG_MAP)) == 1


async def test_a_configmap_write_whose_answer_was_lost_is_kept_when_the_spec_turns_invalid(
    start_operator: StartOperator, kubectl: Kubectl, emulator: ApiEmulator
) -> None:
    await start_operator(request_timeout=0.5, retry_delay=1.0)

    async def apply_then_hang(request: Any) -> dict[str, Any]:
        created: dict[str, Any] = await emulator._serve_create(request)
        async with emulator._lock:  # the user makes the spec conflicting before the operator retries
            await emulator.apply_patch(
                emulator.resource(MEMORIES),
                "default",
                "process-size",
                {"spec": {"flinkConfiguration": MIN_ABOVE_MAX}},
            )
        await asyncio.sleep(1.0)
        return created

    emulator.matching("POST", CONFIG_MAPS)[:1] << apply_then_hang

    await kubectl.create(MEMORIES, sample("process-size"))

    status = await observed(kubectl, "process-size", 2)
    written = (kubectl.get(CONFIG_MAPS, CONFIG_MAP) or {})["data"]
    assert kubectl.condition("process-size", "Applied")["reason"] == "LastGoodKept"
    assert status["applied"]["configMap"]["generation"] == 1
    assert status["breakdown"]["totalProcess"] == 1728 << 20
    assert written["jvm-parameters"] == status["jvmParameters"]
