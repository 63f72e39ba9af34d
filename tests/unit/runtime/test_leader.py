"""The leader election's state machine on a fake clock: acquire, renew, expiry, conflicts, release, loss."""

from __future__ import annotations

import asyncio
import copy
import datetime
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from flink_tm_memory.cluster.errors import ApiError, ObjectNotFoundError, WriteConflictError
from flink_tm_memory.runtime.health import CheckResult
from flink_tm_memory.runtime.leader import (
    LeaderElector,
    LeadershipCollector,
    LeadershipLostError,
    LeaderStatus,
    micro_time,
)
from flink_tm_memory.runtime.options import LeaderElectionOptions

Json = dict[str, Any]
EPOCH = datetime.datetime(2026, 12, 7, 12, 0, tzinfo=datetime.UTC)


class FakeClock:
    """Monotonic seconds from 0; a wall clock ``skew`` seconds off; sleeps advance time at once."""

    def __init__(self, skew: float = 0.0) -> None:
        self.seconds = 0.0
        self.skew = skew
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.seconds

    def now(self) -> datetime.datetime:
        return EPOCH + datetime.timedelta(seconds=self.seconds + self.skew)

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.seconds += seconds
        await asyncio.sleep(0)


class LeaseServer:
    """One Lease as the API server keeps it: resourceVersion checked on every replace."""

    def __init__(self) -> None:
        self.body: Json | None = None
        self.revision = 0
        self.writes: list[Json] = []
        self.failure: Exception | None = None
        """Raised by every request while set (an outage, a 403)."""
        self.pause_reads = False
        """Yield to the loop after each read, so two replicas can interleave read and write."""

    def _bump(self, body: Json) -> Json:
        self.revision += 1
        body["metadata"]["resourceVersion"] = str(self.revision)
        self.body = body
        self.writes.append(copy.deepcopy(body["spec"]))
        return copy.deepcopy(body)


class LeaseView:
    """One replica's client of the ``LeaseServer`` (``cluster.objects.Lease``'s three calls)."""

    def __init__(self, server: LeaseServer) -> None:
        self.server = server

    async def read(self) -> Json | None:
        if self.server.failure is not None:
            raise self.server.failure
        found = copy.deepcopy(self.server.body)
        if self.server.pause_reads:
            await asyncio.sleep(0)
        return found

    async def create(self, spec: Json) -> Json:
        if self.server.failure is not None:
            raise self.server.failure
        if self.server.body is not None:
            raise WriteConflictError("leases.coordination.k8s.io already exists")
        return self.server._bump({"metadata": {"name": "lease", "namespace": "ops"}, "spec": dict(spec)})

    async def replace(self, lease: Json, spec: Json) -> Json:
        if self.server.failure is not None:
            raise self.server.failure
        if self.server.body is None:
            raise ObjectNotFoundError("gone")
        if lease["metadata"]["resourceVersion"] != self.server.body["metadata"]["resourceVersion"]:
            raise WriteConflictError("the object has been modified")
        return self.server._bump({**copy.deepcopy(lease), "spec": dict(spec)})


def options(identity: str, **changes: float) -> LeaderElectionOptions:
    return LeaderElectionOptions(namespace="ops", identity=identity, name="lease", **changes)


def elector(server: LeaseServer, identity: str, clock: FakeClock | None = None) -> LeaderElector:
    return LeaderElector(LeaseView(server), options(identity), clock=clock or FakeClock(), jitter=lambda: 0.5)


async def test_the_first_replica_creates_the_lease_and_renews_it_keeping_acquire_time_and_transitions() -> (
    None
):
    server, clock = LeaseServer(), FakeClock()
    a = elector(server, "pod-a", clock)

    assert await a.try_acquire_or_renew()
    assert a.leading
    assert server.writes[-1] == {
        "holderIdentity": "pod-a",
        "leaseDurationSeconds": 15,
        "acquireTime": "2026-12-07T12:00:00.000000Z",
        "renewTime": "2026-12-07T12:00:00.000000Z",
        "leaseTransitions": 0,
    }
    clock.seconds = 2.5
    assert await a.try_acquire_or_renew()
    assert server.writes[-1]["renewTime"] == "2026-12-07T12:00:02.500000Z"
    assert server.writes[-1]["acquireTime"] == "2026-12-07T12:00:00.000000Z"
    assert server.writes[-1]["leaseTransitions"] == 0
    assert a.status == LeaderStatus(leading=True, holder="pod-a", transitions=0)


async def test_a_standby_takes_over_only_a_lease_duration_after_it_saw_the_record_change() -> None:
    server = LeaseServer()
    a = elector(server, "pod-a")
    assert await a.try_acquire_or_renew()
    # pod-b's wall clock is an hour ahead: renewTime, written by pod-a, says the lease expired long ago.
    b_clock = FakeClock(skew=3600.0)
    b_clock.seconds = 100.0
    b = elector(server, "pod-b", b_clock)

    assert not await b.try_acquire_or_renew()  # first sight of the record: the lease starts now, for b
    assert b.status == LeaderStatus(leading=False, holder="pod-a", transitions=0)
    b_clock.seconds = 114.9
    assert not await b.try_acquire_or_renew()
    b_clock.seconds = 115.0
    assert await b.try_acquire_or_renew()
    assert server.writes[-1]["holderIdentity"] == "pod-b"
    assert server.writes[-1]["leaseTransitions"] == 1
    assert server.writes[-1]["acquireTime"] == micro_time(b_clock.now())


async def test_a_standby_tries_again_right_after_the_lease_expires_not_a_whole_retry_later() -> None:
    server, clock = LeaseServer(), FakeClock()
    assert await elector(server, "pod-a").try_acquire_or_renew()
    b = elector(server, "pod-b", clock)
    assert not await b.try_acquire_or_renew()  # observed at 0: expires at 15 for b
    clock.seconds = 14.0

    await asyncio.wait_for(b.acquire(), timeout=5)

    assert b.leading
    assert clock.slept == [pytest.approx(1.01)]  # not the retry period (2.1 s with this jitter)


async def test_every_renewal_seen_restarts_the_standbys_wait() -> None:
    server, a_clock, b_clock = LeaseServer(), FakeClock(), FakeClock()
    a, b = elector(server, "pod-a", a_clock), elector(server, "pod-b", b_clock)
    assert await a.try_acquire_or_renew()
    for step in range(1, 20):  # a renews every 2 s for 38 s; b looks every 2 s and never may take over
        a_clock.seconds = b_clock.seconds = 2.0 * step
        assert await a.try_acquire_or_renew()
        assert not await b.try_acquire_or_renew()
    b_clock.seconds += 14.0  # a stopped renewing: not yet
    assert not await b.try_acquire_or_renew()
    b_clock.seconds += 1.0
    assert await b.try_acquire_or_renew()


async def test_of_two_replicas_writing_the_same_read_only_one_wins() -> None:
    server = LeaseServer()
    a = elector(server, "pod-a")
    assert await a.try_acquire_or_renew()
    assert await a.release()
    server.pause_reads = True  # both read the released Lease before either writes
    b, c = elector(server, "pod-b"), elector(server, "pod-c")

    won = await asyncio.gather(b.try_acquire_or_renew(), c.try_acquire_or_renew())

    assert sorted(won) == [False, True]
    assert [b.leading, c.leading].count(True) == 1
    assert server.body is not None
    assert server.body["spec"]["holderIdentity"] == ("pod-b" if b.leading else "pod-c")


async def test_two_replicas_creating_the_lease_at_once_settle_on_one() -> None:
    server = LeaseServer()
    server.pause_reads = True
    a, b = elector(server, "pod-a"), elector(server, "pod-b")
    won = await asyncio.gather(a.try_acquire_or_renew(), b.try_acquire_or_renew())
    assert sorted(won) == [False, True]
    assert len(server.writes) == 1


async def test_a_released_lease_is_taken_at_the_next_attempt_and_counts_a_transition() -> None:
    server = LeaseServer()
    a, b = elector(server, "pod-a"), elector(server, "pod-b")
    assert await a.try_acquire_or_renew()
    assert not await b.try_acquire_or_renew()

    assert await a.release()

    assert not a.leading
    assert server.writes[-1] == {
        "holderIdentity": "",
        "leaseDurationSeconds": 1,
        "acquireTime": "2026-12-07T12:00:00.000000Z",
        "renewTime": "2026-12-07T12:00:00.000000Z",
        "leaseTransitions": 0,
    }
    assert not await a.release()  # nothing to give up any more
    assert await b.try_acquire_or_renew()  # no wait: nobody holds it
    assert server.writes[-1]["holderIdentity"] == "pod-b"
    assert server.writes[-1]["leaseTransitions"] == 1


async def test_a_release_after_a_late_renewal_releases_the_newer_version_but_never_another_holders() -> None:
    server = LeaseServer()
    a = elector(server, "pod-a")
    assert await a.try_acquire_or_renew()
    assert server.body is not None
    server._bump(copy.deepcopy(server.body))  # a renewal that landed after a stopped watching

    assert await a.release()
    assert server.writes[-1]["holderIdentity"] == ""

    assert await a.try_acquire_or_renew()
    server.body["spec"]["holderIdentity"] = "pod-z"
    server._bump(copy.deepcopy(server.body))
    assert not await a.release()
    assert server.body["spec"]["holderIdentity"] == "pod-z"


async def test_a_release_that_fails_is_logged_and_leaves_the_lease_to_expire(
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = LeaseServer()
    a = elector(server, "pod-a")
    assert await a.try_acquire_or_renew()
    server.failure = ApiError("the API server answered 503", transient=True)
    assert not await a.release()
    assert not a.leading
    assert "Could not release the Lease ops/lease" in caplog.text


async def test_acquire_keeps_trying_every_retry_period_through_failures_until_it_leads() -> None:
    server, clock = LeaseServer(), FakeClock()
    server.failure = ApiError("the API server answered 403 Forbidden", transient=False)
    b = elector(server, "pod-b", clock)
    waiting = asyncio.create_task(b.acquire())
    while clock.seconds < 10.0:
        await asyncio.sleep(0)
    assert not waiting.done()
    server.failure = None
    await asyncio.wait_for(waiting, timeout=5)
    assert b.leading
    assert set(clock.slept) == {2.0 * 1.05}  # the retry period and the jitter (0.5 of 10 %)


async def test_the_leader_gives_up_when_no_renewal_succeeds_within_the_renew_deadline() -> None:
    server, clock = LeaseServer(), FakeClock()
    a = elector(server, "pod-a", clock)
    assert await a.try_acquire_or_renew()
    server.failure = ApiError("the API server did not answer: ReadTimeoutError", transient=True)

    await asyncio.wait_for(a.renew_until_lost(), timeout=5)

    assert not a.leading
    assert clock.seconds == pytest.approx(10.0)  # the renew deadline after the last renewal, not later
    assert clock.seconds < 15.0  # before any standby may take over


async def test_the_leader_stops_at_once_when_another_holds_the_lease() -> None:
    server, clock = LeaseServer(), FakeClock()
    a = elector(server, "pod-a", clock)
    assert await a.try_acquire_or_renew()
    assert server.body is not None
    server.body["spec"]["holderIdentity"] = "pod-z"  # e.g. written by hand, or after a long pause

    await asyncio.wait_for(a.renew_until_lost(), timeout=5)

    assert not a.leading
    assert clock.seconds == pytest.approx(2.0)


async def test_a_renewal_conflict_is_retried_within_the_deadline() -> None:
    server, clock = LeaseServer(), FakeClock()
    a = elector(server, "pod-a", clock)
    assert await a.try_acquire_or_renew()
    stale = copy.deepcopy(server.body)
    assert stale is not None
    server._bump(copy.deepcopy(stale))  # same holder, new resourceVersion: a's next write may conflict
    renewing = asyncio.create_task(a.renew_until_lost())
    while clock.seconds < 30.0:
        await asyncio.sleep(0)
    assert not renewing.done()
    assert a.leading
    renewing.cancel()


async def test_lead_runs_the_work_while_leading_and_releases_after_it_ends() -> None:
    server, clock = LeaseServer(), FakeClock()
    a = elector(server, "pod-a", clock)
    stopping, worked = asyncio.Event(), asyncio.Event()

    async def work() -> None:
        worked.set()
        await stopping.wait()

    leading = asyncio.create_task(a.lead(work, stopping))
    await asyncio.wait_for(worked.wait(), timeout=5)
    while clock.seconds < 20.0:  # renewals happen meanwhile
        await asyncio.sleep(0)
    assert a.leading
    stopping.set()
    await asyncio.wait_for(leading, timeout=5)

    assert server.body is not None
    assert server.body["spec"]["holderIdentity"] == ""
    renewals = [spec["renewTime"] for spec in server.writes if spec["holderIdentity"] == "pod-a"]
    assert len(renewals) >= 10


async def test_lead_returns_without_working_when_stopped_before_it_leads() -> None:
    server = LeaseServer()
    holder = elector(server, "pod-a")
    assert await holder.try_acquire_or_renew()
    standby, clock = None, FakeClock()
    standby = elector(server, "pod-b", clock)
    stopping = asyncio.Event()

    async def work() -> None:
        raise AssertionError("a standby must not work")

    leading = asyncio.create_task(standby.lead(work, stopping))
    while clock.seconds < 8.0:
        await asyncio.sleep(0)
    stopping.set()
    await asyncio.wait_for(leading, timeout=5)
    assert server.body is not None
    assert server.body["spec"]["holderIdentity"] == "pod-a"


async def test_losing_the_lease_cancels_the_work_at_once_and_raises() -> None:
    server, clock = LeaseServer(), FakeClock()
    a = elector(server, "pod-a", clock)
    started, cancelled_at = asyncio.Event(), []

    async def work() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled_at.append(clock.seconds)
            raise

    leading = asyncio.create_task(a.lead(work, asyncio.Event()))
    await asyncio.wait_for(started.wait(), timeout=5)
    server.failure = ApiError("the API server did not answer: ConnectionResetError", transient=True)
    with pytest.raises(LeadershipLostError, match="Lost the Lease ops/lease: not renewed within 10 s"):
        await asyncio.wait_for(leading, timeout=5)
    last_renewal = datetime.datetime.fromisoformat(server.writes[-1]["renewTime"]) - EPOCH
    assert cancelled_at == [pytest.approx(last_renewal.total_seconds() + 10.0)]  # the renew deadline
    server.failure = None
    assert server.body is not None
    assert server.body["spec"]["holderIdentity"] == "pod-a"  # not released: it is not ours to write


async def test_a_cancelled_leader_releases_nothing() -> None:
    server, clock = LeaseServer(), FakeClock()
    a = elector(server, "pod-a", clock)
    started = asyncio.Event()

    async def work() -> None:
        started.set()
        await asyncio.Event().wait()

    leading = asyncio.create_task(a.lead(work, asyncio.Event()))
    await asyncio.wait_for(started.wait(), timeout=5)
    leading.cancel()
    with pytest.raises(asyncio.CancelledError):
        await leading
    assert server.body is not None
    assert server.body["spec"]["holderIdentity"] == "pod-a"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"retry_period": 0.0}, "--retry-period (0 s) must be positive"),
        ({"renew_deadline": 2.0}, "--renew-deadline (2 s) must be longer than --retry-period (2 s)"),
        ({"lease_duration": 10.0}, "--lease-duration (10 s) must be longer than --renew-deadline (10 s)"),
    ],
)
def test_unsafe_timings_are_refused_naming_the_flag(changes: dict[str, float], message: str) -> None:
    assert options("pod-a").problems() == []
    assert message in options("pod-a", **changes).problems()[0]
    empty = LeaderElectionOptions(namespace="", identity="pod-a")
    assert empty.problems() == ["--leader-election-namespace must not be empty"]


def test_the_leader_gauge_and_transitions_are_exported() -> None:
    status = LeaderStatus(leading=False, holder="pod-a", transitions=3)
    registry = CollectorRegistry()
    registry.register(LeadershipCollector(lambda: status, "flink_tm_memory"))
    text = generate_latest(registry).decode()
    assert "flink_tm_memory_leader 0.0" in text
    assert "flink_tm_memory_leader_lease_transitions 3.0" in text
    status = LeaderStatus(leading=True, holder=None, transitions=None)
    text = generate_latest(registry).decode()
    assert "flink_tm_memory_leader 1.0" in text
    assert "lease_transitions" not in text


async def test_the_readiness_line_says_who_leads_and_never_fails() -> None:
    server = LeaseServer()
    a, b = elector(server, "pod-a"), elector(server, "pod-b")
    assert await a.try_acquire_or_renew()
    assert not await b.try_acquire_or_renew()
    assert a.check() == CheckResult(True, "leading: pod-a holds the Lease ops/lease")
    assert b.check() == CheckResult(True, "standby: pod-a holds the Lease ops/lease")
