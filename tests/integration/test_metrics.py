"""The operator's ``/metrics``, scraped over HTTP after real work, says exactly what happened.

The operator runs with its webhooks and its metrics server; resources are created (one valid, one
conflicting, one in ``updateMode: Off``, one created and then deleted), a ConfigMap is edited and
repaired, and admission requests are sent (allowed, denied, patched, malformed, failed). The scrape
is parsed with ``prometheus_client``'s parser and every figure is checked against what the test did
and what the emulated API server recorded. The drift loop is slowed down so that nothing happens by itself
between the last action and the scrape.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from flink_tm_memory.control.admission import VALIDATE_ID
from flink_tm_memory.control.mutation import MUTATE_ID
from tests.integration.conftest import StartOperator, _quiet
from tests.integration.emulator import ApiEmulator
from tests.integration.health import HealthClient
from tests.integration.kubectl import CONFIG_MAPS, MEMORIES, Kubectl, eventually, ready, sample
from tests.integration.test_mutating_webhook import pod, pod_review
from tests.integration.test_validating_webhook import review
from tests.integration.test_validating_webhook import sample as namespaced_sample
from tests.integration.webhooks import free_port, webhook_session

P = "flink_tm_memory"


class Operator:
    def __init__(self, session: aiohttp.ClientSession, base: str, health: HealthClient) -> None:
        self.session = session
        self.base = base
        self.health = health

    async def post(self, webhook: str, body: object) -> tuple[int, dict[str, object]]:
        async with self.session.post(f"{self.base}/{webhook}", json=body) as answer:
            return answer.status, (await answer.json() if answer.content_type == "application/json" else {})


@pytest.fixture
async def running(start_operator: StartOperator, tmp_path: Path) -> AsyncIterator[Operator]:
    port = free_port()
    async with (
        webhook_session(
            start_operator, tmp_path, drift_interval=60.0, metrics_port=port, metrics_listen="127.0.0.1"
        ) as (session, base),
        aiohttp.ClientSession() as plain,
    ):
        health = HealthClient(plain, port)
        await health.wait_listening()
        yield Operator(session, base, health)


async def test_a_scrape_counts_reconciliations_conflicts_webhooks_and_api_requests_exactly(
    running: Operator, kubectl: Kubectl, emulator: ApiEmulator
) -> None:
    started = time.time()
    await kubectl.create(MEMORIES, sample("process-size"))
    await kubectl.create(MEMORIES, sample("conflicting"))
    await kubectl.create(MEMORIES, sample("kubernetes-quantity"))  # updateMode: Off
    await kubectl.create(MEMORIES, sample("flink-size"))
    for name in ("process-size", "kubernetes-quantity", "flink-size"):
        await ready(kubectl, name)
    conflicts = await eventually(lambda: kubectl.status("conflicting").get("conflicts"), what="conflicts")
    await kubectl.delete(MEMORIES, "flink-size")
    await eventually(lambda: kubectl.get(MEMORIES, "flink-size") is None, what="the deletion")
    config_map = "process-size-flink-tm-memory"
    written = (kubectl.get(CONFIG_MAPS, config_map) or {})["data"]
    await kubectl.patch(CONFIG_MAPS, config_map, {"data": {"config.yaml": "edited: true\n"}})
    await eventually(lambda: (kubectl.get(CONFIG_MAPS, config_map) or {})["data"] == written, what="repair")

    answers = [
        await running.post(VALIDATE_ID, review("CREATE", namespaced_sample("process-size"))),
        await running.post(VALIDATE_ID, review("CREATE", namespaced_sample("conflicting"))),
        await running.post(VALIDATE_ID, {"request": "not a review"}),
        await running.post(MUTATE_ID, pod_review(pod("process-size"))),
        await running.post(MUTATE_ID, pod_review(pod("no-such-resource"))),
    ]
    unplaced = pod("process-size")
    del unplaced["metadata"]["namespace"]
    answers.append(await running.post(MUTATE_ID, pod_review(unplaced)))
    assert [status for status, _ in answers] == [200, 200, 400, 200, 200, 200]
    await _quiet(emulator, for_seconds=0.3)
    ours = [request for request in emulator if _from_our_client(request.headers.get("User-Agent", ""))]
    api = f"{P}_api_requests_total"
    # The admission process reports its client's requests to the parent within 0.2 s of a change.
    deadline = time.monotonic() + 10.0
    while (metrics := await running.health.scrape()).total(api) != len(ours) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    reconciliations = f"{P}_reconciliations_total"
    assert metrics.value(reconciliations, trigger="created", result="applied") == 2
    assert metrics.value(reconciliations, trigger="created", result="degraded") == 1
    assert metrics.value(reconciliations, trigger="created", result="off") == 1
    assert metrics.value(reconciliations, trigger="repair", result="applied") == 1
    assert metrics.total(reconciliations, result="failed") == 0
    degraded = metrics.total(reconciliations, result="degraded")
    reasons = {conflict["reason"] for conflict in conflicts}
    assert reasons
    for reason in reasons:
        assert metrics.value(f"{P}_conflicts_total", reason=reason) == degraded
        assert metrics.value(f"{P}_degraded_resources", reason=reason) == 1
    assert {sample.labels["reason"] for sample in metrics.all(f"{P}_conflicts_total")} == reasons

    derived = metrics.total(reconciliations) - metrics.total(reconciliations, trigger="repair")
    assert metrics.value(f"{P}_derivation_duration_seconds_count") == derived
    assert metrics.value(f"{P}_derivation_duration_seconds_bucket", le="+Inf") == derived
    assert 0 < metrics.value(f"{P}_derivation_duration_seconds_sum") < derived  # seconds, not ms

    last = {
        sample.labels["name"]: sample.value
        for sample in metrics.all(f"{P}_last_successful_reconcile_timestamp_seconds", namespace="default")
    }
    assert set(last) == {"process-size", "conflicting", "kubernetes-quantity"}  # not the deleted one
    assert all(started <= stamp <= time.time() for stamp in last.values())

    requests = f"{P}_webhook_requests_total"
    assert metrics.value(requests, webhook=VALIDATE_ID, outcome="allowed") == 1
    assert metrics.value(requests, webhook=VALIDATE_ID, outcome="denied") == 1
    assert metrics.value(requests, webhook=VALIDATE_ID, outcome="error") == 1
    assert metrics.value(requests, webhook=MUTATE_ID, outcome="patched") == 1
    assert metrics.value(requests, webhook=MUTATE_ID, outcome="allowed") == 1  # missing: unchanged, warned
    assert metrics.value(requests, webhook=MUTATE_ID, outcome="error") == 1  # failed, admitted anyway
    assert metrics.total(requests) == 6
    latency = f"{P}_webhook_request_duration_seconds"
    assert metrics.value(f"{latency}_count", webhook=VALIDATE_ID) == 2  # the malformed body is not timed
    assert metrics.value(f"{latency}_count", webhook=MUTATE_ID) == 3
    assert metrics.value(f"{latency}_bucket", webhook=MUTATE_ID, le="+Inf") == 3

    assert metrics.total(api) == len(ours) > 0
    # two ConfigMaps read before they were created, and the pod webhook's look-up of a missing resource
    assert metrics.value(api, outcome="not_found") >= 3
    assert metrics.value(api, outcome="ok") + metrics.value(api, outcome="not_found") == len(ours)
    assert metrics.value(api, outcome="connection_error") == 0
    assert metrics.value(f"{P}_api_server_reachable") == 1
    assert metrics.value(f"{P}_api_consecutive_failures") == 0
    assert started <= metrics.value(f"{P}_api_last_contact_timestamp_seconds") <= time.time()
    assert metrics.value("process_resident_memory_bytes") > 0
    assert metrics.all("python_info")


async def test_readiness_reports_the_api_server_check_and_liveness_answers(running: Operator) -> None:
    assert await running.health.get("/livez") == (200, "ok\n")
    # Ready once the admission process's cache has listed (it starts listing when the process starts).
    deadline = time.monotonic() + 10.0
    while (readyz := await running.health.get("/readyz")) != (200, "ok\n") and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert readyz == (200, "ok\n")
    status, verbose = await running.health.get("/readyz?verbose")
    assert status == 200
    assert verbose.splitlines()[0].startswith("[+]api-server ok: last answer ")
    assert verbose.splitlines()[-1] == "readyz check passed"
    status, single = await running.health.get("/readyz/api-server")
    assert status == 200
    assert single.startswith("[+]api-server ok")
    assert (await running.health.get("/readyz/etcd"))[0] == 404
    assert (await running.health.get("/readyz?exclude=etcd"))[0] == 400
    assert await running.health.get("/readyz?exclude=api-server") == (200, "ok\n")


def _from_our_client(user_agent: str) -> bool:
    """The operator's own client (the Kubernetes client), not kopf's and not the test's (kmock)."""
    return not user_agent.startswith(("kopf/", "kmock/"))
