"""Reconcile throughput and memory of the operator: N FlinkTaskManagerMemory resources, created to Ready.

The operator runs as the shipped process (``flink-tm-memory run``, reading a kubeconfig), so its RSS
is its own; the API server is the integration tests' emulator (kmock with the API server semantics
the operator relies on), served in this process without the scripting layer. Every resource targets
a Deployment of its own, so one reconciliation reads and writes a ConfigMap, reads and patches a
Deployment, writes the status and posts Events, as in a cluster.

The clock starts before the first create and stops when the last resource reports Ready for its
generation; throughput is resources per second over that span. RSS is read from ``/proc`` (Linux):
after the operator started (idle), at the end, and its peak (``VmHWM``). Not a test: it prints the
figures and asserts nothing about speed.

    python benchmarks/operator_throughput.py [--count 1000] [--concurrency 50]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import kmock
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.integration.emulator import DirectApiEmulator, declare_cluster  # noqa: E402
from tests.integration.kubectl import collection_url  # noqa: E402

MEMORIES = "flinkmemory.io/v1alpha1/flinktaskmanagermemories"
DEPLOYMENTS = "apps/v1/deployments"
NAMESPACE = "default"
SCRIPT = Path(sys.executable).parent / "flink-tm-memory"


@dataclass(frozen=True)
class Figures:
    count: int
    seconds: float
    resources_per_second: float
    rss_idle_mib: float
    rss_end_mib: float
    rss_peak_mib: float
    operator_cpu_seconds: float
    api_requests: int
    machine: str


def main() -> int:
    arguments = parse_arguments()
    figures = asyncio.run(measure(arguments.count, arguments.concurrency))
    print(json.dumps(asdict(figures), indent=2))
    print(
        f"\n{figures.count} resources created to Ready in {figures.seconds:.1f} s: "
        f"{figures.resources_per_second:.1f} resources/s; operator RSS {figures.rss_idle_mib:.0f} MiB idle, "
        f"{figures.rss_end_mib:.0f} MiB at the end, {figures.rss_peak_mib:.0f} MiB peak; "
        f"{figures.operator_cpu_seconds:.1f} s of operator CPU."
    )
    return 0


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=1000, help="resources to create (default 1000)")
    parser.add_argument("--concurrency", type=int, default=50, help="creates in flight at once (default 50)")
    return parser.parse_args()


async def measure(count: int, concurrency: int) -> Figures:
    async with DirectApiEmulator() as emulator, kmock.Server(emulator):
        declare_cluster(emulator)
        await create_all(emulator, DEPLOYMENTS, (deployment(index) for index in range(count)), concurrency)
        with tempfile.TemporaryDirectory() as scratch:
            async with operator_process(str(emulator.url), Path(scratch)) as process:
                await watching(emulator)
                idle, cpu_before = rss(process.pid), cpu_seconds(process.pid)
                started = time.monotonic()
                await create_all(emulator, MEMORIES, (memory(index) for index in range(count)), concurrency)
                await all_ready(emulator, count)
                seconds = time.monotonic() - started
                end, peak = rss(process.pid), peak_rss(process.pid)
                cpu = cpu_seconds(process.pid) - cpu_before
        return Figures(
            count=count,
            seconds=round(seconds, 2),
            resources_per_second=round(count / seconds, 1),
            rss_idle_mib=idle,
            rss_end_mib=end,
            rss_peak_mib=peak,
            operator_cpu_seconds=round(cpu, 1),
            api_requests=len(list(emulator)),
            machine=machine(),
        )


@asynccontextmanager
async def operator_process(server: str, scratch: Path) -> AsyncIterator[asyncio.subprocess.Process]:
    """``flink-tm-memory run`` against the emulator, through a kubeconfig; terminated on exit.

    Awaited, never waited for: the emulator serves from this event loop, and the operator talks to it
    while it stops.
    """
    config = scratch / "kubeconfig"
    config.write_text(yaml.safe_dump(kubeconfig(server)), encoding="utf-8")
    environment = {**os.environ, "KUBECONFIG": str(config)}
    environment.pop("KUBERNETES_SERVICE_HOST", None)
    with (scratch / "operator.log").open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            SCRIPT, "run", "--log-format", "plain", env=environment, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        yield process
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), timeout=60)


def kubeconfig(server: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "emulator", "cluster": {"server": server}}],
        "users": [{"name": "anonymous", "user": {}}],
        "contexts": [{"name": "emulator", "context": {"cluster": "emulator", "user": "anonymous"}}],
        "current-context": "emulator",
    }


def memory(index: int) -> dict[str, Any]:
    return {
        "apiVersion": "flinkmemory.io/v1alpha1",
        "kind": "FlinkTaskManagerMemory",
        "metadata": {"name": f"job-{index:04d}"},
        "spec": {
            "flinkVersion": "2.2",
            "resources": {"memory": f"{2048 + index}Mi", "memoryLimitFactor": 1.25},
            "flinkConfiguration": {"taskmanager.numberOfTaskSlots": 1 + index % 8},
            "targets": {"workloads": [{"kind": "Deployment", "name": f"job-{index:04d}-taskmanager"}]},
        },
    }


def deployment(index: int) -> dict[str, Any]:
    name = f"job-{index:04d}-taskmanager"
    container = {"name": "flink-main-container", "image": "flink:2.2"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [container]}},
        },
    }


async def create_all(
    emulator: DirectApiEmulator, resource: str, bodies: Iterator[dict[str, Any]], concurrency: int
) -> None:
    url = collection_url(resource, NAMESPACE)
    gate = asyncio.Semaphore(concurrency)

    async def create(body: dict[str, Any]) -> None:
        async with gate, emulator.post(url, json=body) as response:
            if response.status >= 300:
                raise RuntimeError(f"creating {body['metadata']['name']} failed: {await response.text()}")

    await asyncio.gather(*(create(body) for body in bodies))


async def watching(emulator: DirectApiEmulator, timeout: float = 60) -> None:
    """Until the operator has opened its watch of FlinkTaskManagerMemories."""
    deadline = time.monotonic() + timeout
    memories = kmock.resource(MEMORIES)
    while not any(r.params.get("watch") == "true" and r.resource == memories for r in emulator):
        if time.monotonic() > deadline:
            raise RuntimeError("the operator did not start watching")
        await asyncio.sleep(0.1)


async def all_ready(emulator: DirectApiEmulator, count: int, timeout: float = 1800) -> None:
    deadline = time.monotonic() + timeout
    while ready_count(emulator) < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {ready_count(emulator)} of {count} resources became Ready")
        await asyncio.sleep(0.1)


def ready_count(emulator: DirectApiEmulator) -> int:
    memories = kmock.resource(MEMORIES)
    ready = 0
    for (resource, _, _), stored in emulator.objects.items():
        if resource != memories or stored.deleted:
            continue
        body = stored.raw
        status = body.get("status") or {}
        conditions = {entry["type"]: entry["status"] for entry in status.get("conditions", [])}
        if (
            conditions.get("Ready") == "True"
            and status.get("observedGeneration") == body["metadata"]["generation"]
        ):
            ready += 1
    return ready


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far (``/proc/<pid>/stat`` fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8").rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss(pid: int) -> float:
    return _status_mib(pid, "VmRSS")


def peak_rss(pid: int) -> float:
    return _status_mib(pid, "VmHWM")


def _status_mib(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text(encoding="utf-8").splitlines():
        if line.startswith(f"{field}:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError(f"no {field} for process {pid}")


if __name__ == "__main__":
    raise SystemExit(main())
