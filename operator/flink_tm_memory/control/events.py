"""Posting the operator's Events in the background, oldest first, best-effort.

Every Event about a FlinkTaskManagerMemory (a write, a new conflict, a missing target, a repaired
ConfigMap) goes through one ``EventPoster``, whichever path found it: kopf's change handlers, the
ConfigMap watch, or the operator-wide drift loop, which runs outside kopf's per-object context (where
``kopf.event`` cannot post). ``post`` never waits: a reconciliation is not held up by an Event.
``SENDERS`` tasks send them, oldest first, through the operator's client (so they are counted with
its other requests): one alone fell behind a burst of 10 000 new resources (two Events each) and
dropped a sixth of them. Two Events of one resource may reach the API server in either order; each
carries the time it happened. A failure that may pass is retried after each of the given backoffs,
then the Event is dropped with a warning, as kopf does with its own. Events are a record for people, not state: when
more than ``capacity`` wait (a long outage), the newest are dropped and counted in the log instead of
growing the queue without bound.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flink_tm_memory.cluster.client import ClusterClient
from flink_tm_memory.cluster.errors import ApiError, ObjectNotFoundError, WriteConflictError
from flink_tm_memory.cluster.objects import event_api
from flink_tm_memory.render.events import EventSpec, Reporter, render_event_object
from flink_tm_memory.render.metadata import MemoryRef

logger = logging.getLogger(__name__)

CAPACITY = 10_000
"""Events waiting at most; about 2 per new resource, so a burst of thousands fits."""
SENDERS = 4
"""Events in flight at once."""


@dataclass(frozen=True, slots=True)
class _Pending:
    memory: MemoryRef
    event: EventSpec
    at: datetime


def utc_now_precise() -> datetime:
    return datetime.now(UTC)


class EventPoster:
    """A queue of Events and the loops that post them (``senders``, for as long as the operator runs)."""

    def __init__(
        self,
        client: ClusterClient,
        reporter: Reporter,
        backoffs: Sequence[float],
        *,
        capacity: int = CAPACITY,
        clock: Callable[[], datetime] = utc_now_precise,
    ) -> None:
        self._events = event_api(client)
        self._reporter = reporter
        self._backoffs = tuple(backoffs)
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue(capacity)
        self._clock = clock
        self._dropped = 0

    def post(self, memory: MemoryRef, events: Iterable[EventSpec]) -> None:
        """Queues ``events`` about ``memory``, stamped now; returns at once."""
        for event in events:
            try:
                self._queue.put_nowait(_Pending(memory, event, self._clock()))
            except asyncio.QueueFull:
                self._dropped += 1

    def senders(self) -> list[Coroutine[Any, Any, None]]:
        """The sending loops, to run as tasks for as long as the operator runs."""
        return [self._sender() for _ in range(SENDERS)]

    async def _sender(self) -> None:
        while True:
            pending = await self._queue.get()
            if self._dropped:
                logger.warning(
                    f"Dropped {self._dropped} Events: more than {self._queue.maxsize} were waiting"
                )
                self._dropped = 0
            await self._send(pending)

    async def _send(self, pending: _Pending) -> None:
        body = render_event_object(pending.memory, pending.event, self._reporter, pending.at)
        for delay in (*self._backoffs, None):
            try:
                await self._events.create(pending.memory.namespace, body)
            except (ApiError, ObjectNotFoundError, WriteConflictError) as error:
                if not isinstance(error, ApiError) or not error.transient or delay is None:
                    logger.warning(
                        f"Failed to post Event reason={pending.event.reason} "
                        f"about={pending.memory.namespace}/{pending.memory.name} error={str(error)!r}"
                    )
                    return
                await asyncio.sleep(delay)
            else:
                return
