"""The operator is SIGKILLed at seeded random moments against the real control plane, and restarted.

The emulator variant (``tests/reliability/test_operator_killed.py``) runs a large fleet; this one
proves the same guarantees where the API machinery is real: the chart installed by Helm (webhooks
off, so conflicting specs are stored), ``flink-tm-memory run`` as a local process with a token of
the chart's ServiceAccount, a fleet of samples (Deployment and StatefulSet targets among them) created
and edited (sizes, valid to conflicting and back, ConfigMap renames), some edits while the operator is
down. Then ``fleet.problems_of`` must find nothing: every status describes its last generation, each
resource's ConfigMap holds what the render layer derives (or, for a conflicting spec, the last layout
ever written), targets carry the resources, no ConfigMap without its owner. What was ever written is
read from watches (``watched.py``): the real API server keeps no history.

``RELIABILITY_SEED`` replays a run; the seed is in every failure.
"""

from __future__ import annotations

import concurrent.futures
import json
import random
import time
from collections.abc import Iterator

import pytest
import yaml

from tests.e2e.local_operator import Story, installed_story
from tests.e2e.watched import Watched
from tests.integration.kubectl import CONFIG_MAPS, DEPLOYMENTS, MEMORIES, STATEFUL_SETS
from tests.reliability.conftest import SEED
from tests.reliability.fleet import SAMPLES, Fleet, problems_of

NAMESPACE = "kills"
RESOURCES = 48
KILLS = 4
CONVERGENCE_TIMEOUT = 60.0
KINDS = {
    MEMORIES: "flinktaskmanagermemories",
    CONFIG_MAPS: "configmaps",
    DEPLOYMENTS: "deployments",
    STATEFUL_SETS: "statefulsets",
}
FLEET_SAMPLES = tuple(name for name in SAMPLES if name != "flinkdeployment-target")
"""No FlinkDeployment CRD in this cluster."""


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Story]:
    with installed_story(
        tmp_path_factory.mktemp("cluster"),
        NAMESPACE,
        webhook=False,
        helm_values=lambda _: ["webhook.enabled=false"],
    ) as story:
        yield story


def test_every_resource_converges_to_its_last_spec_although_the_operator_is_killed_repeatedly(
    story: Story,
) -> None:
    fleet = Fleet(RESOURCES, SEED, samples=FLEET_SAMPLES)
    moments = random.Random(SEED)
    watched = Watched(story.cluster, NAMESPACE, KINDS)
    in_flight: list[int] = []
    kills = 0
    user = concurrent.futures.ThreadPoolExecutor(1)
    try:
        started = time.monotonic()
        busy = user.submit(create, story, fleet)
        for kill in range(KILLS):
            # After a seeded number of changes (the user's and the operator's): mid-reconciliation.
            wait_for_changes(watched, watched.changes() + moments.randrange(10, 120))
            assert story.operator is not None
            assert story.operator.process.poll() is None, f"the operator exited:\n{story.operator_log()}"
            story.operator.process.kill()
            story.operator.process.wait()
            kills += 1
            in_flight.append(_not_observed(story))
            busy.result()
            if kill % 2:
                edit(story, fleet, share=0.3)  # edits while the operator is down
            story.start_operator(webhook=False)
            busy = user.submit(edit, story, fleet, 0.4)
        busy.result()
        problems = converged(watched)
        seconds = time.monotonic() - started
    finally:
        user.shutdown()
        watched.stop()
    report = (
        f"seed {SEED}: {RESOURCES} resources, {fleet.edits} edits {fleet.edit_kinds}; {kills} kills with "
        f"{in_flight} resources not yet reconciled at each; "
        f"{len(watched.live(CONFIG_MAPS))} ConfigMaps; {seconds:.0f} s"
    )
    print(report)
    assert kills == KILLS
    listed = "\n".join(problems[:30])
    assert not problems, f"{len(problems)} broken guarantees ({report}):\n{listed}\n{story.operator_log()}"


def wait_for_changes(watched: Watched, count: int, timeout: float = 5.0) -> None:
    """Until the watches delivered ``count`` versions, or everything is quiet for ``timeout``."""
    deadline = time.monotonic() + timeout
    while watched.changes() < count and time.monotonic() < deadline:
        time.sleep(0.01)


def create(story: Story, fleet: Fleet) -> None:
    """The fleet's workloads and resources, in one request list (kubectl create)."""
    items = [
        {**body, "metadata": {**body["metadata"], "namespace": NAMESPACE}} for _, body in fleet.manifests()
    ]
    story.kubectl(
        "create", "-f", "-", input=yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": items})
    )


def edit(story: Story, fleet: Fleet, share: float) -> None:
    """A seeded round of merge patches, sent as a user would (kubectl), a few at a time."""

    def patch(name: str, body: dict[str, object]) -> None:
        story.kubectl("patch", "ftmm", name, "-n", NAMESPACE, "--type=merge", "-p", json.dumps(body))

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        for done in [pool.submit(patch, name, body) for name, body in fleet.edit_round(share)]:
            done.result()


def _not_observed(story: Story) -> int:
    listed = json.loads(story.kubectl("get", "ftmm", "-n", NAMESPACE, "-o", "json").stdout)["items"]
    return sum(
        (body.get("status") or {}).get("observedGeneration") != body["metadata"]["generation"]
        for body in listed
    )


def converged(watched: Watched) -> list[str]:
    """Waits until every guarantee holds; the broken ones if they still do not after the timeout."""
    deadline = time.monotonic() + CONVERGENCE_TIMEOUT
    while True:
        watched.refresh()
        problems = problems_of(watched.live(MEMORIES), watched.live(CONFIG_MAPS), watched)
        if watched.caught_up() and not problems:
            return []
        if time.monotonic() > deadline:
            return problems or ["the watches did not deliver every object as listed"]
        time.sleep(1.0)
