"""``flink-tm-memory run`` serves admission from a child process: restarted when killed, never orphaned.

The shipped command runs against the emulated API server (through a kubeconfig, as in a cluster)
with its webhooks and metrics on loopback ports:

- admission is answered by a child process (``service.admission_child``), not by the operator's;
  its answers are counted on the operator's ``/metrics``;
- the child SIGKILLed: the operator logs it at ERROR naming the signal, reports not ready, starts
  a new child, is ready again and answers; the webhook counters go on from where they were;
- a correct denial is logged at INFO, never at ERROR;
- SIGTERM: the operator exits 0 and its child is gone; SIGKILL of the operator: the kernel ends the
  child too (``PR_SET_PDEATHSIG``), no orphan.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import ssl
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp
import pytest
import yaml

from flink_tm_memory.control.admission import VALIDATE_ID
from flink_tm_memory.runtime.certificates import CA_FILE
from flink_tm_memory.service.admission import ADMISSION_CHECK
from flink_tm_memory.service.admission_child import CHILD_MODULE
from tests.integration.emulator import ApiEmulator
from tests.integration.health import HealthClient
from tests.integration.test_command_line import kubeconfig
from tests.integration.test_validating_webhook import review
from tests.integration.test_validating_webhook import sample as validating_sample
from tests.integration.webhooks import free_port

SCRIPT = Path(sys.executable).parent / "flink-tm-memory"
LOADED = 60.0
"""How long a wait may take on a busy machine: waits end as soon as the condition holds."""
DENIED = 'flink_tm_memory_webhook_requests_total{outcome="denied",webhook="validate-memory"}'
STARTS = "flink_tm_memory_admission_process_starts_total"


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
    return found


def admission_child(pid: int) -> int | None:
    for child in children(pid):
        with contextlib.suppress(OSError):
            if CHILD_MODULE.encode() in Path(f"/proc/{child}/cmdline").read_bytes():
                return child
    return None


def nice(pid: int) -> int:
    """The nice value of ``pid``'s main thread (``/proc/<pid>/stat`` field 19)."""
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])


def gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state == "Z"  # a zombie has ended; only its parent's wait is missing


async def until(condition: Callable[[], object], what: str, timeout: float = LOADED) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout} s"
        await asyncio.sleep(0.05)


class Running:
    def __init__(
        self, process: asyncio.subprocess.Process, log: Path, health: HealthClient, url: str
    ) -> None:
        self.process, self.log, self.health, self.url = process, log, health, url

    async def until_ready(self) -> None:
        deadline = time.monotonic() + LOADED
        while (status := await self.health.get("/readyz?verbose"))[0] != 200:
            assert time.monotonic() < deadline, status
            await asyncio.sleep(0.05)

    async def denied(self) -> float:
        return await self.sample(DENIED)

    async def sample(self, name: str) -> float:
        for line in (await self.health.get("/metrics"))[1].splitlines():
            if line.startswith(f"{name} "):
                return float(line.split()[-1])
        return 0.0


@pytest.fixture
async def running(emulator: ApiEmulator, tmp_path: Path) -> AsyncIterator[Running]:
    config = tmp_path / "kubeconfig"
    config.write_text(yaml.safe_dump(kubeconfig(str(emulator.url))), encoding="utf-8")
    scratch = tmp_path / "tmp"  # the operator's $TMPDIR: where its admission process's metric files go
    scratch.mkdir()
    environment = {**os.environ, "KUBECONFIG": str(config), "TMPDIR": str(scratch)}
    environment.pop("KUBERNETES_SERVICE_HOST", None)
    port, metrics_port, log = free_port(), free_port(), tmp_path / "operator.log"
    certificates = tmp_path / "tls"
    with log.open("wb") as sink:
        process = await asyncio.create_subprocess_exec(
            SCRIPT, "run", "--log-format", "full",
            "--webhook-port", str(port), "--webhook-listen", "127.0.0.1",
            "--webhook-self-signed", "127.0.0.1,localhost", "--webhook-cert-dir", str(certificates),
            "--metrics-port", str(metrics_port), "--metrics-listen", "127.0.0.1", "--reconcile-nice", "10",
            env=environment, stdout=sink, stderr=sink,
        )  # fmt: skip
    try:
        async with aiohttp.ClientSession() as plain:
            health = HealthClient(plain, metrics_port)
            await health.wait_listening(LOADED)
            yield Running(process, log, health, f"https://localhost:{port}/{VALIDATE_ID}")
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def post_denied(running: Running, trust: ssl.SSLContext) -> None:
    connector = aiohttp.TCPConnector(ssl=trust, force_close=True)
    async with (
        aiohttp.ClientSession(connector=connector) as session,
        session.post(running.url, json=review("CREATE", validating_sample("conflicting"))) as answer,
    ):
        assert answer.status == 200
        assert (await answer.json())["response"]["allowed"] is False


async def test_admission_is_a_child_restarted_after_a_kill_that_never_outlives_the_operator(
    running: Running, tmp_path: Path
) -> None:
    await running.until_ready()
    trust = ssl.create_default_context(cafile=str(tmp_path / "tls" / CA_FILE))
    first = admission_child(running.process.pid)
    assert first is not None, "no admission process under the operator"
    # Reconciliation yields the CPU (--reconcile-nice 10, given here); admission keeps its priority.
    assert nice(running.process.pid) == nice(first) + 10

    await post_denied(running, trust)
    assert await running.denied() == 1
    assert await running.sample(STARTS) == 1

    os.kill(first, signal.SIGKILL)
    deadline = time.monotonic() + LOADED
    while (status := await running.health.get(f"/readyz/{ADMISSION_CHECK}"))[0] != 503:
        assert time.monotonic() < deadline, status
        await asyncio.sleep(0.02)
    assert "signal SIGKILL" in status[1]
    await running.until_ready()
    second = admission_child(running.process.pid)
    assert second not in (None, first)
    assert second is not None
    assert nice(second) == nice(running.process.pid) - 10  # a restarted child keeps the priority too
    await post_denied(running, trust)
    assert await running.denied() == 2  # the dead child's count is kept
    assert await running.sample(STARTS) == 2  # one restart: what an alert watches
    files = sorted(path.name for path in (tmp_path / "tmp").glob("flink-tm-memory-webhook-metrics-*/*"))
    assert files == ["counter_admission.db", "histogram_admission.db"]  # reopened, not one set per child

    log = running.log.read_text()
    assert "[ERROR   ] The admission process ended unexpectedly (signal SIGKILL); restarting it in 1 s" in log
    denials = [line for line in log.splitlines() if "Denied CREATE FlinkTaskManagerMemory" in line]
    assert len(denials) == 2
    assert all("[INFO    ]" in line for line in denials), denials  # the webhook doing its job

    running.process.kill()
    await running.process.wait()
    await until(lambda: gone(second), "the orphaned admission process's end", timeout=10.0)


async def test_on_sigterm_the_operator_exits_0_and_its_admission_process_with_it(running: Running) -> None:
    await running.until_ready()
    child = admission_child(running.process.pid)
    assert child is not None
    running.process.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(running.process.wait(), timeout=LOADED) == 0, running.log.read_text()
    assert gone(child)
