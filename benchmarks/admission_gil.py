"""What a busy thread in the operator's process costs the admission server: the GIL, at two switch intervals.

The admission server has an event loop of its own in a thread, but shares the process, and so Python's
GIL, with kopf's loop. This isolates that cost from everything else a full benchmark measures: the
admission server (``runtime.admission``, the real pod webhook step answering from a cache holding the
``process-size`` sample) runs in a process of its own, optionally beside a second thread spinning pure
Python (a stand-in for kopf's loop during a burst), with the GIL switch interval given; one HTTPS
client (keep-alive, the CA verified) sends the benchmark's pod review one request after another.
Closed loop: the figures are service times, not queueing. Prints p50 / p90 / p99; asserts nothing.

    python benchmarks/admission_gil.py [--requests 500] [--warmup 100]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "operator"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from flink_tm_memory.cluster.memory_cache import slim_memory  # noqa: E402
from flink_tm_memory.control.mutation import MUTATE_ID, PODS, PodMutator  # noqa: E402
from flink_tm_memory.runtime.admission.server import AdmissionServer, Webhook  # noqa: E402
from flink_tm_memory.runtime.admission.tls import ServingTls  # noqa: E402
from flink_tm_memory.runtime.certificates import generate_certificates, mounted_certificates  # noqa: E402
from webhook_latency import free_port, sample, scenarios  # noqa: E402

CASES = (("none", 0.005), ("spinning", 0.005), ("spinning", 0.001))


class _Cache:
    def __init__(self) -> None:
        self._resource = slim_memory(sample("process-size"))

    def get(self, namespace: str, name: str) -> dict[str, object] | None:
        return self._resource


def _spin() -> None:
    total = 0
    while True:
        for number in range(10_000):
            total += number * number


async def serve(port: int, cert_dir: Path, interval: float, spinning: bool) -> None:
    sys.setswitchinterval(interval)
    server = AdmissionServer(
        listen="127.0.0.1",
        port=port,
        tls=ServingTls(mounted_certificates(cert_dir)),
        webhooks=(Webhook(MUTATE_ID, PODS, PodMutator(None, _Cache())),),  # type: ignore[arg-type]
    )
    await server.start()
    if spinning:
        threading.Thread(target=_spin, daemon=True).start()
    print("ready", flush=True)
    await asyncio.Event().wait()


async def measure(second: str, interval: float, requests: int, warmup: int) -> str:
    with tempfile.TemporaryDirectory() as scratch:
        cert_dir = Path(scratch)
        generate_certificates(cert_dir, ["127.0.0.1"])
        port = free_port()
        command = [sys.executable, __file__, "--serve", str(port), str(cert_dir), str(interval), second]
        server = subprocess.Popen(command, stdout=subprocess.PIPE)
        try:
            assert server.stdout is not None
            server.stdout.readline()
            trust = ssl.create_default_context(cafile=str(cert_dir / "ca.crt"))
            payload = json.dumps(scenarios()[2].review).encode()
            url = f"https://127.0.0.1:{port}/{MUTATE_ID}"
            latencies: list[float] = []
            connector = aiohttp.TCPConnector(ssl=trust)
            headers = {"Content-Type": "application/json"}
            async with aiohttp.ClientSession(connector=connector, headers=headers) as session:
                for _ in range(warmup + requests):
                    started = time.perf_counter()
                    async with session.post(url, data=payload) as answer:
                        await answer.read()
                        assert answer.status == 200
                    latencies.append(time.perf_counter() - started)
        finally:
            server.terminate()
            server.wait()
    measured = sorted(latencies[warmup:])

    def at(percent: float) -> float:
        return round(measured[min(len(measured) - 1, int(percent / 100 * len(measured)))] * 1000, 2)

    return f"| {second} | {interval * 1000:g} ms | {at(50)} | {at(90)} | {at(99)} |"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--serve", nargs=4, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.serve:
        port, cert_dir, interval, second = arguments.serve
        asyncio.run(serve(int(port), Path(cert_dir), float(interval), second == "spinning"))
        return 0
    print("| second thread | GIL switch interval | p50 ms | p90 ms | p99 ms |")
    print("|---|---|---|---|---|")
    for second, interval in CASES:
        print(asyncio.run(measure(second, interval, arguments.requests, arguments.warmup)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
