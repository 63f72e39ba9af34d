"""Honest health: is the API server answering the operator, and the HTTP server for metrics and probes.

kopf's liveness endpoint (``--liveness``) answers as long as the event loop runs, which is what a
liveness probe should ask: a restart does not bring back an API server. Whether the operator can do
its work is another question, answered here from the client's ``ApiContact``:

- ``ApiServerCheck`` fails once the API server has not answered for ``unready_after`` seconds (or has
  never answered). Requests the operator makes anyway count as contact; when it has nothing to do,
  ``keep_in_touch`` asks for ``/version`` (allowed to every identity) every ``interval`` seconds, so
  that an idle operator notices an outage too, at one small request per interval.
- ``serve_health`` serves, on ``--metrics-port``: ``/metrics`` (Prometheus or OpenMetrics text, as
  the scraper asks), ``/livez`` (200 while the loop answers), ``/readyz`` (200 or 503) and
  ``/readyz/<check>``, the Kubernetes way: ``?verbose`` lists every check, ``?exclude=<check>`` leaves
  one out. The same facts are in kopf's liveness answer through a probe handler (``probe``).

The server runs in the operator's own event loop (as kopf's own servers do), so a loop too busy to
answer shows as a failed scrape, and it starts before kopf does, so that a port already taken stops
the operator with a clear message. The exposition itself (its cost grows with the series, so with the
resources: ``benchmarks/metrics_cost.py``, figures in ``benchmarks/README.md``) runs in a worker thread,
so a scrape never holds the loop, and so the webhooks, for that long; the collectors read only what is
safe to read from another thread.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp.web
from prometheus_client.exposition import choose_encoder

from flink_tm_memory.cluster.client import ClusterClient
from flink_tm_memory.cluster.contact import ApiContact
from flink_tm_memory.cluster.errors import ApiError, ObjectNotFoundError, WriteConflictError
from flink_tm_memory.runtime.metrics import OperatorMetrics

API_SERVER_CHECK = "api-server"
WEBHOOK_CONFIGURATIONS_CHECK = "webhook-configurations"
"""Only when the operator writes the webhook configurations: ready once they carry its CA."""


class HealthServerError(Exception):
    """The metrics and health server cannot listen where it was asked to."""


@dataclass(frozen=True, slots=True)
class CheckResult:
    ok: bool
    message: str


class ApiServerCheck:
    """Fails when the API server has not answered the operator for ``unready_after`` seconds."""

    def __init__(self, contact: ApiContact, unready_after: float) -> None:
        self._contact = contact
        self._unready_after = unready_after

    def __call__(self) -> CheckResult:
        contact = self._contact
        since = contact.seconds_since_contact()
        failures = f"{contact.consecutive_failures} failed request(s) in a row"
        if since is None:
            return CheckResult(False, f"the API server has not answered yet ({failures})")
        if since > self._unready_after:
            return CheckResult(False, f"no answer from the API server for {since:.1f} s ({failures})")
        return CheckResult(True, f"last answer {since:.1f} s ago, {failures}")


Check = Callable[[], CheckResult]


def readiness(checks: Mapping[str, Check], *, exclude: frozenset[str], verbose: bool) -> tuple[int, str]:
    """The HTTP status and text of ``/readyz``: 200 when every check not excluded passes, else 503."""
    lines, failed = [], False
    for name, check in checks.items():
        if name in exclude:
            lines.append(f"[+]{name} excluded: ok")
            continue
        result = check()
        failed = failed or not result.ok
        lines.append(
            f"[{'+' if result.ok else '-'}]{name} {'ok' if result.ok else 'failed'}: {result.message}"
        )
    summary = "readyz check failed" if failed else "readyz check passed"
    text = "\n".join([*lines, summary]) if verbose or failed else "ok"
    return (503 if failed else 200), f"{text}\n"


def probe(contact: ApiContact) -> Callable[..., dict[str, Any]]:
    """A kopf probe handler: the API server's state, in kopf's liveness answer."""

    def api_server(**_: Any) -> dict[str, Any]:
        since = contact.seconds_since_contact()
        return {
            "reachable": contact.reachable,
            "secondsSinceContact": None if since is None else round(since, 3),
            "consecutiveFailures": contact.consecutive_failures,
        }

    return api_server


async def keep_in_touch(client: ClusterClient, interval: float) -> None:
    """Asks the API server for its version whenever nothing else reached it for ``interval`` seconds."""
    while True:
        since = client.contact.seconds_since_contact()
        if since is None or since >= interval:
            with contextlib.suppress(ApiError, ObjectNotFoundError, WriteConflictError):  # recorded
                await client.get("/version")
            since = 0.0
        await asyncio.sleep(max(interval - since, 0.0))


def health_application(metrics: OperatorMetrics, checks: Mapping[str, Check]) -> aiohttp.web.Application:
    """The routes of the metrics and health server."""

    async def get_metrics(request: aiohttp.web.Request) -> aiohttp.web.Response:
        encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
        body = await asyncio.to_thread(encoder, metrics.registry)  # grows with the resources: off the loop
        return aiohttp.web.Response(body=body, headers={"Content-Type": content_type})

    async def get_livez(_: aiohttp.web.Request) -> aiohttp.web.Response:
        return aiohttp.web.Response(text="ok\n")

    async def get_readyz(request: aiohttp.web.Request) -> aiohttp.web.Response:
        only = request.match_info.get("check")
        if only is not None and only not in checks:
            raise aiohttp.web.HTTPNotFound(text=f"no readiness check named {only!r}\n")
        selected = {only: checks[only]} if only is not None else checks
        unknown = set(request.query.getall("exclude", [])) - set(checks)
        if unknown:
            raise aiohttp.web.HTTPBadRequest(text=f"no readiness check named {sorted(unknown)[0]!r}\n")
        status, text = readiness(
            selected,
            exclude=frozenset(request.query.getall("exclude", [])),
            verbose="verbose" in request.query or only is not None,
        )
        return aiohttp.web.Response(status=status, text=text)

    app = aiohttp.web.Application()
    app.add_routes(
        [
            aiohttp.web.get("/metrics", get_metrics),
            aiohttp.web.get("/livez", get_livez),
            aiohttp.web.get("/readyz", get_readyz),
            aiohttp.web.get("/readyz/{check}", get_readyz),
        ]
    )
    return app


@contextlib.asynccontextmanager
async def serve_health(
    listen: str, port: int, metrics: OperatorMetrics, checks: Mapping[str, Check]
) -> AsyncIterator[None]:
    """Serves ``/metrics``, ``/livez`` and ``/readyz`` on ``listen:port`` while the block runs."""
    runner = aiohttp.web.AppRunner(
        health_application(metrics, checks), handle_signals=False, access_log=None, shutdown_timeout=1.0
    )
    await runner.setup()
    try:
        try:
            await aiohttp.web.TCPSite(runner, listen, port).start()
        except OSError as error:
            raise HealthServerError(
                f"cannot serve metrics on {listen}:{port}: {error.strerror or error}"
            ) from None
        yield
    finally:
        await runner.cleanup()
