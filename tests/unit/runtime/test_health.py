"""Honest health: the API server check, ``/readyz`` the Kubernetes way, ``/metrics``, and the backoffs."""

from __future__ import annotations

import itertools
import socket

import aiohttp
import pytest
from prometheus_client.openmetrics.exposition import CONTENT_TYPE_LATEST as OPENMETRICS

from flink_tm_memory.cluster.contact import ApiContact, Outcome
from flink_tm_memory.runtime.health import (
    API_SERVER_CHECK,
    ApiServerCheck,
    CheckResult,
    HealthServerError,
    probe,
    readiness,
    serve_health,
)
from flink_tm_memory.runtime.metrics import OperatorMetrics
from flink_tm_memory.runtime.options import OperatorOptions
from flink_tm_memory.runtime.settings import EndlessBackoffs


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_api_server_check_fails_before_any_answer_and_after_a_silence_longer_than_allowed() -> None:
    clock = Clock()
    contact = ApiContact(monotonic=clock)
    check = ApiServerCheck(contact, unready_after=30.0)
    assert check() == CheckResult(False, "the API server has not answered yet (0 failed request(s) in a row)")

    contact.record(Outcome.OK)
    clock.now += 30.0
    assert check() == CheckResult(True, "last answer 30.0 s ago, 0 failed request(s) in a row")

    contact.record(Outcome.CONNECTION_ERROR)
    assert check().ok  # one failure is not an outage: the silence is what counts
    clock.now += 0.5
    contact.record(Outcome.TIMEOUT)
    assert check() == CheckResult(
        False, "no answer from the API server for 30.5 s (2 failed request(s) in a row)"
    )

    contact.record(Outcome.THROTTLED)  # an answer
    assert check().ok


def test_readyz_says_ok_lists_failures_and_leaves_out_excluded_checks() -> None:
    checks = {
        "api-server": lambda: CheckResult(False, "silent for 90.0 s"),
        "other": lambda: CheckResult(True, "fine"),
    }

    assert readiness(checks, exclude=frozenset(), verbose=False) == (
        503,
        "[-]api-server failed: silent for 90.0 s\n[+]other ok: fine\nreadyz check failed\n",
    )
    assert readiness(checks, exclude=frozenset({"api-server"}), verbose=False) == (200, "ok\n")
    assert readiness(checks, exclude=frozenset({"api-server"}), verbose=True) == (
        200,
        "[+]api-server excluded: ok\n[+]other ok: fine\nreadyz check passed\n",
    )


def test_kopfs_liveness_answer_carries_the_api_servers_state() -> None:
    clock = Clock()
    contact = ApiContact(monotonic=clock)
    contact.record(Outcome.OK)
    contact.record(Outcome.SERVER_ERROR)
    clock.now += 1.25
    assert probe(contact)() == {"reachable": False, "secondsSinceContact": 1.25, "consecutiveFailures": 1}


def free_port() -> int:
    with socket.socket() as probe_socket:
        probe_socket.bind(("127.0.0.1", 0))
        port: int = probe_socket.getsockname()[1]
        return port


async def test_the_server_answers_metrics_in_the_format_asked_and_the_probes() -> None:
    contact = ApiContact()
    metrics = OperatorMetrics(contact, runtime_collectors=False)
    checks = {API_SERVER_CHECK: ApiServerCheck(contact, 60.0)}
    port = free_port()
    async with serve_health("127.0.0.1", port, metrics, checks), aiohttp.ClientSession() as session:
        base = f"http://127.0.0.1:{port}"
        async with session.get(f"{base}/metrics") as answer:
            assert answer.status == 200
            assert answer.headers["Content-Type"].startswith("text/plain; version=0.0.4")
            assert "# HELP flink_tm_memory_reconciliations_total" in await answer.text()
        async with session.get(
            f"{base}/metrics", headers={"Accept": "application/openmetrics-text"}
        ) as answer:
            assert answer.headers["Content-Type"] == OPENMETRICS
            assert (await answer.text()).endswith("# EOF\n")
        async with session.get(f"{base}/readyz") as answer:
            assert answer.status == 503  # no answer from the API server yet
        contact.record(Outcome.OK)
        async with session.get(f"{base}/readyz") as answer:
            assert (answer.status, await answer.text()) == (200, "ok\n")
        async with session.get(f"{base}/livez") as answer:
            assert (answer.status, await answer.text()) == (200, "ok\n")
        async with session.get(f"{base}/readyz/api-server") as answer:
            assert answer.status == 200
            assert (await answer.text()).startswith("[+]api-server ok: last answer")
        async with session.get(f"{base}/readyz/etcd") as answer:
            assert (answer.status, await answer.text()) == (404, "no readiness check named 'etcd'\n")
        async with session.get(f"{base}/readyz?exclude=etcd") as answer:
            assert (answer.status, await answer.text()) == (400, "no readiness check named 'etcd'\n")


async def test_a_port_already_taken_is_a_clear_error() -> None:
    metrics = OperatorMetrics(ApiContact(), runtime_collectors=False)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(HealthServerError, match=f"cannot serve metrics on 127.0.0.1:{port}: "):
            async with serve_health("127.0.0.1", port, metrics, {}):
                pass


def test_reconciliation_retries_double_from_the_retry_delay_up_to_the_cap() -> None:
    options = OperatorOptions(retry_delay=5.0, max_retry_delay=120.0)
    assert [options.retry_delay_after(retry) for retry in range(7)] == [5, 10, 20, 40, 80, 120, 120]
    assert options.retry_delay_after(10_000) == 120.0


def test_kopfs_requests_retry_at_the_last_backoff_forever_and_each_request_starts_over() -> None:
    backoffs = EndlessBackoffs((1.0, 2.0, 5.0))
    assert list(itertools.islice(backoffs, 6)) == [1.0, 2.0, 5.0, 5.0, 5.0, 5.0]
    assert list(itertools.islice(backoffs, 2)) == [1.0, 2.0]
