"""A spec turning invalid keeps the layout last applied, even when kopf hands over a body older than that.

Found by the watch-expiry reliability test under load (seed 3456093998): the spec went 6g (applied),
2g (being applied), 6g and then invalid (both edited while 2g was being applied, before the operator
recorded 2g as applied). The events of the operator's own writes came late, so after
``consistency_timeout`` kopf handled the invalid spec with the newest body it had: one from before
the record of 2g. The operator kept the layout that body recorded, 6g, and rolled the workloads
back to a spec already replaced. Here the edit is made at the moment the operator records 2g, and
the events that follow are held back until the invalid generation has been handled.
"""

from __future__ import annotations

from typing import Any

import kmock

from tests.integration.conftest import StartOperator
from tests.integration.emulator import ApiEmulator
from tests.integration.kubectl import CONFIG_MAPS, MEMORIES, Kubectl, observed, ready, sample

NAME = "process-size"
CONFIG_MAP = "process-size-flink-tm-memory"
OPTIONS = "flinkConfiguration"
NO_DRIFT_CHECK = 3600.0
"""The drift check reads the resource afresh and would put the right layout back: not the point here."""
INVALID = {
    "spec": {
        OPTIONS: {
            "taskmanager.memory.jvm-overhead.min": "512m",
            "taskmanager.memory.jvm-overhead.max": "256m",
        }
    }
}


def edit_and_stall_at_the_operators_record(emulator: ApiEmulator, edit: dict[str, Any]) -> list[int]:
    """Applies ``edit`` just before the operator's next own patch of the resource (the record of the
    spec it applies), then holds back every later event of the resource, that patch's included.

    A kmock reaction with no content is a catcher: it sees the request, then kmock goes on to the next
    reaction (the store's, which serves the patch). Returns the ids of the requests it caught.
    """
    caught: list[int] = []

    def operators_own(request: kmock.Request) -> bool:
        agent = request.headers.get("User-Agent", "")
        return request.subresource is None and not agent.startswith(("kmock/", "kopf/"))

    async def edit_then_stall(request: kmock.Request) -> None:
        if caught:
            return
        caught.append(request.id)
        async with emulator.lock:
            await emulator.apply_patch(kmock.resource(MEMORIES), request.namespace, NAME, edit)
        emulator.hold_events(MEMORIES)  # the edit's own event is already on its way

    emulator[kmock.method.PATCH, kmock.resource(MEMORIES), kmock.name(NAME), operators_own] << edit_then_stall
    return caught


async def test_a_spec_turning_invalid_on_a_stale_body_keeps_the_layout_applied_last(
    start_operator: StartOperator, kubectl: Kubectl, emulator: ApiEmulator
) -> None:
    await start_operator(drift_interval=NO_DRIFT_CHECK)
    await kubectl.create(MEMORIES, sample(NAME))
    await ready(kubectl, NAME)

    caught = edit_and_stall_at_the_operators_record(emulator, INVALID)  # generation 3, invalid
    await kubectl.patch(MEMORIES, NAME, {"spec": {OPTIONS: {"taskmanager.memory.process.size": "3g"}}})
    try:
        status = await observed(kubectl, NAME, 3)
        assert caught, "the edit was not made while the operator applied generation 2"
        assert status["conditions"][0]["status"] == "False"  # the invalid spec is reported ...
        assert status["podResources"]["requests"]["memory"] == "3Gi"  # ... and 3g's layout kept
        assert "taskmanager.memory.process.size: 3g\n" in _config_yaml(kubectl)
    finally:
        emulator.release_events(MEMORIES)
    assert "taskmanager.memory.process.size: 3g\n" in _config_yaml(kubectl)


def _config_yaml(kubectl: Kubectl) -> str:
    body = kubectl.get(CONFIG_MAPS, CONFIG_MAP)
    assert body is not None
    text: str = body["data"]["config.yaml"]
    return text
