"""The Event poster against the emulated API server: what it sends, what it drops, what it retries."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import pytest

from flink_tm_memory.cluster.client import ClusterClient, load_configuration
from flink_tm_memory.control.events import EventPoster
from flink_tm_memory.render.events import EventSpec, Reporter
from flink_tm_memory.render.metadata import MemoryRef
from tests.integration.emulator import ApiEmulator, kubernetes_status
from tests.integration.kubectl import EVENTS, Kubectl, eventually, stays

MEMORY = MemoryRef(name="job", namespace="default", uid="1234", generation=1)
REPORTER = Reporter(component="flink-tm-memory-operator", instance="test", name_prefix="flink-tm-memory-")


@contextlib.asynccontextmanager
async def posting(poster: EventPoster) -> AsyncIterator[None]:
    tasks = [asyncio.create_task(sender) for sender in poster.senders()]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


@pytest.fixture
def client(emulator: ApiEmulator) -> ClusterClient:
    return ClusterClient(load_configuration(str(emulator.url)), request_timeout=1.0)


def spec(index: int) -> EventSpec:
    return EventSpec("Normal", "ConfigMapUpdated", f"event {index}")


async def test_events_past_the_capacity_are_dropped_and_counted_in_one_warning(
    client: ClusterClient, kubectl: Kubectl, caplog: pytest.LogCaptureFixture
) -> None:
    poster = EventPoster(client, REPORTER, backoffs=(0.05,), capacity=2)
    poster.post(MEMORY, [spec(index) for index in range(5)])

    with caplog.at_level(logging.WARNING, logger="flink_tm_memory.control.events"):
        async with posting(poster):
            await eventually(lambda: len(kubectl.events("job")) == 2, what="two events")
            await stays(lambda: len(kubectl.events("job")) == 2, 0.3, what="two events")

    assert sorted(event["message"] for event in kubectl.events("job")) == ["event 0", "event 1"]
    assert [record.getMessage() for record in caplog.records] == [
        "Dropped 3 Events: more than 2 were waiting"
    ]


async def test_an_event_refused_for_good_is_dropped_with_a_warning_and_the_next_is_sent(
    client: ClusterClient, kubectl: Kubectl, emulator: ApiEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    emulator.matching("POST", EVENTS)[:1] << 403 << kubernetes_status(403, "Forbidden", "no")
    poster = EventPoster(client, REPORTER, backoffs=(0.05, 0.05))
    poster.post(MEMORY, [spec(0)])

    with caplog.at_level(logging.WARNING, logger="flink_tm_memory.control.events"):
        async with posting(poster):
            await eventually(lambda: caplog.records, what="the warning")
            poster.post(MEMORY, [spec(1)])
            [event] = await eventually(lambda: kubectl.events("job"), what="the next event")

    assert event["message"] == "event 1"
    [record] = caplog.records
    assert record.getMessage().startswith("Failed to post Event reason=ConfigMapUpdated about=default/job")
