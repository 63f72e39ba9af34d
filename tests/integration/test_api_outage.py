"""The API server goes away for a while: the operator backs off, says it is unready, and catches up.

Between the operator and the emulated API server sits a proxy the test controls (``proxy.py``). The
operator reconciles two resources (one with a Deployment target); then the proxy resets every
connection, and keeps resetting new ones, for a few seconds, while a user (the test, talking to the
API server directly) edits both resources. Meanwhile:

- the operator's attempts (connections opened while the server is away) stay within what its retry
  schedules allow (``attempt_bound``): it does not hammer an API server that is down;
- ``/readyz`` fails, naming the API server and how long it has been silent, the metrics say it is
  unreachable, kopf's liveness answer carries the same facts, and ``/livez`` stays up.

When the server returns, every edit is reconciled (status of the latest generation, ConfigMap,
Deployment), each ConfigMap was written once per generation, ``/readyz`` passes again, and the drift
checks still run: a Deployment edited after the outage is put back (the drift loop retries the
checks an outage failed on one schedule, then goes on; see ``control/drift.py``).
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import json
import time
from collections.abc import AsyncIterator, Iterable

import aiohttp
import pytest

from flink_tm_memory.runtime.options import OperatorOptions
from flink_tm_memory.runtime.settings import EndlessBackoffs
from tests.integration.conftest import StartOperator
from tests.integration.emulator import ApiEmulator
from tests.integration.health import HealthClient
from tests.integration.kubectl import (
    CONFIG_MAPS,
    DEPLOYMENTS,
    MEMORIES,
    Kubectl,
    deployment,
    eventually,
    ready,
    sample,
    stays,
)
from tests.integration.proxy import ApiProxy
from tests.integration.webhooks import free_port

P = "flink_tm_memory"
OUTAGE = 3.0
CONFIG_MAPS_OF = {"process-size": "process-size-flink-tm-memory", "deployment-target": "flink-config"}
WATCH_STREAMS = (
    6  # FlinkTaskManagerMemories, the operator's ConfigMaps, CRDs (kopf's discovery), and the target
)
# kinds watched for new workloads (Deployments, StatefulSets, FlinkDeployments)


@pytest.fixture
async def proxy(emulator: ApiEmulator) -> AsyncIterator[ApiProxy]:
    async with ApiProxy(emulator.url) as running:
        yield running


def attempts_within(delays: Iterable[float], seconds: float) -> int:
    """The attempts a retry schedule makes in ``seconds``: one at once, then one after each delay."""
    count, elapsed = 1, 0.0
    for delay in delays:
        elapsed += delay
        if elapsed > seconds:
            break
        count += 1
    return count


def attempt_bound(options: OperatorOptions, seconds: float, *, resources: int, targets: int) -> int:
    """The most connections the operator may open in ``seconds`` of outage, by its retry schedules.

    Each retrying actor waits out its schedule between attempts: kopf's watch streams and each
    resource's status patch (``api_backoffs``, then the last one forever), kopf's Event poster
    (``api_backoffs`` per Event, one Event after another), each resource's reconciliation (one read per
    object it writes, retried after ``retry_delay`` doubled per retry), and the idle check (once per
    ``api_check_interval``). A client without backoff opens thousands of connections a second.
    """
    kopf_schedule = attempts_within(EndlessBackoffs(options.api_backoffs), seconds)
    poster = attempts_within(itertools.cycle((*options.api_backoffs, 0.0)), seconds)
    retries = (options.retry_delay_after(retry) for retry in itertools.count())
    reconciliation = attempts_within(retries, seconds) * (resources + targets)
    check = attempts_within(itertools.repeat(options.api_check_interval), seconds)
    return (WATCH_STREAMS + resources) * kopf_schedule + poster + reconciliation + check


async def test_an_api_outage_is_backed_off_reported_unready_and_caught_up_after(
    start_operator: StartOperator, proxy: ApiProxy, kubectl: Kubectl, emulator: ApiEmulator
) -> None:
    metrics_port, liveness_port = free_port(), free_port()
    operator = await start_operator(
        server=proxy.url,
        metrics_port=metrics_port,
        metrics_listen="127.0.0.1",
        liveness_endpoint=f"http://127.0.0.1:{liveness_port}/healthz",
        api_unready_after=1.0,
        api_check_interval=0.2,
    )
    await kubectl.create(
        DEPLOYMENTS, deployment("flink-taskmanager", [{"name": "taskmanager", "image": "f"}])
    )
    async with aiohttp.ClientSession() as session:
        health = HealthClient(session, metrics_port)
        await health.wait_listening()
        for name in CONFIG_MAPS_OF:
            await kubectl.create(MEMORIES, sample(name))
        for name in CONFIG_MAPS_OF:
            await ready(kubectl, name)
        assert (await health.get("/readyz"))[0] == 200

        proxy.go_down()
        went_down = time.monotonic()
        await kubectl.patch(
            MEMORIES,
            "process-size",
            {"spec": {"flinkConfiguration": {"taskmanager.memory.process.size": "3g"}}},
        )
        await kubectl.patch(MEMORIES, "deployment-target", {"spec": {"resources": {"memory": "6Gi"}}})

        status, text = await _readyz_until(health, 503)
        assert status == 503, text
        assert "[-]api-server failed: no answer from the API server for" in text
        assert await health.get("/livez") == (200, "ok\n")
        scraped = await health.scrape()
        assert scraped.value(f"{P}_api_server_reachable") == 0
        assert scraped.value(f"{P}_api_consecutive_failures") > 0
        assert scraped.value(f"{P}_api_requests_total", outcome="connection_error") > 0
        async with session.get(f"http://127.0.0.1:{liveness_port}/healthz") as answer:
            assert answer.status == 200
            kopf_probes = json.loads(await answer.text())
        assert kopf_probes["api-server"]["reachable"] is False
        assert kopf_probes["api-server"]["consecutiveFailures"] > 0

        await asyncio.sleep(max(0.0, went_down + OUTAGE - time.monotonic()))
        attempts = proxy.opened_while_down()
        outage = time.monotonic() - went_down
        proxy.come_back()

        for name in CONFIG_MAPS_OF:
            resource_status = await ready(kubectl, name, timeout=15)
            assert resource_status["observedGeneration"] == 2
        process_size = _config(kubectl, "process-size")
        assert "taskmanager.memory.process.size: 3g" in process_size.splitlines()
        assert (
            f"taskmanager.memory.process.size: {6 << 30}b"
            in _config(kubectl, "deployment-target").splitlines()
        )
        assert _memory_limit(kubectl) == "6Gi"
        await stays(lambda: all(_ready_now(kubectl, name) for name in CONFIG_MAPS_OF), 2.0, what="Ready")
        assert (await _readyz_until(health, 200))[0] == 200
        assert (await health.scrape()).value(f"{P}_api_server_reachable") == 1

        shrunk = {"name": "taskmanager", "resources": {"limits": {"memory": "1Gi"}}}
        await kubectl.patch(
            DEPLOYMENTS,
            "flink-taskmanager",
            {"spec": {"template": {"spec": {"containers": [shrunk]}}}},
            content_type="application/strategic-merge-patch+json",
        )
        await eventually(lambda: _memory_limit(kubectl) == "6Gi", what="the drift check after the outage")

    bound = attempt_bound(operator.options, outage, resources=len(CONFIG_MAPS_OF), targets=1)
    per_second = collections.Counter(int(at - went_down) for at, up in proxy.connections if not up)
    print(f"outage of {outage:.2f} s: {attempts} connections attempted (bound {bound}), per second:", end=" ")
    print([per_second[second] for second in range(round(outage))])
    assert 0 < attempts <= bound
    for name, config_map in CONFIG_MAPS_OF.items():
        assert len(emulator.versions(CONFIG_MAPS, "default", config_map)) == 2, name


def _ready_now(kubectl: Kubectl, name: str) -> bool:
    status = kubectl.status(name)
    return status.get("observedGeneration") == 2 and kubectl.condition(name, "Ready").get("status") == "True"


def _config(kubectl: Kubectl, name: str) -> str:
    text: str = (kubectl.get(CONFIG_MAPS, CONFIG_MAPS_OF[name]) or {})["data"]["config.yaml"]
    return text


def _memory_limit(kubectl: Kubectl) -> object:
    body = kubectl.get(DEPLOYMENTS, "flink-taskmanager") or {}
    return (
        body["spec"]["template"]["spec"]["containers"][0].get("resources", {}).get("limits", {}).get("memory")
    )


async def _readyz_until(health: HealthClient, wanted: int, timeout: float = 10.0) -> tuple[int, str]:
    """``/readyz`` once it answers ``wanted`` (or its last answer after ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    while True:
        status, text = await health.get("/readyz?verbose")
        if status == wanted or time.monotonic() > deadline:
            return status, text
        await asyncio.sleep(0.05)
