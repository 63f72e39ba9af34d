"""Admission webhook latency over real HTTPS: p50 / p99 at a fixed rate, side by side with a floor.

Every opted-in pod creation waits on the mutating webhook, and every ``kubectl apply`` of a
FlinkTaskManagerMemory on the validating one, so what matters is the latency distribution at a
realistic rate, not the peak throughput. Three processes, so that none of them times the others:

- the operator, as shipped (``flink-tm-memory run --webhook-port ... --webhook-cert-dir ...``, with
  a CA and certificate made here, as cert-manager's would be mounted), reading a kubeconfig;
- the API server it reads FlinkTaskManagerMemories from (the integration tests' emulator), in a
  process of its own (``--serve-emulator``);
- this process, the client: real AdmissionReview v1 payloads (as the API server sends them) posted
  over HTTPS with keep-alive connections, verifying the server against the generated CA, at a fixed
  rate (open loop: request *i* is due at ``start + i / rate``, and its latency is counted from that
  moment, so a server that falls behind is charged for the queue, not hidden by it).

Scenarios: ``validate-valid`` (a sample spec, allowed), ``validate-conflicting`` (the conflicting
sample, denied with every conflict), ``mutate-pod`` (a labelled pod: its FlinkTaskManagerMemory
found in the operator's index, the derivation, a JSONPatch), and ``mutate-pod-reconciling``: the
same pods while the operator reconciles ``--reconcile`` new FlinkTaskManagerMemories (1 000 by
default, each with a Deployment, created by the emulator's process when the measurement starts);
measured from the first create until all of them are Ready. The *floor* is a bare
aiohttp HTTPS server in its own process, with the same TLS certificate, that reads the same payload
and answers ``allowed: true``: the cost of TLS, HTTP and JSON that any Python webhook pays. Figures
are printed side by side with the floor; nothing is asserted. Each scenario also reports the CPU
and the resident memory of the operator's processes, with the admission process's share (the
operator serves admission from a child process; another revision may not: its share is then blank).

Side by side with another revision: ``--reference main`` exports that revision's ``operator/`` tree
(``git archive``, as ``operator_throughput.py`` does) and runs every scenario against it first, with
its own emulator, then against the checkout; the machine's load average is printed with each, since
other work on the machine moves every figure. ``--scenarios`` runs only some (e.g.
``mutate-pod,mutate-pod-reconciling``; the floor always runs).

    python benchmarks/webhook_latency.py [--rate 200] [--seconds 30] [--reconcile 1000]
        [--reference main] [--scenarios mutate-pod,mutate-pod-reconciling] [--reconcile-nice N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import ssl
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import aiohttp.web
import kmock
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "operator"))

from tests.integration.emulator import DirectApiEmulator, declare_cluster  # noqa: E402
from tests.integration.kubectl import collection_url  # noqa: E402
from tests.integration.webhooks import free_port  # noqa: E402

sys.path.insert(0, str(ROOT / "benchmarks"))
from flink_tm_memory.runtime.certificates import generate_certificates  # noqa: E402
from operator_throughput import (  # noqa: E402
    DEPLOYMENTS,
    all_ready,
    cpu_seconds,
    create_all,
    deployment,
    export_revision,
    kubeconfig,
    memory,
    rss,
)

SCRIPT = Path(sys.executable).parent / "flink-tm-memory"
SAMPLES = ROOT / "manifests" / "samples"
NAMESPACE = "default"
MEMORIES = "flinkmemory.io/v1alpha1/flinktaskmanagermemories"
CONCURRENCY = 50
RECONCILE_TIMEOUT = 600.0
Json = dict[str, Any]


@dataclass(frozen=True)
class Scenario:
    name: str
    path: str
    review: Json


@dataclass(frozen=True)
class Server:
    base: str
    pid: int


@dataclass(frozen=True)
class Latencies:
    scenario: str
    operator: str
    requests: int
    errors: int
    achieved_rate: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    p999_ms: float
    max_ms: float
    server_cpu_percent: float
    """The operator's CPU, all its processes, in % of one core."""
    admission_cpu_percent: float | None
    """Of which its admission process's (``None``: admission served inside the operator's process)."""
    server_rss_mib: float
    """The resident memory of the operator's processes together when the scenario ended."""
    admission_rss_mib: float | None
    """Of which its admission process's."""
    load_average: float
    """The machine's 1-minute load average when the scenario ended."""


def main() -> int:
    arguments = parse_arguments()
    if arguments.serve_emulator:
        asyncio.run(serve_emulator(arguments.reconcile))
        return 0
    if arguments.serve_floor:
        port, cert_dir = arguments.serve_floor
        aiohttp.web.run_app(
            floor_app(), host="127.0.0.1", port=int(port), ssl_context=server_tls(Path(cert_dir))
        )
        return 0
    wanted = frozenset(arguments.scenarios.split(",")) if arguments.scenarios else None
    results: list[Latencies] = []
    with tempfile.TemporaryDirectory() as scratch_name:
        operators: list[tuple[str, Path | None]] = [("current", None)]
        if arguments.reference != "none":
            exported = export_revision(arguments.reference, Path(scratch_name) / "reference")
            operators.insert(0, (arguments.reference, exported))
        for index, (label, source) in enumerate(operators):
            results += asyncio.run(
                measure(
                    arguments.rate,
                    arguments.seconds,
                    arguments.warmup,
                    arguments.reconcile,
                    label=label,
                    source=source,
                    wanted=wanted,
                    extra=()
                    if source is not None or arguments.reconcile_nice is None
                    else ("--reconcile-nice", str(arguments.reconcile_nice)),
                    floor=index == len(operators) - 1,
                )
            )
    print(report(results, arguments.rate))
    return 0


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=float, default=200.0, help="requests per second (default 200)")
    parser.add_argument(
        "--seconds", type=float, default=30.0, help="measured seconds per scenario (default 30)"
    )
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds at the rate before measuring (3)")
    parser.add_argument(
        "--reconcile",
        type=int,
        default=1000,
        help="resources the operator reconciles during mutate-pod-reconciling (default 1000; 0: skip it)",
    )
    parser.add_argument(
        "--reference", default="none", help="git revision to measure first, side by side (default none)"
    )
    parser.add_argument(
        "--scenarios",
        default="",
        help="comma-separated: validate-valid, validate-conflicting, mutate-pod, mutate-pod-reconciling "
        "(default all)",
    )
    parser.add_argument(
        "--reconcile-nice",
        type=int,
        default=None,
        help="pass --reconcile-nice N to the current operator (default: its own default; the reference "
        "gets nothing)",
    )
    parser.add_argument("--serve-emulator", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--serve-floor", nargs=2, metavar=("PORT", "CERT_DIR"), help=argparse.SUPPRESS)
    return parser.parse_args()


# ------------------------------------------------------------------------------------------- measuring


async def measure(
    rate: float,
    seconds: float,
    warmup: float,
    reconcile: int,
    *,
    label: str,
    source: Path | None,
    wanted: frozenset[str] | None,
    floor: bool,
    extra: tuple[str, ...] = (),
) -> list[Latencies]:
    """Every wanted scenario against one operator (``source``: another revision's tree), then the floor."""

    def chosen(name: str) -> bool:
        return wanted is None or name in wanted

    with tempfile.TemporaryDirectory() as scratch_name:
        scratch = Path(scratch_name)
        certificates = scratch / "tls"
        generate_certificates(certificates, ["127.0.0.1"])
        trust = ssl.create_default_context(cafile=str(certificates / "ca.crt"))
        results: list[Latencies] = []
        emulator_command = (sys.executable, __file__, "--serve-emulator", "--reconcile", str(reconcile))
        async with background(*emulator_command, log=scratch / "emulator.log") as emulator_process:
            server = await read_url(emulator_process)
            async with operator(server, scratch, certificates, source, extra) as served:
                await answering(served.base, trust)
                for scenario in scenarios():
                    if not chosen(scenario.name):
                        continue
                    results.append(
                        await run_scenario(
                            served, scenario, trust, rate=rate, seconds=seconds, warmup=warmup, label=label
                        )
                    )
                if reconcile and chosen("mutate-pod-reconciling"):
                    pods = scenarios()[2]
                    results.append(
                        await run_scenario(
                            served,
                            Scenario(f"mutate-pod-reconciling-{reconcile}", pods.path, pods.review),
                            trust,
                            rate=rate,
                            seconds=RECONCILE_TIMEOUT,
                            warmup=warmup,
                            load=emulator_process,
                            label=label,
                        )
                    )
        if not floor:
            return results
        floor_port = free_port()
        command = (sys.executable, __file__, "--serve-floor", str(floor_port), str(certificates))
        async with background(*command, log=scratch / "floor.log") as floor_process:
            base = Server(f"https://127.0.0.1:{floor_port}", floor_process.pid)
            await answering(base.base, trust)
            floor = scenarios()[2]
            results.append(
                await run_scenario(
                    base,
                    Scenario("floor", floor.path, floor.review),
                    trust,
                    rate=rate,
                    seconds=seconds,
                    warmup=warmup,
                    label="floor",
                )
            )
    return results


async def run_scenario(
    server: Server,
    scenario: Scenario,
    trust: ssl.SSLContext,
    *,
    rate: float,
    seconds: float,
    warmup: float,
    load: asyncio.subprocess.Process | None = None,
    label: str = "",
) -> Latencies:
    """Posts ``scenario``'s review at ``rate`` for ``warmup + seconds``; latencies of the last ``seconds``.

    With ``load`` (the emulator's process), the load starts when the warm-up ends, and the measurement
    ends when the emulator reports every resource Ready: requests due after that are not sent.
    """
    payload = json.dumps(scenario.review).encode()
    url = f"{server.base}/{scenario.path}"
    total = int((warmup + seconds) * rate)
    skipped = int(warmup * rate)
    latencies: list[float] = []
    errors = 0
    connector = aiohttp.TCPConnector(ssl=trust, limit=64)
    async with aiohttp.ClientSession(
        connector=connector, headers={"Content-Type": "application/json"}
    ) as session:
        loop = asyncio.get_running_loop()
        start = loop.time() + 0.1

        finished = asyncio.Event()
        sent: set[int] = set()

        async def one(index: int) -> None:
            nonlocal errors
            due = start + index / rate
            await asyncio.sleep(max(0.0, due - loop.time()))
            if finished.is_set():
                return
            sent.add(index)
            try:
                async with session.post(url, data=payload) as answer:
                    body = await answer.read()
                    ok = answer.status == 200 and b'"response"' in body
            except aiohttp.ClientError:
                ok = False
            elapsed = loop.time() - due
            if index >= skipped:
                latencies.append(elapsed)
                errors += not ok

        requests = [asyncio.create_task(one(index)) for index in range(total)]
        await asyncio.sleep(max(0.0, start + skipped / rate - loop.time()))
        admission = children(server.pid)  # the admission process, if the operator has one
        cpu_before = process_cpu(server.pid, admission)
        if load is not None:
            await start_load(load)
            finished.set()
            ended = loop.time()
            for index, request in enumerate(requests):
                if index not in sent:
                    request.cancel()
            cpu_after = process_cpu(server.pid, admission)
        await asyncio.gather(*requests, return_exceptions=True)
        if load is None:
            ended, cpu_after = loop.time(), process_cpu(server.pid, admission)
        span = ended - (start + skipped / rate)
        admission_mib = sum(resident(pid) for pid in admission)
        memory_mib = resident(server.pid) + admission_mib
    latencies.sort()
    return Latencies(
        scenario=scenario.name,
        operator=label,
        requests=len(latencies),
        errors=errors,
        achieved_rate=round(len(latencies) / span, 1),
        p50_ms=percentile(latencies, 50),
        p90_ms=percentile(latencies, 90),
        p99_ms=percentile(latencies, 99),
        p999_ms=percentile(latencies, 99.9),
        max_ms=round(latencies[-1] * 1000, 2),
        server_cpu_percent=round(100 * (sum(cpu_after) - sum(cpu_before)) / span, 1),
        admission_cpu_percent=round(100 * (cpu_after[1] - cpu_before[1]) / span, 1) if admission else None,
        server_rss_mib=round(memory_mib, 1),
        admission_rss_mib=round(admission_mib, 1) if admission else None,
        load_average=round(os.getloadavg()[0], 2),
    )


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (``/proc/<pid>/stat`` field 4)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text(encoding="utf-8").rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def process_cpu(pid: int, others: list[int]) -> tuple[float, float]:
    """CPU seconds of ``pid`` and of ``others`` together (0 for a process that is gone)."""

    def of(each: int) -> float:
        try:
            return cpu_seconds(each)
        except OSError:
            return 0.0

    return of(pid), sum(of(other) for other in others)


def resident(pid: int) -> float:
    try:
        return rss(pid)
    except OSError:
        return 0.0


async def start_load(emulator: asyncio.subprocess.Process) -> None:
    """Asks the emulator's process to create its resources; returns when it reports them all Ready."""
    assert emulator.stdin is not None
    assert emulator.stdout is not None
    emulator.stdin.write(b"go\n")
    await emulator.stdin.drain()
    line = await asyncio.wait_for(emulator.stdout.readline(), timeout=RECONCILE_TIMEOUT)
    if not line.startswith(b"ready"):
        raise RuntimeError(f"the emulator's load did not complete: {line!r}")


def percentile(sorted_seconds: list[float], percent: float) -> float:
    index = min(len(sorted_seconds) - 1, max(0, round(percent / 100 * len(sorted_seconds)) - 1))
    return round(sorted_seconds[index] * 1000, 2)


def scenarios() -> list[Scenario]:
    valid = sample("process-size")
    conflicting = sample("conflicting")
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "generateName": "flink-taskmanager-7d9f8-",
            "namespace": NAMESPACE,
            "labels": {"app": "flink", "component": "taskmanager", "flinkmemory.io/profile": "process-size"},
        },
        "spec": {
            "containers": [
                {
                    "name": "taskmanager",
                    "image": "flink:2.2",
                    "args": ["taskmanager"],
                    "env": [
                        {"name": "FLINK_PROPERTIES", "value": "jobmanager.rpc.address: flink-jobmanager"}
                    ],
                }
            ]
        },
    }
    memory = ("flinkmemory.io", "v1alpha1", "FlinkTaskManagerMemory", "flinktaskmanagermemories")
    pods = ("", "v1", "Pod", "pods")
    return [
        Scenario("validate-valid", "validate-memory", review("CREATE", valid, memory)),
        Scenario("validate-conflicting", "validate-memory", review("CREATE", conflicting, memory)),
        Scenario("mutate-pod", "mutate-pod", review("CREATE", pod, pods)),
    ]


def review(operation: str, obj: Json, kind: tuple[str, str, str, str]) -> Json:
    group, version, kind_name, plural = kind
    return {
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": str(uuid.uuid4()),
            "kind": {"group": group, "version": version, "kind": kind_name},
            "resource": {"group": group, "version": version, "resource": plural},
            "requestKind": {"group": group, "version": version, "kind": kind_name},
            "requestResource": {"group": group, "version": version, "resource": plural},
            "name": obj["metadata"].get("name", ""),
            "namespace": NAMESPACE,
            "operation": operation,
            "userInfo": {"username": "system:serviceaccount:kube-system:replicaset-controller"},
            "object": obj,
            "oldObject": None,
            "dryRun": False,
            "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"},
        },
    }


def sample(name: str) -> Json:
    document: Json = yaml.safe_load((SAMPLES / f"{name}.yaml").read_text(encoding="utf-8"))
    document["metadata"]["namespace"] = NAMESPACE
    return document


# ------------------------------------------------------------------------------------------- processes


@asynccontextmanager
async def background(
    *command: str | Path, log: Path, environment: dict[str, str] | None = None
) -> AsyncIterator[asyncio.subprocess.Process]:
    with log.open("wb") as sink:
        process = await asyncio.create_subprocess_exec(
            *command, env=environment, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=sink
        )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.terminate()
            await asyncio.wait_for(process.wait(), timeout=60)


async def read_url(process: asyncio.subprocess.Process) -> str:
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), timeout=60)
    if not line:
        raise RuntimeError("the emulator process ended before printing its URL")
    return line.decode().strip()


@asynccontextmanager
async def operator(
    server: str, scratch: Path, certificates: Path, source: Path | None = None, extra: tuple[str, ...] = ()
) -> AsyncIterator[Server]:
    """The shipped operator (of ``source``, another revision's tree, if given) with its webhooks on a free
    loopback port; yields its base URL and pid."""
    config = scratch / "kubeconfig"
    config.write_text(yaml.safe_dump(kubeconfig(server)), encoding="utf-8")
    environment = {**os.environ, "KUBECONFIG": str(config)}
    if source is not None:
        environment["PYTHONPATH"] = str(source)
    environment.pop("KUBERNETES_SERVICE_HOST", None)
    port = free_port()
    command = (
        SCRIPT, "run", "--log-format", "plain", "--webhook-port", str(port), "--webhook-listen", "127.0.0.1",
        "--webhook-cert-dir", str(certificates), *extra,
    )  # fmt: skip
    async with background(*command, log=scratch / "operator.log", environment=environment) as process:
        yield Server(f"https://127.0.0.1:{port}", process.pid)


async def answering(base: str, trust: ssl.SSLContext, timeout: float = 60) -> None:
    """Until the server at ``base`` answers over TLS (any HTTP status)."""
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=trust)) as session:
        while True:
            try:
                async with session.get(base):
                    return
            except aiohttp.ClientError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.1)


async def serve_emulator(reconcile: int) -> None:
    """The API server for the operator: one FlinkTaskManagerMemory; prints its URL, serves until killed.

    ``reconcile`` Deployments are created first; on a line ``go`` on stdin, as many
    FlinkTaskManagerMemories targeting them are created, and ``ready`` is printed once all are Ready.
    """
    async with DirectApiEmulator() as emulator, kmock.Server(emulator):
        declare_cluster(emulator)
        async with emulator.post(
            collection_url(MEMORIES, NAMESPACE), json=sample("process-size")
        ) as response:
            if response.status >= 300:
                raise RuntimeError(await response.text())
        await create_all(
            emulator, DEPLOYMENTS, (deployment(index) for index in range(reconcile)), CONCURRENCY
        )
        print(emulator.url, flush=True)
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        while await reader.readline() == b"go\n":
            await create_all(emulator, MEMORIES, (memory(index) for index in range(reconcile)), CONCURRENCY)
            await all_ready(emulator, reconcile + 1, timeout=RECONCILE_TIMEOUT)
            print("ready", flush=True)
        await asyncio.Event().wait()


def floor_app() -> aiohttp.web.Application:
    async def allow(request: aiohttp.web.Request) -> aiohttp.web.Response:
        review = json.loads(await request.read())
        response = {"uid": review["request"]["uid"], "allowed": True}
        return aiohttp.web.json_response(
            {**{k: review[k] for k in ("apiVersion", "kind")}, "response": response}
        )

    app = aiohttp.web.Application()
    app.add_routes([aiohttp.web.post("/{path:.*}", allow)])
    return app


def server_tls(cert_dir: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_dir / "tls.crt", cert_dir / "tls.key")
    return context


# ------------------------------------------------------------------------------------------- reporting


def report(results: list[Latencies], rate: float) -> str:
    floor = next(result for result in results if result.scenario == "floor")
    lines = [
        f"Admission webhook latency over HTTPS at {rate:g} requests/s ({machine()})",
        "",
        "| operator | scenario | requests | errors | rate/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms "
        "| p50 / floor | p99 / floor | server CPU, % of a core | of which admission process | server RSS MiB "
        "| of which admission process | load average |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for result in results:
        admission = "" if result.admission_cpu_percent is None else result.admission_cpu_percent
        admission_rss = "" if result.admission_rss_mib is None else result.admission_rss_mib
        lines.append(
            f"| {result.operator} | {result.scenario} | {result.requests} | {result.errors} "
            f"| {result.achieved_rate} | {result.p50_ms} | {result.p90_ms} | {result.p99_ms} | {result.p999_ms} "
            f"| {result.max_ms} | {result.p50_ms / floor.p50_ms:.2f}x | {result.p99_ms / floor.p99_ms:.2f}x "
            f"| {result.server_cpu_percent} | {admission} | {result.server_rss_mib} | {admission_rss} "
            f"| {result.load_average} |"
        )
    for result in results:
        idle = next(
            (r for r in results if r.scenario == "mutate-pod" and r.operator == result.operator), None
        )
        if idle is not None and result.scenario.startswith("mutate-pod-reconciling"):
            lines.append(
                f"\n{result.operator}: {result.scenario} / mutate-pod (idle operator): "
                f"p50 {result.p50_ms / idle.p50_ms:.2f}x, p99 {result.p99_ms / idle.p99_ms:.2f}x, "
                f"p99.9 {result.p999_ms / idle.p999_ms:.2f}x"
            )
    return "\n".join(lines)


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"


if __name__ == "__main__":
    sys.exit(main())
