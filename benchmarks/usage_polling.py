"""What polling TaskManager metrics costs the operator: N resources with ``spec.recommendations``.

The operator runs as the shipped process (``python -m flink_tm_memory run``, through a kubeconfig)
against the integration tests' API server emulator, served in this process with ``--job-managers``
fake JobManagers on 127.0.0.1 (``tests/fake_job_manager.py``), the resources spread over them. Every
resource is in ``updateMode: Off`` (recommendations only: the cost measured is the polling, the
window and the recommendation, not the writes of Auto), polls every ``--poll-interval``, and
recommends from the first sample (``minObservation: 0s``).

Measured: the time until every resource shows its first recommendation (the first pass), then, over
``--steady`` seconds of steady state, the operator's CPU (user + system, from ``/proc``) per poll
and in all, its RSS, the polls the fake JobManagers saw, and the API requests the operator sent, by
verb. Not a test: it prints figures and asserts nothing about speed. Linux only (``/proc``).

    python benchmarks/usage_polling.py [--count 1000] [--job-managers 10] [--poll-interval 30s] [--steady 60]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import kmock

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from tests.fake_job_manager import FakeJobManager  # noqa: E402
from tests.integration.emulator import DirectApiEmulator, declare_cluster  # noqa: E402

from operator_throughput import (  # noqa: E402
    MEMORIES,
    create_all,
    machine,
    operator_process,
    operator_requests,
    peak_rss,
    rss,
    watching,
)
from operator_throughput import cpu_seconds as process_cpu_seconds  # noqa: E402


def memory(index: int, url: str, interval: str) -> dict[str, Any]:
    return {
        "apiVersion": "flinkmemory.io/v1alpha1",
        "kind": "FlinkTaskManagerMemory",
        "metadata": {"name": f"job-{index:05d}"},
        "spec": {
            "flinkVersion": "2.2",
            "flinkConfiguration": {"taskmanager.memory.process.size": f"{2048 + index}m"},
            "updateMode": "Off",
            "recommendations": {
                "jobManager": {"url": url},
                "window": "24h",
                "minObservation": "0s",
                "pollInterval": interval,
            },
        },
    }


async def all_recommended(emulator: DirectApiEmulator, count: int, timeout: float = 1800) -> None:
    deadline = time.monotonic() + timeout
    memories = kmock.resource(MEMORIES)
    while True:
        done = sum(
            1
            for key, stored in emulator.objects.items()
            if key[0] == memories
            and ((stored.raw.get("status") or {}).get("recommendation") or {}).get("state") == "Recommended"
        )
        if done >= count:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {done} of {count} resources recommended")
        await asyncio.sleep(0.2)


async def measure(count: int, job_managers: int, interval: str, steady: float) -> dict[str, Any]:
    async with AsyncExitStack() as stack:
        emulator = await stack.enter_async_context(DirectApiEmulator())
        await stack.enter_async_context(kmock.Server(emulator))
        declare_cluster(emulator)
        fakes = [
            await stack.enter_async_context(FakeJobManager(task_managers=4)) for _ in range(job_managers)
        ]
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        process = await stack.enter_async_context(operator_process(str(emulator.url), scratch))
        await watching(emulator)
        await asyncio.sleep(1)
        idle = rss(process.pid)
        started = time.monotonic()
        bodies = (memory(index, fakes[index % job_managers].url, interval) for index in range(count))
        await create_all(emulator, MEMORIES, bodies, 50)
        await all_recommended(emulator, count)
        first_pass = time.monotonic() - started
        cpu_before, requests_before = process_cpu_seconds(process.pid), len(list(emulator))
        polls_before = sum(len(fake.requests) for fake in fakes) // 3
        await asyncio.sleep(steady)
        cpu = process_cpu_seconds(process.pid) - cpu_before
        polls = sum(len(fake.requests) for fake in fakes) // 3 - polls_before
        verbs = operator_requests(list(emulator)[requests_before:])
        return {
            "count": count,
            "job_managers": job_managers,
            "poll_interval": interval,
            "first_pass_seconds": round(first_pass, 1),
            "steady_seconds": steady,
            "polls": polls,
            "polls_per_second": round(polls / steady, 1),
            "operator_cpu_seconds": round(cpu, 2),
            "operator_cpu_share": round(cpu / steady, 3),
            "cpu_ms_per_poll": round(cpu * 1000 / max(polls, 1), 2),
            "rss_idle_mib": idle,
            "rss_end_mib": rss(process.pid),
            "rss_peak_mib": peak_rss(process.pid),
            "api_requests_per_second": round(sum(verbs.values()) / steady, 1),
            "api_requests_by_verb": dict(verbs.most_common()),
        }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--job-managers", type=int, default=10)
    parser.add_argument("--poll-interval", default="30s")
    parser.add_argument("--steady", type=float, default=60.0)
    arguments = parser.parse_args()
    print(f"# {machine()}", flush=True)
    figures = asyncio.run(
        measure(arguments.count, arguments.job_managers, arguments.poll_interval, arguments.steady)
    )
    print(json.dumps(figures, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
