"""An edit landing while a restarted operator handles an earlier edit is applied, not absorbed.

After a restart, a resource edited while the operator was down selects both the resume and the
update handler. Found by the kill test (seed 204278883): the spec went 6g (handled), 7g (while
down), 6g (while the restarted operator applied 7g), and the 6g edit was never applied, because
kopf compared it with the spec it last finished handling, 6g, and saw no change. The 6g edit is
made here at the moment the operator records the 7g spec, so the interleaving is forced.
"""

from __future__ import annotations

from typing import Any

import kmock

from flink_tm_memory.render.metadata import LAST_APPLIED_ANNOTATION
from tests.integration.conftest import StartOperator
from tests.integration.emulator import ApiEmulator
from tests.integration.kubectl import CONFIG_MAPS, MEMORIES, Kubectl, observed, ready, sample

NAME = "process-size"
CONFIG_MAP = "process-size-flink-tm-memory"
SIZE = ("flinkConfiguration", "taskmanager.memory.process.size")
NO_DRIFT_CHECK = 3600.0
"""The drift check also finds a generation left unreconciled, one interval later: not the point here."""


def edit_before_the_operators_next_patch(emulator: ApiEmulator, edit: dict[str, Any]) -> list[int]:
    """Applies ``edit`` to the resource just before the operator's own next patch of it is served.

    A kmock reaction with no content is a catcher: it sees the request, then kmock goes on to the next
    reaction (the store's, which serves the patch) and never calls it again. Returns the ids of the
    requests it caught (one, once it has).
    """
    caught: list[int] = []

    def operators_own(request: kmock.Request) -> bool:
        agent = request.headers.get("User-Agent", "")
        return request.subresource is None and not agent.startswith(("kmock/", "kopf/"))

    async def apply_edit(request: kmock.Request) -> None:
        caught.append(request.id)
        async with emulator.lock:
            await emulator.apply_patch(kmock.resource(MEMORIES), request.namespace, NAME, edit)

    emulator[kmock.method.PATCH, kmock.resource(MEMORIES), kmock.name(NAME), operators_own] << apply_edit
    return caught


async def test_an_edit_back_to_the_handled_spec_during_a_resume_is_applied(
    start_operator: StartOperator, kubectl: Kubectl, emulator: ApiEmulator
) -> None:
    manifest = sample(NAME)
    handled = manifest["spec"][SIZE[0]][SIZE[1]]
    first = await start_operator(drift_interval=NO_DRIFT_CHECK)
    await kubectl.create(MEMORIES, manifest)
    at_first = await ready(kubectl, NAME)
    config_map = _owned_data(kubectl)
    await first.stop()

    await kubectl.patch(MEMORIES, NAME, {"spec": {SIZE[0]: {SIZE[1]: "3g"}}})  # generation 2, while down
    # Generation 3, back to the handled spec, while generation 2 is being applied:
    caught = edit_before_the_operators_next_patch(emulator, {"spec": {SIZE[0]: {SIZE[1]: handled}}})
    await start_operator(drift_interval=NO_DRIFT_CHECK)

    status = await observed(kubectl, NAME, 3)
    assert len(caught) == 1, "the edit was not made while the operator applied generation 2"
    assert any(
        '"3g"' in version["metadata"].get("annotations", {}).get(LAST_APPLIED_ANNOTATION, "")
        for version in emulator.versions(MEMORIES, "default", NAME)
    ), "generation 2 was never applied: the interleaving did not happen"
    assert status["podResources"] == at_first["podResources"]
    assert _owned_data(kubectl) == config_map


def _owned_data(kubectl: Kubectl) -> dict[str, str]:
    body = kubectl.get(CONFIG_MAPS, CONFIG_MAP)
    assert body is not None
    data: dict[str, str] = body["data"]
    return data
