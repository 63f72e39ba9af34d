"""The admission webhooks' HTTPS server: aiohttp in a thread of its own, with an event loop of its own.

Reconciliation (kopf, the drift loop, the API requests they make) runs on the operator's main event
loop; a burst of reconciliations kept that loop busy for hundreds of milliseconds at a time, and
admission answers, served from the same loop, waited behind them (``benchmarks/README.md``).
Here the server owns a loop in its own thread: what runs there is the HTTP and TLS handling, the
webhook steps (pure computations, and a read from the API server on a cache miss, which runs in a
worker thread) and the tasks given as ``background`` (the FlinkTaskManagerMemory watch, which reads its
stream in a worker thread too) and the certificate watch. Nothing on it sleeps synchronously or makes a
blocking call. The server needs no leadership and no kopf: every replica serves.

Routes are ``POST /<path>`` per ``Webhook``; the answer is an AdmissionReview ``admission.k8s.io/v1``
built by ``review.review_response``. A client's mistake is a 4xx naming it, never a 500:

- a body that is not a v1 AdmissionReview a webhook can read (``review.parse_review``), or one for a
  resource the webhook does not review: 400 ``Malformed AdmissionReview: <the field>``;
- a body over 1 MiB: 413 (aiohttp's ``client_max_size``); a request line or header over 8 KiB: 400;
- a body that has not arrived within ``BODY_TIMEOUT`` seconds: 408, so a client trickling it byte by
  byte holds one connection for a while, never a handler;
- plain HTTP on the port fails the TLS handshake: there is no plain-HTTP endpoint. aiohttp closes idle
  keep-alive connections after 75 s; asyncio gives a TLS handshake 60 s.

Each request is counted in the operator's metrics by webhook and outcome (``allowed``, ``denied``,
``patched``, ``error``) and timed from its parsed body to its answer; ``prometheus_client`` metrics
are thread-safe, so this thread updates them while the main loop's scrapes read them.

Readiness (``check``): the server listens, a valid certificate is loaded, and it is not draining.
Shutting down is two steps: ``drain`` (readiness fails so that endpoints drop this replica, requests
are still answered) and ``stop``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp.web

from flink_tm_memory.runtime.admission.review import (
    AdmissionAnswer,
    AdmissionStep,
    Json,
    parse_review,
    review_response,
)
from flink_tm_memory.runtime.admission.tls import ServingTls
from flink_tm_memory.runtime.health import CheckResult
from flink_tm_memory.runtime.metrics import WebhookCounter, WebhookOutcome

logger = logging.getLogger(__name__)

BODY_TIMEOUT = 10.0
"""Seconds a client has to send a request's body: twice the longest webhook timeout the API server uses."""
MAX_BODY = 1 << 20
"""Bytes of the largest body answered (413 beyond): a Kubernetes object is at most 1.5 MB as stored,
and an AdmissionReview of a FlinkTaskManagerMemory or a pod is a few KiB."""
STARTUP_TIMEOUT = 30.0
CERTIFICATE_RETRY = 1.0
"""Seconds before the certificate files are read again after a pair that did not agree."""

Background = Callable[[], Coroutine[Any, Any, None]]


class AdmissionServerError(Exception):
    """The admission server cannot listen where it was asked to, or has no certificate to serve."""


@dataclass(frozen=True, slots=True)
class Webhook:
    """One route: ``POST /<path>`` reviews ``resource`` (group, plural) with ``step``."""

    path: str
    resource: tuple[str, str]
    step: AdmissionStep


class AdmissionServer:
    """The webhooks on ``listen:port`` over TLS, served from a thread and event loop of their own."""

    def __init__(
        self,
        *,
        listen: str,
        port: int,
        tls: ServingTls,
        webhooks: Sequence[Webhook],
        metrics: WebhookCounter | None = None,
        background: Sequence[Background] = (),
        certificate_check_interval: float = 60.0,
    ) -> None:
        self._listen, self._port = listen, port
        self.tls = tls
        self._webhooks = {webhook.path.strip("/"): webhook for webhook in webhooks}
        self._metrics = metrics
        self._background = background
        self._check_interval = certificate_check_interval
        self._thread = threading.Thread(target=self._run, name="admission", daemon=True)
        self._started = threading.Event()
        self._failure: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self.listening = False
        self.draining = False

    # ------------------------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Starts the thread; returns once the server listens, raises ``AdmissionServerError`` if it cannot."""
        self._thread.start()
        started = await asyncio.to_thread(self._started.wait, STARTUP_TIMEOUT)
        if self._failure is not None:
            await asyncio.to_thread(self._thread.join, STARTUP_TIMEOUT)
            raise AdmissionServerError(str(self._failure)) from None
        if not started:
            raise AdmissionServerError(f"the admission server did not start within {STARTUP_TIMEOUT:g} s")

    def drain(self) -> None:
        """Reports not ready from now on; requests are still answered until ``stop``."""
        self.draining = True

    async def stop(self) -> None:
        """Closes the listener and the connections, ends the background tasks and the thread."""
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop ended on its own meanwhile
                loop.call_soon_threadsafe(stop.set)
        if self._thread.is_alive():
            await asyncio.to_thread(self._thread.join)

    def check(self) -> CheckResult:
        """Readiness: listening, a valid certificate loaded, not draining."""
        if self.draining:
            return CheckResult(False, "shutting down: draining admission requests")
        if not self.listening:
            return CheckResult(False, "the admission server is not listening")
        if not self.tls.loaded:
            return CheckResult(False, f"no valid certificate loaded: {self.tls.problem}")
        served = f"serving on {self._listen}:{self._port}"
        if self.tls.problem is not None:
            return CheckResult(True, f"{served}; the certificate files are not served: {self.tls.problem}")
        return CheckResult(True, served)

    # ------------------------------------------------------------------------------------ the thread

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as error:  # reported by start(), or logged: the server is gone
            self._failure = error
            if self._started.is_set():
                logger.error(f"The admission server stopped: {error!r}")
        finally:
            self.listening = False
            self._started.set()

    async def _main(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        await self.tls.refresh()
        if not self.tls.loaded:
            raise AdmissionServerError(f"no certificate to serve: {self.tls.problem}")
        app = aiohttp.web.Application(client_max_size=MAX_BODY)
        app.router.add_post("/{path}", self._serve)
        runner = aiohttp.web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        tasks: list[asyncio.Task[None]] = []
        try:
            try:
                await aiohttp.web.TCPSite(runner, self._listen, self._port, ssl_context=self.tls.live).start()
            except OSError as error:
                raise AdmissionServerError(
                    f"cannot serve the admission webhooks on {self._listen}:{self._port}: "
                    f"{error.strerror or error}"
                ) from None
            tasks = [asyncio.create_task(work()) for work in (*self._background, self._follow_certificates)]
            self.listening = True
            self._started.set()
            await self._stop.wait()
        finally:
            self.listening = False
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await runner.cleanup()

    async def _follow_certificates(self) -> None:
        while True:
            await asyncio.sleep(self._check_interval if self.tls.problem is None else CERTIFICATE_RETRY)
            try:
                await self.tls.refresh()
            except Exception as error:  # never the end of the server: the last pair keeps serving
                logger.warning(f"Reading the webhook certificate failed: {error!r}")

    # ------------------------------------------------------------------------------------ requests

    async def _serve(self, request: aiohttp.web.Request) -> aiohttp.web.Response:
        path = request.match_info["path"]
        webhook = self._webhooks.get(path)
        if webhook is None:
            raise aiohttp.web.HTTPNotFound(reason="No such webhook")
        try:
            async with asyncio.timeout(BODY_TIMEOUT):
                raw = await request.read()
        except TimeoutError:
            self._count(path, WebhookOutcome.ERROR, None)
            raise aiohttp.web.HTTPRequestTimeout(reason=f"The body took over {BODY_TIMEOUT:g} s") from None
        except aiohttp.web.HTTPRequestEntityTooLarge:
            self._count(path, WebhookOutcome.ERROR, None)
            raise
        started = time.perf_counter()
        review, problem = parse_review(raw)
        if review is not None:
            problem = _resource_problem(review, webhook)
        if review is None or problem is not None:
            self._count(path, WebhookOutcome.ERROR, None)
            raise aiohttp.web.HTTPBadRequest(reason=f"Malformed AdmissionReview: {problem}")
        try:
            answer = await webhook.step(review)
        except Exception:
            logger.exception(f"The webhook /{path} failed")
            self._count(path, WebhookOutcome.ERROR, time.perf_counter() - started)
            raise aiohttp.web.HTTPInternalServerError(reason="The webhook failed") from None
        self._count(path, _outcome(answer), time.perf_counter() - started)
        if not answer.allowed:  # the webhook doing its job: INFO, with the reason, never an ERROR
            logger.info(
                f"Denied {_subject(review)} at /{path}: {answer.message.splitlines()[0] if answer.message else ''}"
            )
        return aiohttp.web.json_response(review_response(review, answer))

    def _count(self, path: str, outcome: WebhookOutcome, seconds: float | None) -> None:
        if self._metrics is not None:
            self._metrics.webhook_answered(path, outcome, seconds)


def _subject(review: Json) -> str:
    """``CREATE FlinkTaskManagerMemory flink/etl by alice``: what was asked, of what, by whom."""
    kind = (review.get("kind") or {}).get("kind") or review["resource"]["resource"]
    where = "/".join(part for part in (review.get("namespace"), review.get("name")) if part)
    user = (review.get("userInfo") or {}).get("username")
    return f"{review.get('operation', '')} {kind} {where}".strip() + (f" by {user}" if user else "")


def _resource_problem(review: Json, webhook: Webhook) -> str | None:
    resource = review["resource"]
    if (resource["group"], resource["resource"]) != webhook.resource:
        group, plural = webhook.resource
        return f"request.resource: /{webhook.path} reviews {plural}{'.' + group if group else ''} only"
    return None


def _outcome(answer: AdmissionAnswer) -> WebhookOutcome:
    if answer.failed:
        return WebhookOutcome.ERROR
    if not answer.allowed:
        return WebhookOutcome.DENIED
    return WebhookOutcome.PATCHED if answer.patch else WebhookOutcome.ALLOWED
