"""The drift loop's schedule: every known resource once per pass, spread out; failures retried alone."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import replace

import pytest

from flink_tm_memory.control.drift import DriftLoop
from flink_tm_memory.control.state import Key
from flink_tm_memory.runtime.options import OperatorOptions

pytestmark = (
    pytest.mark.looptime
)  # the loop's clock is fake: the schedule is exact, whatever the machine's load
A, B, C, D = ("flink", "a"), ("flink", "b"), ("flink", "c"), ("flink", "d")
OPTIONS = OperatorOptions(drift_interval=1.0, retry_delay=0.01, max_retry_delay=0.05)


class Checks:
    """Records each check (key and loop time); fails or raises as told, per key."""

    def __init__(
        self, *, failures: dict[Key, int] | None = None, errors: dict[Key, int] | None = None
    ) -> None:
        self.calls: list[tuple[Key, float]] = []
        self._failures = dict(failures or {})
        self._errors = dict(errors or {})

    async def __call__(self, key: Key) -> bool:
        self.calls.append((key, asyncio.get_running_loop().time()))
        if self._errors.get(key):
            self._errors[key] -= 1
            raise RuntimeError("a bug in one check")
        if self._failures.get(key):
            self._failures[key] -= 1
            return True
        return False

    @property
    def keys(self) -> list[Key]:
        return [key for key, _ in self.calls]

    async def until(self, count: int, timeout: float = 10.0) -> None:
        async with asyncio.timeout(timeout):
            while len(self.calls) < count:
                await asyncio.sleep(0.005)


@contextlib.asynccontextmanager
async def running(loop: DriftLoop) -> AsyncIterator[None]:
    task = asyncio.create_task(loop.run())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def drift_loop(
    known: Callable[[], list[Key]], checks: Checks, options: OperatorOptions = OPTIONS
) -> DriftLoop:
    return DriftLoop(options, known=known, check=checks)


async def test_a_failed_check_is_retried_alone_before_the_next_pass() -> None:
    checks = Checks(failures={A: 2})

    async with running(drift_loop(lambda: [A, B], checks)):
        await checks.until(6)

    assert checks.keys[:6] == [A, B, A, A, A, B]


async def test_a_retry_tries_one_check_first_and_the_others_only_once_it_passed() -> None:
    checks = Checks(failures={A: 2, B: 1})

    async with running(drift_loop(lambda: [A, B, C], checks)):
        await checks.until(9)

    # the pass; A alone, failing again (B not tried, A goes last); B, then A; the next pass
    assert checks.keys[:9] == [A, B, C, A, B, A, A, B, C]


async def test_a_check_that_raises_is_logged_and_retried_and_the_loop_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    checks = Checks(errors={A: 1})

    with caplog.at_level(logging.ERROR, logger="flink_tm_memory.control.drift"):
        async with running(drift_loop(lambda: [A, B], checks)):
            await checks.until(5)

    assert checks.keys[:5] == [A, B, A, A, B]
    [record] = caplog.records
    assert record.getMessage() == "Drift check of flink/a failed"
    assert record.exc_info is not None


async def test_the_checks_of_a_pass_are_spread_over_the_interval() -> None:
    checks = Checks()
    options = replace(OPTIONS, drift_interval=0.4)

    async with running(drift_loop(lambda: [A, B, C, D], checks, options)):
        await checks.until(4)

    times = [at for _, at in checks.calls[:4]]
    assert all(later - earlier >= 0.099 for earlier, later in itertools.pairwise(times))


async def test_each_pass_checks_the_resources_known_when_it_starts() -> None:
    known = [A]
    checks = Checks()

    async with running(drift_loop(lambda: list(known), checks, replace(OPTIONS, drift_interval=0.1))):
        await checks.until(1)
        known[:] = [B, C]
        await checks.until(3)

    assert checks.keys[:3] == [A, B, C]


async def test_no_more_checks_run_at_once_than_the_reconcile_concurrency() -> None:
    running_now, most = 0, 0

    async def slow_check(key: Key) -> bool:
        nonlocal running_now, most
        running_now += 1
        most = max(most, running_now)
        await asyncio.sleep(0.05)
        running_now -= 1
        return False

    keys = [("flink", f"r{index}") for index in range(12)]
    options = replace(OPTIONS, drift_interval=0.01, reconcile_concurrency=3)
    loop = DriftLoop(options, known=lambda: keys, check=slow_check)

    async with running(loop):
        await asyncio.sleep(0.4)

    assert most == 3
