"""Leader election through a ``coordination.k8s.io/v1`` Lease, with client-go's semantics.

Several replicas run; only the one holding the Lease reconciles (``service.runner`` runs kopf, the
drift loop and the Event senders only inside ``LeaderElector.lead``); every replica keeps serving
health, metrics and admission. The rules are client-go's ``leaderelection`` package's, so the Lease
reads the same to ``kubectl``, to other tools and to people who know controller-runtime:

- **Acquire**: a standby reads the Lease every retry period (with a small jitter). It may take it
  when nobody holds it (no Lease, or ``holderIdentity`` empty: released) or when the holder's record
  has not changed for ``leaseDurationSeconds`` *as this replica observed it*: expiry is judged from
  the local monotonic time at which this replica last saw the record change, never from the
  ``renewTime`` written by another machine, so clock skew between nodes cannot shorten a lease. When
  that moment comes before the next retry, the standby tries right then (client-go waits for its next
  retry): the same rule, applied up to a retry period sooner.
- **Identity**: the pod's name. A container restarted in the same pod (an OOM kill, a crash) finds
  its own name in the Lease and renews it at once instead of waiting out the lease: safe, since the
  kubelet starts it only after the previous process has ended.
- **Write**: every write is a create (``409`` if another replica created it first) or a PUT of the
  Lease as read, so the API server refuses it if anyone wrote in between (its ``resourceVersion``):
  two replicas never both believe they won. Taking over from another holder sets ``acquireTime``
  and counts ``leaseTransitions``; renewing keeps both.
- **Renew**: the leader renews every retry period. If no renewal has succeeded for the renew
  deadline (shorter than the lease duration, so it gives up before any standby may take over), it
  has lost the Lease: ``lead`` cancels the work at once and raises ``LeadershipLostError``. The
  process then exits non-zero, as controller-runtime's managers do, and the kubelet restarts it as a
  standby: kopf's in-memory state (its workers, indexes, what it has seen) is not made to be
  restarted within one process, and a fresh process cannot carry any of it over.
- **Release**: on a graceful stop (SIGTERM, the stop flag), once the work has ended and nothing is
  written any more, the leader writes ``holderIdentity: ""`` and ``leaseDurationSeconds: 1``, as
  client-go's ``ReleaseOnCancel``: a standby takes over at its next retry instead of waiting out the
  lease, so a rolling restart hands over in about the retry period. A process that is killed
  releases nothing; a standby then waits out the lease duration.

Deviation from client-go: the acquire loop's jitter is 10 % of the retry period, not 120 %. Jitter
only keeps many candidates from asking at the same instant; an operator has two or three, and a
smaller jitter keeps a released Lease's handover within the retry period.

Clock and sleeps are injected (``Clock``), so the state machine runs in the unit tests on a fake
clock; the API goes through ``cluster.objects.Lease``.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
import os
import random
import socket
import time
import uuid
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from flink_tm_memory.cluster.client import Json
from flink_tm_memory.cluster.errors import ApiError, ObjectNotFoundError, WriteConflictError
from flink_tm_memory.runtime.health import CheckResult
from flink_tm_memory.runtime.options import LeaderElectionOptions

LEADER_ELECTION_CHECK = "leader-election"
"""The ``/readyz`` line that says whether this replica leads; never failing (a standby is ready)."""
JITTER = 0.1
"""A standby waits between one and 1.1 retry periods between two attempts (see the docstring)."""
RELEASED_LEASE_DURATION = 1
"""``leaseDurationSeconds`` of a released Lease, as client-go writes it."""
RELEASE_ATTEMPTS = 3
EXPIRY_MARGIN = 0.01
"""Seconds after a holder's lease expires (as observed here) at which a standby tries to take it."""

logger = logging.getLogger(__name__)


class LeadershipLostError(Exception):
    """The leader could not renew its Lease within the renew deadline; it must stop writing now."""


class Clock(Protocol):
    """Time for the election: a monotonic clock for expiry, the wall clock for the Lease's fields."""

    def monotonic(self) -> float: ...

    def now(self) -> datetime.datetime: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clocks and ``asyncio.sleep``."""

    def monotonic(self) -> float:
        return time.monotonic()

    def now(self) -> datetime.datetime:
        return datetime.datetime.now(datetime.UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class LeaseStore(Protocol):
    """The three calls the election makes (``cluster.objects.Lease``)."""

    async def read(self) -> Json | None: ...

    async def create(self, spec: Json) -> Json: ...

    async def replace(self, lease: Json, spec: Json) -> Json: ...


def default_identity() -> str:
    """The pod's name (``POD_NAME`` from the downward API); else the host name and a random suffix."""
    return os.environ.get("POD_NAME") or f"{socket.gethostname()}_{uuid.uuid4().hex[:8]}"


def micro_time(moment: datetime.datetime) -> str:
    """A ``MicroTime`` as the API server stores it: RFC 3339 in UTC with microseconds."""
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True, slots=True)
class LeaderStatus:
    """What this replica knows of the election, for ``/readyz``, metrics and logs."""

    leading: bool
    holder: str | None
    """Who holds the Lease as last seen; ``None``: nobody (absent or released), or not read yet."""
    transitions: int | None
    """The Lease's ``leaseTransitions`` as last seen; ``None``: not read yet."""


class LeaderElector:
    """One replica's side of the election: acquire, renew, release, and ``lead`` to run work meanwhile."""

    def __init__(
        self,
        lease: LeaseStore,
        options: LeaderElectionOptions,
        *,
        clock: Clock | None = None,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._lease = lease
        self.options = options
        self._clock = clock if clock is not None else SystemClock()
        self._jitter = jitter
        self._observed: Json | None = None
        """The Lease's spec as last read or written."""
        self._observed_body: Json | None = None
        """The whole Lease as last read or written (its ``resourceVersion`` is the next write's condition)."""
        self._observed_at: float | None = None
        """Monotonic time at which ``_observed`` last changed: the start of the holder's lease, for us."""
        self._renewed_at: float | None = None
        """Monotonic time of this replica's last successful acquisition or renewal."""
        self.leading = False
        self._attempting = asyncio.Lock()
        """Held during each attempt, so the renewal is never cancelled mid-request before a release."""

    # ------------------------------------------------------------------------------- the state machine

    @property
    def status(self) -> LeaderStatus:
        spec = self._observed or {}
        transitions = spec.get("leaseTransitions")
        return LeaderStatus(
            leading=self.leading,
            holder=spec.get("holderIdentity") or None,
            transitions=int(transitions) if isinstance(transitions, int) else None,
        )

    async def try_acquire_or_renew(self) -> bool:
        """One attempt: ``True`` if this replica holds the Lease afterwards (client-go's ``tryAcquireOrRenew``)."""
        now = self._clock.now()
        lease = await self._lease.read()
        if lease is None:
            spec = self._spec(now, acquire_time=now, transitions=0)
            try:
                written = await self._lease.create(spec)
            except WriteConflictError:
                return False  # another replica created it first: read it next time
            return self._won(written)
        self._observe(lease)
        spec = self._observed or {}
        holder = spec.get("holderIdentity") or ""
        mine = holder == self.options.identity
        if holder and not mine and not self._expired(spec):
            self.leading = False
            return False
        transitions = _int(spec.get("leaseTransitions"))
        if mine:
            acquire_time = spec.get("acquireTime") or micro_time(now)
        else:  # taken over, from a holder or from nobody (released): a transition, as client-go counts
            acquire_time, transitions = micro_time(now), transitions + 1
        new_spec = self._spec(now, acquire_time=acquire_time, transitions=transitions)
        try:
            written = await self._lease.replace(lease, new_spec)
        except (WriteConflictError, ObjectNotFoundError):
            return False  # someone wrote (or deleted it) since our read
        return self._won(written)

    async def release(self) -> bool:
        """Gives the Lease up if this replica holds it (``holderIdentity`` empty, duration 1 s).

        Written over the Lease as last seen; if it changed since (a renewal that was still on its way
        when it was given up), read again and release that, as long as it still names this replica.
        """
        if not self.leading or self._observed_body is None:
            return False
        self.leading = False
        lease: Json | None = self._observed_body
        try:
            for _ in range(RELEASE_ATTEMPTS):
                if lease is None or (lease.get("spec") or {}).get("holderIdentity") != self.options.identity:
                    return False  # not ours any more: nothing to give up
                try:
                    written = await self._lease.replace(lease, self._released(lease))
                except WriteConflictError:
                    lease = await self._lease.read()
                    continue
                self._observe(written)
                logger.info(f"Released the Lease {self._where}.")
                return True
            raise WriteConflictError(f"still changing after {RELEASE_ATTEMPTS} attempts")
        except (WriteConflictError, ObjectNotFoundError, ApiError) as error:
            logger.warning(f"Could not release the Lease {self._where}: {error}; a standby waits it out.")
            return False

    def _released(self, lease: Json) -> Json:
        now = micro_time(self._clock.now())
        return {
            "holderIdentity": "",
            "leaseDurationSeconds": RELEASED_LEASE_DURATION,
            "acquireTime": now,
            "renewTime": now,
            "leaseTransitions": _int((lease.get("spec") or {}).get("leaseTransitions")),
        }

    def _spec(
        self, now: datetime.datetime, *, acquire_time: datetime.datetime | str, transitions: int
    ) -> Json:
        return {
            "holderIdentity": self.options.identity,
            "leaseDurationSeconds": max(1, round(self.options.lease_duration)),
            "acquireTime": acquire_time if isinstance(acquire_time, str) else micro_time(acquire_time),
            "renewTime": micro_time(now),
            "leaseTransitions": transitions,
        }

    def _observe(self, lease: Json) -> None:
        spec = lease.get("spec") or {}
        if spec != self._observed:
            self._observed = dict(spec)
            self._observed_at = self._clock.monotonic()
        self._observed_body = lease

    def _expired(self, spec: Json) -> bool:
        duration = _int(spec.get("leaseDurationSeconds"))
        assert self._observed_at is not None  # set by _observe
        return self._observed_at + duration <= self._clock.monotonic()

    def _won(self, written: Json) -> bool:
        if not self.leading:
            spec = written.get("spec") or {}
            logger.info(
                f"Leading: acquired the Lease {self._where} as {self.options.identity} "
                f"(transitions: {spec.get('leaseTransitions')})."
            )
        self._observe(written)
        self._renewed_at = self._clock.monotonic()
        self.leading = True
        return True

    @property
    def _where(self) -> str:
        return f"{self.options.namespace}/{self.options.name}"

    # ------------------------------------------------------------------------------- the loops

    async def acquire(self) -> None:
        """Returns once this replica holds the Lease, trying every retry period (jittered)."""
        reported: str | None = None
        while True:
            try:
                if await self._attempt(self.options.renew_deadline):
                    return
            except ApiError as error:
                logger.warning(f"Could not read or take the Lease {self._where}: {error}; retrying.")
            holder = self.status.holder
            if holder != reported and holder is not None:
                logger.info(f"Standing by: {holder} holds the Lease {self._where}.")
                reported = holder
            await self._clock.sleep(self._until_next_attempt())

    def _until_next_attempt(self) -> float:
        """A retry period (jittered), or less if the holder's lease expires sooner: then just after it."""
        wait = self.options.retry_period * (1.0 + JITTER * self._jitter())
        spec = self._observed or {}
        if spec.get("holderIdentity") and self._observed_at is not None:
            expires_in = self._observed_at + _int(spec.get("leaseDurationSeconds")) - self._clock.monotonic()
            if expires_in > 0:
                wait = min(wait, expires_in + EXPIRY_MARGIN)
        return wait

    async def renew_until_lost(self) -> None:
        """Renews every retry period; returns when no renewal succeeded for the renew deadline."""
        while True:
            await self._clock.sleep(self.options.retry_period)
            while True:
                assert self._renewed_at is not None  # set when acquired
                remaining = self._renewed_at + self.options.renew_deadline - self._clock.monotonic()
                if remaining <= 0:
                    self.leading = False
                    return
                try:
                    if await self._attempt(remaining):
                        break
                except ApiError as error:
                    logger.warning(f"Could not renew the Lease {self._where}: {error}; retrying.")
                if not self.leading:
                    return  # someone else holds it: we lost it already
                await self._clock.sleep(min(self.options.retry_period, max(remaining, 0.0)))

    async def _attempt(self, deadline: float) -> bool:
        """One ``try_acquire_or_renew``, given up after ``deadline`` seconds (the request may hang)."""
        try:
            async with self._attempting, asyncio.timeout(deadline):
                return await self.try_acquire_or_renew()
        except TimeoutError:
            raise ApiError(f"no answer within {deadline:.1f} s", transient=True) from None

    async def lead(self, work: Callable[[], Coroutine[Any, Any, None]], stopping: asyncio.Event) -> None:
        """Acquires the Lease (unless ``stopping`` is set first), then runs ``work`` while renewing.

        ``work`` ends when the process stops (it watches ``stopping`` or its own signals): the Lease is
        then released. If the Lease is lost, ``work`` is cancelled at once and ``LeadershipLostError``
        is raised. If this coroutine is cancelled (the process dies), nothing is released.
        """
        if not await _first(self.acquire(), stopping):
            return
        # Both tasks exist before ``work`` starts kopf: kopf, when it stops, cancels every task created
        # after it started, and must not take the renewal with it.
        renewing = asyncio.create_task(self.renew_until_lost(), name="lease renewal")
        working = asyncio.create_task(work(), name="leading")
        try:
            done, _ = await asyncio.wait({renewing, working}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            for task in (renewing, working):
                task.cancel()
            raise
        if working not in done:
            working.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await working
            renewing.result()
            message = (
                f"Lost the Lease {self._where}: not renewed within {self.options.renew_deadline:g} s; "
                f"stopped reconciling, exiting so that the process restarts as a standby."
            )
            logger.error(message)
            raise LeadershipLostError(message)
        async with self._attempting:  # a renewal on its way lands first: the release then follows it
            renewing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await renewing
        try:
            working.result()
        finally:
            await self.release()

    # ------------------------------------------------------------------------------- health, metrics

    def check(self) -> CheckResult:
        """The ``/readyz`` line: always ok (a standby serves admission), saying who leads."""
        status = self.status
        if status.leading:
            return CheckResult(True, f"leading: {self.options.identity} holds the Lease {self._where}")
        holder = status.holder or "nobody"
        return CheckResult(True, f"standby: {holder} holds the Lease {self._where}")


async def _first(waiting: Coroutine[Any, Any, None], stopping: asyncio.Event) -> bool:
    """Runs ``waiting`` until it returns (``True``) or ``stopping`` is set first (``False``)."""
    task = asyncio.create_task(waiting)
    stop = asyncio.create_task(stopping.wait())
    try:
        await asyncio.wait({task, stop}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for pending in (task, stop):
            pending.cancel()
        for pending in (task, stop):
            with contextlib.suppress(asyncio.CancelledError):
                await pending
    if not task.done() or task.cancelled():
        return False
    task.result()  # an unexpected failure of ``waiting`` is raised, never taken for "stopped"
    return True


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


class LeadershipCollector(Collector):
    """``flink_tm_memory_leader`` (1 while this replica leads) and the Lease's transitions as last seen."""

    def __init__(self, status: Callable[[], LeaderStatus], prefix: str) -> None:
        self._status = status
        self._prefix = prefix

    def collect(self) -> Iterator[Metric]:
        status = self._status()
        yield GaugeMetricFamily(
            f"{self._prefix}_leader",
            "1 while this replica holds the leader Lease and reconciles, else 0 (a standby).",
            value=1.0 if status.leading else 0.0,
        )
        if status.transitions is not None:
            yield GaugeMetricFamily(
                f"{self._prefix}_leader_lease_transitions",
                "The leader Lease's leaseTransitions as this replica last saw it: how often leadership moved.",
                value=float(status.transitions),
            )


def standalone_status() -> LeaderStatus:
    """Without leader election the one replica always leads."""
    return LeaderStatus(leading=True, holder=None, transitions=None)
