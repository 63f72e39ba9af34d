"""The JobManager client against a fake JobManager on 127.0.0.1: peaks, and every way it can go wrong."""

from __future__ import annotations

import socket

import pytest
from aiohttp import web

from flink_tm_memory.cluster.flink_rest import HEAP, METASPACE, NETWORK, JobManagerClient
from flink_tm_memory.render.usage_step import Sample
from tests.fake_job_manager import MIB, FakeJobManager


async def sample_of(job_manager: FakeJobManager, timeout: float = 5.0) -> Sample:
    client = JobManagerClient(timeout=timeout)
    try:
        return await client.sample(job_manager.url)
    finally:
        await client.close()


async def test_the_peaks_over_all_task_managers_in_one_aggregated_request() -> None:
    async with FakeJobManager(task_managers=3) as job_manager:
        sample = await sample_of(job_manager)
    assert sample.ok
    assert sample.reason == "Sampled"
    assert sample.peaks == {
        "heap": 400 * MIB,
        "metaspace": 70 * MIB,
        "managed": 100 * MIB,
        "network": 4 * MIB,
        "direct": 0,
    }
    assert sample.task_managers == 3
    assert sample.flink_version == "2.2.1"
    [aggregated] = [path for path in job_manager.requests if path.startswith("/taskmanagers/metrics")]
    assert aggregated.endswith("&agg=max")
    assert "Status.Shuffle.Netty.UsedMemory" in aggregated


async def test_a_metric_not_yet_fetched_is_missing() -> None:
    async with FakeJobManager() as job_manager:
        del job_manager.metrics[METASPACE]
        sample = await sample_of(job_manager)
    assert sample.reason == "MetricsMissing"
    assert METASPACE in sample.message
    assert sample.peaks is None


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ({"not": "a list"}, "not a list"),
        ([{"id": HEAP, "max": "lots"}], "'lots' is not a number"),
        ([{"id": HEAP, "max": -5.0}], "out of range"),
        ([{"id": HEAP, "max": True}], "not a number"),
        ([{"id": NETWORK, "max": 1e300}], "out of range"),
    ],
)
async def test_malformed_metrics_are_named(raw: object, words: str) -> None:
    async with FakeJobManager() as job_manager:
        job_manager.raw_metrics = raw
        sample = await sample_of(job_manager)
    assert sample.reason == "MalformedMetrics"
    assert words in sample.message


async def test_an_http_error_and_no_task_managers() -> None:
    async with FakeJobManager() as job_manager:
        job_manager.status = 503
        failed = await sample_of(job_manager)
        job_manager.status = 200
        job_manager.task_managers = 0
        empty = await sample_of(job_manager)
    assert failed.reason == "UnexpectedAnswer"
    assert "HTTP 503" in failed.message
    assert empty.reason == "NoTaskManagers"


async def test_an_unreachable_job_manager_is_an_answer_not_an_error() -> None:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    client = JobManagerClient(timeout=5)
    try:
        sample = await client.sample(f"http://127.0.0.1:{port}")
    finally:
        await client.close()
    assert sample.reason == "JobManagerUnreachable"
    assert f"127.0.0.1:{port}/config" in sample.message


async def test_a_silent_job_manager_times_out() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()  # accepts the connection, never answers
    client = JobManagerClient(timeout=0.3)
    try:
        sample = await client.sample(f"http://127.0.0.1:{listener.getsockname()[1]}")
    finally:
        await client.close()
        listener.close()
    assert sample.reason == "JobManagerUnreachable"


async def test_redirects_are_not_followed_and_huge_answers_are_refused() -> None:
    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound("http://127.0.0.1:1/elsewhere")

    async def huge(request: web.Request) -> web.Response:
        return web.Response(body=b"[" + b" " * (2 << 20) + b"]", content_type="application/json")

    app = web.Application()
    app.router.add_get("/config", redirect)
    app.router.add_get("/other/config", huge)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    await web.SockSite(runner, listener).start()
    base = f"http://127.0.0.1:{listener.getsockname()[1]}"
    client = JobManagerClient(timeout=5)
    try:
        redirected = await client.sample(base)
        oversized = await client.sample(f"{base}/other")
    finally:
        await client.close()
        await runner.cleanup()
    assert redirected.reason == "UnexpectedAnswer"
    assert "HTTP 302" in redirected.message
    assert oversized.reason == "UnexpectedAnswer"
    assert "more than" in oversized.message


async def test_an_answer_that_is_not_json() -> None:
    async with FakeJobManager() as job_manager:
        job_manager.raw_metrics = b"<html>proxy error</html>"
        sample = await sample_of(job_manager)
    assert sample.reason == "UnexpectedAnswer"
    assert "not JSON" in sample.message


@pytest.mark.parametrize("version", ["<html>" + "x" * 5000, "2.2.1; rm -rf /", "", "secret-token-abc"])
async def test_only_a_version_shaped_text_of_the_answer_reaches_the_sample(version: str) -> None:
    async with FakeJobManager(version=version) as job_manager:
        sample = await sample_of(job_manager)
    assert sample.ok
    assert sample.flink_version is None


@pytest.mark.parametrize("version", ["1.17.2", "1.20-SNAPSHOT", "2.0.0-rc1"])
async def test_a_release_name_is_kept(version: str) -> None:
    async with FakeJobManager(version=version) as job_manager:
        sample = await sample_of(job_manager)
    assert sample.flink_version == version
