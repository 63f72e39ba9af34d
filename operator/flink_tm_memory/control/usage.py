"""The usage loop: polls each resource's JobManager, keeps the window in the status, applies Auto and Initial.

One loop for the whole operator, running only where reconciliation runs (the leader, beside the
drift loop in ``service.runner``): a standby replica polls nothing and writes nothing, and a new
leader continues the window from ``status.usage``.

Each resource with ``spec.recommendations`` is polled every ``pollInterval``: the resource is read,
its JobManager sampled (``cluster.flink_rest``), and ``render.usage_step`` decides the status, the
Events and whether the reconciler must write an automatic change, which it then does at once
(``Reconciler.check_drift``: the same path a drift check takes, inside the resource's lock). The
status patch touches only ``usage``, ``recommendation`` and ``autoUpdates``; the reconciler carries
those over untouched (and drops them once the spec no longer asks for recommendations), so neither
overwrites the other.

Bounded: at most ``USAGE_CONCURRENCY`` polls at once (and the client's own bound on requests), a
timeout on every request, and a poll that failed waits twice as long as the one before, up to
``MAX_BACKOFF`` intervals, so an unreachable JobManager costs a request now and then, not a
retry storm. Only resources whose spec, as last reconciled, has ``spec.recommendations`` are
polled (``Reconciler.recommending``): the others cost nothing here. Whatever fails in one poll (an
API error, a bug) is logged and retried later; it never ends the loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

from flink_tm_memory.cluster.client import ClusterClient
from flink_tm_memory.cluster.errors import ApiError, ObjectNotFoundError
from flink_tm_memory.cluster.flink_rest import JobManagerClient
from flink_tm_memory.cluster.objects import memory_api
from flink_tm_memory.control.events import EventPoster
from flink_tm_memory.control.state import Key
from flink_tm_memory.render.metadata import MemoryRef
from flink_tm_memory.render.recommendation import read_settings
from flink_tm_memory.render.usage_step import job_manager_url, usage_step

logger = logging.getLogger(__name__)

USAGE_CONCURRENCY = 32
IDLE_RECHECK = 60.0
"""Seconds before a resource that could not be polled (an API failure, a spec just edited) is tried again."""
MAX_BACKOFF = 8
"""A failing JobManager is polled at most every this many poll intervals."""
TICK = 1.0
"""The loop's longest sleep: a resource that appears is polled within a second."""


def poll_delay(interval: int, failures: int) -> float:
    """Seconds to the next poll after ``failures`` failed polls in a row: doubled each time, at most
    ``MAX_BACKOFF`` intervals."""
    return float(interval * min(2 ** min(failures, MAX_BACKOFF), MAX_BACKOFF))


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class UsageLoop:
    """Polls every known resource's JobManager on its own schedule, forever (``run``)."""

    def __init__(
        self,
        client: ClusterClient,
        *,
        known: Callable[[], Sequence[Key]],
        reconcile: Callable[[Key], Awaitable[bool]],
        events: EventPoster,
        job_managers: JobManagerClient | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._client = client
        self._known = known
        self._reconcile = reconcile
        self._events = events
        self._job_managers = job_managers or JobManagerClient()
        self._clock = clock
        self._slots = asyncio.Semaphore(USAGE_CONCURRENCY)
        self._due: dict[Key, float] = {}
        self._failures: dict[Key, int] = {}
        self._running: set[Key] = set()
        self._woken: set[Key] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                now = loop.time()
                known = self._known()
                for key in list(self._due):
                    if key not in known and key not in self._running:
                        self._forget(key)
                for key in known:
                    due = self._due.setdefault(key, now)
                    if due <= now and key not in self._running:
                        self._running.add(key)
                        task = asyncio.create_task(self._poll(key))
                        self._tasks.add(task)
                        task.add_done_callback(self._tasks.discard)
                upcoming = [due for key, due in self._due.items() if key not in self._running]
                await asyncio.sleep(min([TICK, *(max(due - now, 0.05) for due in upcoming)]))
        finally:
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            await self._job_managers.close()

    def wake(self, key: Key) -> None:
        """Polls ``key`` now (or again as soon as its poll under way ends), whatever its schedule.

        The OOM watch calls it once it recorded a kill: an OOM kill's fix is applied by the next poll
        (even a failing one), and it must not wait out a failing JobManager's back-off.
        """
        if key in self._running:
            self._woken.add(key)
        elif key in self._due:
            self._due[key] = 0.0

    def _forget(self, key: Key) -> None:
        self._due.pop(key, None)
        self._failures.pop(key, None)
        self._woken.discard(key)

    async def _poll(self, key: Key) -> None:
        loop = asyncio.get_running_loop()
        next_in = IDLE_RECHECK
        try:
            async with self._slots:
                next_in = await self._poll_once(key)
        except asyncio.CancelledError:
            raise
        except Exception:  # one resource's failure must not end the polls of every resource
            logger.exception(f"Usage poll of {key[0]}/{key[1]} failed")
        finally:
            self._running.discard(key)
            if key in self._due:
                self._due[key] = 0.0 if key in self._woken else loop.time() + next_in
            self._woken.discard(key)

    async def _poll_once(self, key: Key) -> float:
        """Polls one resource; the seconds until its next poll."""
        api = memory_api(self._client)
        try:
            body = await api.read(*key)
        except ApiError:
            return IDLE_RECHECK
        if body is None or (body.get("metadata") or {}).get("deletionTimestamp"):
            self._forget(key)
            return IDLE_RECHECK
        settings = read_settings(body.get("spec") or {})
        if settings is None:  # just edited away (or invalid): the reconciler says why, and drops the fields
            self._failures.pop(key, None)
            return IDLE_RECHECK
        url = job_manager_url(body.get("spec") or {}, key[0])
        assert url is not None  # the spec's model insists on one
        sample = await self._job_managers.sample(url)
        step = usage_step(body, sample, self._clock())
        written = await self._write(key, step.patch)
        self._events.post(MemoryRef.from_body(body), step.events)
        if step.reconcile and written:
            await self._reconcile(key)
        failures = 0 if step.sampled else min(self._failures.get(key, 0) + 1, MAX_BACKOFF)
        self._failures[key] = failures
        return poll_delay(settings.poll_interval, failures)

    async def _write(self, key: Key, patch: dict[str, object]) -> bool:
        if not patch:
            return True
        try:
            await memory_api(self._client).patch_status(key[0], key[1], patch)
        except ObjectNotFoundError:
            self._forget(key)
            return False
        except ApiError as error:
            logger.warning(f"Usage status of {key[0]}/{key[1]} not written: {error}")
            return False
        return True
