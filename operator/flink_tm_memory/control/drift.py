"""The drift check: one loop for the whole operator checks every FlinkTaskManagerMemory once per interval.

Someone may edit a workload's resources, a target may appear after its resource, kopf may drop a
change: every ``drift_interval`` seconds each resource is reconciled again, which writes nothing
unless something drifted. One loop does it rather than a kopf timer per resource, because kopf keeps
the whole last-seen body of every resource that has a timer (a FlinkTaskManagerMemory with its
status, as Python objects), a task, and a finalizer on the resource: a large share of the operator's
memory (benchmarks/README.md, "Operator"), and a patch and a watch event per new resource. The loop
keeps only the resources' names.

The names are those kopf's change handlers were given (every resource is resumed when the operator
starts, and created or updated after); a check that finds its resource gone forgets it. A pass
checks every name known when it starts, spread evenly over the interval, so the API server sees a
steady trickle, not a burst every interval; each check reads its resource afresh inside the
resource's lock (``Reconciler.check_drift``). Checks that hit an API failure that may pass are
retried, only those, after the reconciler's doubling delays, until they succeed or the next pass
comes: one schedule for the whole operator, however many resources an outage caught. A retry tries
one check first, and the others only if it passed: during an outage each retry costs the absent API
server one attempt, not one per resource, and a full pass tries no more often than the checks of a
healthy operator do.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from flink_tm_memory.control.state import Key
from flink_tm_memory.runtime.options import OperatorOptions

logger = logging.getLogger(__name__)

Check = Callable[[Key], Awaitable[bool]]
"""Checks one resource; ``True`` when the check must be retried."""


class DriftLoop:
    """Runs the drift checks of every known resource, forever (``run``), while the operator runs."""

    def __init__(self, options: OperatorOptions, *, known: Callable[[], Sequence[Key]], check: Check) -> None:
        self._options = options
        self._known = known
        self._check = check
        self._slots = asyncio.Semaphore(options.reconcile_concurrency)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        interval = self._options.drift_interval
        next_pass = loop.time() + interval
        retries = 0
        failed: list[Key] = []
        while True:
            retry_at = loop.time() + self._options.retry_delay_after(retries)
            if failed and retry_at < next_pass:
                await asyncio.sleep(retry_at - loop.time())
                retries += 1
                failed = await self._retry(failed)
            else:
                await asyncio.sleep(max(next_pass - loop.time(), 0.0))
                next_pass = max(next_pass + interval, loop.time())
                retries = 0
                failed = await self._check_all(self._known(), spread=interval)
            if failed:
                logger.warning(f"Drift check: {len(failed)} resources hit an API failure; retrying them")

    async def _retry(self, keys: Sequence[Key]) -> list[Key]:
        """Retries the first of ``keys`` alone, then, if it passed, the others; returns those to retry.

        A first that fails again goes last, so one resource failing for its own reasons does not hold
        back the retries of the others.
        """
        if await self._failed(keys[0]):
            return [*keys[1:], keys[0]]
        return await self._check_all(keys[1:], spread=0.0)

    async def _check_all(self, keys: Sequence[Key], *, spread: float) -> list[Key]:
        """Checks ``keys``, starting them evenly over ``spread`` seconds; returns those to retry."""
        loop = asyncio.get_running_loop()
        started, step = loop.time(), spread / max(len(keys), 1)
        failed: list[Key] = []

        async def check(key: Key) -> None:
            try:
                if await self._failed(key):
                    failed.append(key)
            finally:
                self._slots.release()

        async with asyncio.TaskGroup() as group:
            for index, key in enumerate(keys):
                await asyncio.sleep(max(started + index * step - loop.time(), 0.0))
                await self._slots.acquire()
                group.create_task(check(key))
        return failed

    async def _failed(self, key: Key) -> bool:
        """Checks one resource; whether the check must be retried."""
        try:
            return await self._check(key)
        except Exception:  # a bug in one check must not end the checks of every resource
            logger.exception(f"Drift check of {key[0]}/{key[1]} failed")
            return True
