"""What the operator's metrics cost: a scrape at 0, 1 000 and 10 000 resources, and the per-event overhead.

The ``/metrics`` server runs in the operator's event loop; an exposition done in the loop would hold it
(reconciliations, webhook answers) for as long as it takes, so the server runs it in a worker thread.
This measures the exposition over HTTP against the real server (``serve_health``) and alone, and
how long a 1 ms ticker in the loop is held up by one exposition run in the loop and in a thread,
with one ``last_successful_reconcile`` series per resource and a tenth of them Degraded; and the
cost the instrumentation adds to one reconciliation (``OperatorMetrics.reconciled``) and to one
webhook answer (``OperatorMetrics.webhook_answered`` and its timing, as the admission server does).

Prints a table and JSON; asserts nothing. ``python benchmarks/metrics_cost.py [--runs 30]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import time
from typing import Any

import aiohttp
from prometheus_client import generate_latest

from flink_tm_memory.api.v1alpha1 import WorkloadKind
from flink_tm_memory.cluster.contact import ApiContact, Outcome
from flink_tm_memory.render.metadata import MemoryRef
from flink_tm_memory.render.outcomes import ApplyOutcome, ConfigMapOutcome, TargetOutcome, WriteState
from flink_tm_memory.render.plan import derive_memory_plan
from flink_tm_memory.runtime.health import serve_health
from flink_tm_memory.runtime.metrics import OperatorMetrics, Trigger, WebhookOutcome

VALID = derive_memory_plan({"flinkConfiguration": {"taskmanager.memory.process.size": "4g"}})
CONFLICTING = derive_memory_plan(
    {"resources": {"memory": "2Gi"}, "flinkConfiguration": {"taskmanager.memory.task.heap.size": "1536m"}}
)
WRITTEN = ApplyOutcome(
    1,
    ConfigMapOutcome("cm", WriteState.UNCHANGED),
    (TargetOutcome(WorkloadKind.DEPLOYMENT, "tm", WriteState.UNCHANGED),),
)


def populated(resources: int) -> OperatorMetrics:
    contact = ApiContact()
    metrics = OperatorMetrics(contact, webhooks=("validate-memory", "mutate-pod"))
    for index in range(resources):
        memory = MemoryRef(f"taskmanagers-{index}", f"team-{index % 50}", f"uid-{index}", 1)
        degraded = index % 10 == 0
        metrics.reconciled(
            memory, Trigger.CREATED, CONFLICTING if degraded else VALID, None if degraded else WRITTEN
        )
    for outcome in WebhookOutcome:
        metrics.webhook_answered("validate-memory", outcome, 0.002)
    contact.record(Outcome.OK)
    return metrics


def median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 3)


async def scrape_over_http(metrics: OperatorMetrics, runs: int) -> tuple[float, int]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    timings, size = [], 0
    async with serve_health("127.0.0.1", port, metrics, {}), aiohttp.ClientSession() as session:
        for _ in range(runs):
            started = time.perf_counter()
            async with session.get(f"http://127.0.0.1:{port}/metrics") as answer:
                size = len(await answer.read())
            timings.append(time.perf_counter() - started)
    return median_ms(timings), size


async def loop_stall_ms(metrics: OperatorMetrics, runs: int, *, in_thread: bool) -> float:
    """How long a 1 ms ticker in the loop is held up by one exposition: the median over ``runs``."""
    stop, worst = asyncio.Event(), [0.0]

    async def ticker() -> None:
        while not stop.is_set():
            started = time.perf_counter()
            await asyncio.sleep(0.001)
            worst[0] = max(worst[0], time.perf_counter() - started - 0.001)

    task = asyncio.create_task(ticker())
    stalls = []
    for _ in range(runs):
        await asyncio.sleep(0.005)
        worst[0] = 0.0
        if in_thread:
            await asyncio.to_thread(generate_latest, metrics.registry)
        else:
            generate_latest(metrics.registry)
        await asyncio.sleep(0.003)
        stalls.append(worst[0])
    stop.set()
    await task
    return median_ms(stalls)


def exposition(metrics: OperatorMetrics, runs: int) -> float:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        generate_latest(metrics.registry)
        timings.append(time.perf_counter() - started)
    return median_ms(timings)


def per_reconciliation_us(count: int = 20_000) -> float:
    metrics = populated(1000)
    memory = MemoryRef("taskmanagers-1", "team-1", "uid-1", 1)
    started = time.perf_counter()
    for _ in range(count):
        metrics.reconciled(memory, Trigger.DRIFT, VALID, WRITTEN)
        with metrics.time_derivation():
            pass
    return round((time.perf_counter() - started) / count * 1e6, 2)


async def per_webhook_us(count: int = 20_000) -> tuple[float, float]:
    answer = {"response": {"allowed": True}}

    async def bare(request: Any, **_: Any) -> Any:
        return answer

    metrics = populated(0)

    async def observed(request: Any, **_: Any) -> Any:
        started = time.perf_counter()
        answered = await bare(request)
        metrics.webhook_answered("validate-memory", WebhookOutcome.ALLOWED, time.perf_counter() - started)
        return answered

    timings = []
    for fn in (bare, observed):
        started = time.perf_counter()
        for _ in range(count):
            await fn({}, webhook="validate-memory")
        timings.append((time.perf_counter() - started) / count * 1e6)
    return round(timings[0], 2), round(timings[1], 2)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    runs = parser.parse_args().runs
    rows = []
    for resources in (0, 1000, 10_000):
        metrics = populated(resources)
        http_ms, size = await scrape_over_http(metrics, runs)
        rows.append(
            {
                "resources": resources,
                "exposition_ms": exposition(metrics, runs),
                "http_scrape_ms": http_ms,
                "bytes": size,
                "loop_stall_in_loop_ms": await loop_stall_ms(metrics, runs, in_thread=False),
                "loop_stall_in_thread_ms": await loop_stall_ms(metrics, runs, in_thread=True),
            }
        )
    bare, observed = await per_webhook_us()
    figures = {
        "scrapes": rows,
        "reconciled_us": per_reconciliation_us(),
        "webhook_fn_bare_us": bare,
        "webhook_fn_observed_us": observed,
    }
    print(
        "| resources | exposition (median) | scrape over HTTP (median) | body | loop held, in the loop | in a thread |"
    )
    print("|---|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {row['resources']} | {row['exposition_ms']} ms | {row['http_scrape_ms']} ms | {row['bytes']} B "
            f"| {row['loop_stall_in_loop_ms']} ms | {row['loop_stall_in_thread_ms']} ms |"
        )
    print(
        f"instrumentation per reconciliation: {figures['reconciled_us']} us; per webhook answer: "
        f"{observed - bare:.2f} us ({bare} us bare, {observed} us observed)"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    asyncio.run(main())
