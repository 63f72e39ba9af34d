"""The real operator (kopf) against an emulated API server, both started per test, talking HTTP.

The operator runs through ``run_operator``, the entry point of ``flink-tm-memory run``, in a thread
with its own event loop (as ``kopf.testing.KopfRunner`` runs kopf's command line), while the emulator
serves from the test's loop. Not in the test's loop: kopf's shutdown cancels every task created after
the operator started, which in a shared loop includes pytest-asyncio's fixture finalizers and the
emulator's request handlers. ``KopfRunner`` itself is not used because it runs kopf's command line on
a module's global registry, where the operator builds its own registry and settings. The thread
shares nothing with the test but HTTP. Timings are shortened (a drift check every 0.4 s, retries
after 0.1 s) so a scenario takes about a second.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import AsyncIterator, Awaitable, Callable

import kmock
import pytest

from flink_tm_memory.runtime.options import OperatorOptions
from flink_tm_memory.service.runner import run_operator
from tests.integration.emulator import ApiEmulator, declare_cluster
from tests.integration.kubectl import Kubectl

STARTUP_TIMEOUT = 30.0  # generous: the machine may be busy (a deadline, not a wait)
# Cluster-wide, as `flink-tm-memory run` by default: kmock 0.8 cannot serve /api/v1/namespaces, which
# kopf lists to resolve namespace names (v1/namespaces is still declared: kopf's discovery waits for it).
TEST_OPTIONS = OperatorOptions(
    drift_interval=0.4,
    retry_delay=0.1,
    max_retry_delay=1.0,
    request_timeout=1.0,
    api_backoffs=(0.05, 0.1, 0.2, 0.3),
    consistency_timeout=0.5,
    watch_reconnect_backoff=0.05,
)

StartOperator = Callable[..., Awaitable["OperatorThread"]]


@pytest.fixture
async def emulator() -> AsyncIterator[ApiEmulator]:
    async with ApiEmulator() as server, kmock.Server(server):
        declare_cluster(server)
        yield server


@pytest.fixture
def kubectl(emulator: ApiEmulator) -> Kubectl:
    return Kubectl(emulator)


class OperatorThread:
    """``run_operator`` in a thread of its own, with its own event loop; stopped by a flag."""

    def __init__(self, options: OperatorOptions) -> None:
        self.options = options
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="operator", daemon=True)

    def _run(self) -> None:
        try:
            asyncio.run(run_operator(self.options, stop_flag=self._stop, ready_flag=self._ready))
        except BaseException as error:  # reported by stop(), in the test's thread
            self._failure = error

    async def start(self) -> None:
        self._thread.start()
        started = await asyncio.to_thread(self._ready.wait, STARTUP_TIMEOUT)
        assert started, f"the operator did not start within {STARTUP_TIMEOUT} s: {self._failure!r}"

    async def stop(self) -> None:
        if not self._thread.is_alive():
            return
        self._stop.set()
        await asyncio.to_thread(self._thread.join, STARTUP_TIMEOUT)
        assert not self._thread.is_alive(), "the operator did not stop"
        if self._failure is not None:
            raise self._failure


@pytest.fixture
async def start_operator(emulator: ApiEmulator) -> AsyncIterator[StartOperator]:
    """Starts the operator with the test options, changed by keyword arguments (``server``: the emulator's
    URL unless given); stops it after the test."""
    running: list[OperatorThread] = []

    async def start(**changes: object) -> OperatorThread:
        changes.setdefault("server", str(emulator.url))
        options = dataclasses.replace(TEST_OPTIONS, **changes)  # type: ignore[arg-type]
        operator = OperatorThread(options)
        running.append(operator)
        await operator.start()
        return operator

    yield start
    await _quiet(emulator)
    for operator in running:
        await operator.stop()


async def _quiet(emulator: ApiEmulator, *, for_seconds: float = 0.05, limit: float = 2.0) -> None:
    """Waits until the API server has had no request for a moment (bounded by ``limit``).

    kopf gives the per-object workers still processing an event time to finish (its exit timeout)
    when it stops. Stopping a quiet operator avoids that wait; it changes nothing a test asserts.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    seen = len(list(emulator))
    while loop.time() < deadline:
        await asyncio.sleep(for_seconds)
        if len(list(emulator)) == seen:
            return
        seen = len(list(emulator))


@pytest.fixture
async def operator(start_operator: StartOperator) -> OperatorThread:
    """The operator, running with the test options."""
    return await start_operator()
