"""Reconcile throughput and memory of the operator: N FlinkTaskManagerMemory resources, created to Ready.

The operator runs as the shipped process (``python -m flink_tm_memory run``, reading a kubeconfig),
so its RSS and CPU are its own; the API server is the integration tests' emulator (kmock with the API
server semantics the operator relies on), served in this process without the scripting layer. Every
resource targets a Deployment of its own, so one reconciliation reads and writes a ConfigMap, reads
and patches a Deployment, writes the status and posts Events, as in a cluster.

Side by side: the same load is run against the operator of a reference git revision (``--reference``,
``main`` by default, exported with ``git archive`` and run from the same virtualenv) and against the
current checkout, alternately (reference first on odd runs, current first on even ones), so both see
the same machine. The medians of ``--runs`` runs are printed with the ratio current / reference.

The clock starts before the first create and stops when the last resource reports Ready for its
generation. Per run: the time and throughput; the operator's RSS from ``/proc`` (Linux) after it
started (idle), at the end and its peak (``VmHWM``); once the operator has gone quiet (its last
Events are posted after Ready): its CPU seconds (user + system) and per resource, which depends less
on what else the machine runs than the wall time does, the CPU of this process (the emulator, which
does the API server's work, and the load client), and the requests the operator sent, per resource
and by verb. Not a test: it prints figures and asserts nothing about speed.

    python benchmarks/operator_throughput.py [--count 1000 [10000]] [--runs 3] [--reference main|none]
        [--other-deployments N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

import kmock
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.integration.emulator import DirectApiEmulator, declare_cluster  # noqa: E402
from tests.integration.kubectl import OPT_IN_ANNOTATION, collection_url  # noqa: E402

MEMORIES = "flinkmemory.io/v1alpha1/flinktaskmanagermemories"
DEPLOYMENTS = "apps/v1/deployments"
NAMESPACE = "default"
CURRENT = "current"


@dataclass(frozen=True)
class Operator:
    """An operator source tree to run: ``label`` and the directory holding ``flink_tm_memory``."""

    label: str
    source: Path
    arguments: tuple[str, ...] = ()
    """Extra arguments of ``run`` (the current checkout's only: the reference may not know them)."""


@dataclass(frozen=True)
class Figures:
    operator: str
    count: int
    seconds: float
    resources_per_second: float
    rss_idle_mib: float
    rss_end_mib: float
    rss_peak_mib: float
    operator_cpu_seconds: float
    operator_cpu_ms_per_resource: float
    emulator_cpu_seconds: float
    operator_requests: int
    requests_per_resource: float
    requests_by_verb: dict[str, int]


def main() -> int:
    arguments = parse_arguments()
    with tempfile.TemporaryDirectory() as scratch:
        operators = [Operator(CURRENT, ROOT / "operator", tuple(arguments.operator_arg))]
        if arguments.reference != "none":
            reference = export_revision(arguments.reference, Path(scratch) / "reference")
            operators.insert(0, Operator(arguments.reference, reference))
        print(f"# {machine()}; operators: {', '.join(o.label for o in operators)}", flush=True)
        results: list[Figures] = []
        for count in arguments.count:
            for run in range(arguments.runs):
                for operator in operators if run % 2 == 0 else operators[::-1]:
                    figures = asyncio.run(
                        measure(operator, count, arguments.concurrency, arguments.other_deployments)
                    )
                    print(json.dumps(asdict(figures)), flush=True)
                    results.append(figures)
    print()
    print(report(results, [o.label for o in operators], arguments.count))
    return 0


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--count", type=int, nargs="+", default=[1000], help="resources to create (default 1000)"
    )
    parser.add_argument("--runs", type=int, default=3, help="runs per operator and count (default 3)")
    parser.add_argument(
        "--reference", default="main", help="git revision to compare with, or 'none' (default main)"
    )
    parser.add_argument("--concurrency", type=int, default=50, help="creates in flight at once (default 50)")
    parser.add_argument(
        "--other-deployments",
        type=int,
        default=0,
        metavar="N",
        help="Deployments no resource targets, there before the operator starts (default 0): what the "
        "workload watch costs in a busy cluster",
    )
    parser.add_argument(
        "--operator-arg",
        action="append",
        default=[],
        metavar="ARG",
        help="an extra argument of the current operator's `run` (repeatable), e.g. --operator-arg=--no-workload-watch",
    )
    return parser.parse_args()


def export_revision(revision: str, directory: Path) -> Path:
    """The ``operator/`` tree of ``revision`` (``git archive``), compiled; returns its source root."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", revision, "operator"], check=True, capture_output=True
    ).stdout
    directory.mkdir(parents=True)
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(directory, filter="data")
    compile_tree(directory / "operator")
    return directory / "operator"


def compile_tree(source: Path) -> None:
    """Byte-compiles a tree once, so no run pays for compiling (this sandbox sets PYTHONDONTWRITEBYTECODE)."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(source)], check=True)


async def measure(operator: Operator, count: int, concurrency: int, others: int = 0) -> Figures:
    compile_tree(operator.source)
    async with DirectApiEmulator() as emulator, kmock.Server(emulator):
        declare_cluster(emulator)
        await create_all(emulator, DEPLOYMENTS, (deployment(index) for index in range(count)), concurrency)
        await create_all(
            emulator, DEPLOYMENTS, (other_deployment(index) for index in range(others)), concurrency
        )
        with tempfile.TemporaryDirectory() as scratch:
            async with operator_process(
                str(emulator.url), Path(scratch), operator.source, operator.arguments
            ) as process:
                await watching(emulator)
                await asyncio.sleep(1)  # let start-up settle before reading the idle RSS
                idle, cpu_before = rss(process.pid), cpu_seconds(process.pid)
                requests_before = len(list(emulator))
                own_cpu_before = time.process_time()
                started = time.monotonic()
                await create_all(emulator, MEMORIES, (memory(index) for index in range(count)), concurrency)
                await all_ready(emulator, count)
                seconds = time.monotonic() - started
                end, peak = rss(process.pid), peak_rss(process.pid)
                await quiet(emulator)  # the Events of the last reconciliations are posted after Ready
                own_cpu = time.process_time() - own_cpu_before
                cpu = cpu_seconds(process.pid) - cpu_before
                verbs = operator_requests(list(emulator)[requests_before:])
    sent = sum(verbs.values())
    return Figures(
        operator=operator.label,
        count=count,
        seconds=round(seconds, 2),
        resources_per_second=round(count / seconds, 1),
        rss_idle_mib=idle,
        rss_end_mib=end,
        rss_peak_mib=peak,
        operator_cpu_seconds=round(cpu, 2),
        operator_cpu_ms_per_resource=round(cpu * 1000 / count, 2),
        emulator_cpu_seconds=round(own_cpu, 2),
        operator_requests=sent,
        requests_per_resource=round(sent / count, 2),
        requests_by_verb=dict(verbs.most_common()),
    )


def operator_requests(requests: Sequence[Any]) -> Counter[str]:
    """The operator's requests (not this client's, which sends kmock's User-Agent), by verb and resource."""
    verbs: Counter[str] = Counter()
    for request in requests:
        if request.headers.get("User-Agent", "").startswith("kmock/"):
            continue
        plural = request.resource.plural if request.resource is not None else "discovery"
        watch = " watch" if request.params.get("watch") == "true" else ""
        subresource = f"/{request.subresource}" if request.subresource else ""
        verbs[f"{request.method.value}{watch} {plural}{subresource}"] += 1
    return verbs


@asynccontextmanager
async def operator_process(
    server: str, scratch: Path, source: Path = ROOT / "operator", arguments: Sequence[str] = ()
) -> AsyncIterator[asyncio.subprocess.Process]:
    """``python -m flink_tm_memory run`` from ``source`` against the emulator, through a kubeconfig.

    Awaited, never waited for: the emulator serves from this event loop, and the operator talks to it
    while it stops. Terminated on exit.
    """
    config = scratch / "kubeconfig"
    config.write_text(yaml.safe_dump(kubeconfig(server)), encoding="utf-8")
    environment = {**os.environ, "KUBECONFIG": str(config), "PYTHONPATH": str(source)}
    environment.pop("KUBERNETES_SERVICE_HOST", None)
    command = (sys.executable, "-m", "flink_tm_memory", "run", "--log-format", "plain", *arguments)
    with (scratch / "operator.log").open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            *command, env=environment, stdout=log, stderr=subprocess.STDOUT
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
        "metadata": {"name": f"job-{index:05d}"},
        "spec": {
            "flinkVersion": "2.2",
            "resources": {"memory": f"{2048 + index}Mi", "memoryLimitFactor": 1.25},
            "flinkConfiguration": {"taskmanager.numberOfTaskSlots": 1 + index % 8},
            "targets": {"workloads": [{"kind": "Deployment", "name": f"job-{index:05d}-taskmanager"}]},
        },
    }


def deployment(index: int) -> dict[str, Any]:
    name = f"job-{index:05d}-taskmanager"
    container = {"name": "flink-main-container", "image": "flink:2.2"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "annotations": {OPT_IN_ANNOTATION: f"job-{index:05d}"}},  # opted in
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [container]}},
        },
    }


def other_deployment(index: int) -> dict[str, Any]:
    """A Deployment of someone else's, as a busy cluster has thousands: about 3 KB of JSON."""
    name = f"web-{index:05d}"
    env = [{"name": f"SETTING_{number}", "value": f"value-{number}-{index}"} for number in range(20)]
    containers = [
        {
            "name": part,
            "image": f"registry.example.com/team/{part}:1.{index % 50}",
            "env": env,
            "ports": [{"containerPort": 8080, "name": "http"}],
            "resources": {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"memory": "512Mi"}},
        }
        for part in ("app", "proxy")
    ]
    labels = {"app": name, "team": f"team-{index % 40}", "tier": "web"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": name,
            "labels": labels,
            "annotations": {"owner": f"team-{index % 40}@example.com"},
        },
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": containers}},
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
    """Until ``count`` resources are Ready for their generation; checks only those not Ready yet."""
    deadline = time.monotonic() + timeout
    memories = kmock.resource(MEMORIES)
    waiting: set[Any] | None = None
    while waiting is None or waiting:
        if waiting is None:
            keys = [
                key for key, stored in emulator.objects.items() if key[0] == memories and not stored.deleted
            ]
            waiting = set(keys) if len(keys) >= count else None
        if waiting:
            waiting = {key for key in waiting if not is_ready(emulator.objects[key].raw)}
        if waiting is None or waiting:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{len(waiting or ())} of {count} resources did not become Ready")
            await asyncio.sleep(0.1)


async def quiet(emulator: DirectApiEmulator, seconds: float = 1.0, timeout: float = 60) -> None:
    """Until no request arrived for ``seconds``."""
    deadline = time.monotonic() + timeout
    seen = len(list(emulator))
    while time.monotonic() < deadline:
        await asyncio.sleep(seconds)
        now = len(list(emulator))
        if now == seen:
            return
        seen = now


def is_ready(body: dict[str, Any]) -> bool:
    status = body.get("status") or {}
    conditions = {entry["type"]: entry["status"] for entry in status.get("conditions", [])}
    return (
        conditions.get("Ready") == "True"
        and status.get("observedGeneration") == body["metadata"]["generation"]
    )


# ------------------------------------------------------------------------------------------- reporting

ROWS = (
    ("time to all Ready, s", "seconds"),
    ("throughput, resources/s", "resources_per_second"),
    ("operator RSS idle, MiB", "rss_idle_mib"),
    ("operator RSS at the end, MiB", "rss_end_mib"),
    ("operator RSS peak, MiB", "rss_peak_mib"),
    ("operator CPU, s", "operator_cpu_seconds"),
    ("operator CPU per resource, ms", "operator_cpu_ms_per_resource"),
    ("emulator + client CPU, s", "emulator_cpu_seconds"),
    ("operator requests per resource", "requests_per_resource"),
)


def report(results: list[Figures], labels: list[str], counts: list[int]) -> str:
    """Medians per operator and count, side by side, with the ratio current / reference."""
    lines = [f"Operator reconcile benchmark, medians ({machine()})", ""]
    for count in counts:
        runs = {label: [r for r in results if r.operator == label and r.count == count] for label in labels}
        header = " | ".join(f"{label} ({len(runs[label])} runs)" for label in labels)
        ratio = len(labels) == 2
        lines += [
            f"**{count} resources**",
            "",
            f"| | {header} |" + (" current / reference |" if ratio else ""),
            "|---|" + "---|" * len(labels) + ("---|" if ratio else ""),
        ]
        for title, field in ROWS:
            medians = [statistics.median(getattr(r, field) for r in runs[label]) for label in labels]
            cells = " | ".join(f"{value:g}" for value in medians)
            tail = f" {medians[1] / medians[0]:.2f}x |" if ratio and medians[0] else (" |" if ratio else "")
            lines.append(f"| {title} | {cells} |{tail}")
        for label in labels:
            verbs = runs[label][-1].requests_by_verb
            per = ", ".join(
                f"{verb} {sent / count:.2f}" for verb, sent in verbs.items() if sent >= count / 100
            )
            lines.append(f"\n{label}, requests per resource (last run): {per}")
        lines.append("")
    return "\n".join(lines)


def machine() -> str:
    load = os.getloadavg()[0]
    return f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, load {load:.1f}"


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
