"""The admission webhook's HTTPS server: kopf's ``WebhookServer`` with our certificates and a body check.

kopf routes ``POST /<handler id>`` to that handler and answers an AdmissionReview. It answers 400 to
a body that is not JSON, but bytes that are not UTF-8, or JSON of another shape (a list, no
``request``, no ``resource``), raise inside kopf and become a 500; ``AdmissionServer`` answers those
with a 400 naming the problem before kopf sees them, so a client's mistake never looks like a failing
webhook. Only ``admission.k8s.io/v1`` AdmissionReviews are answered (the version the webhook
configurations ask for), and a body must arrive within ``BODY_TIMEOUT`` seconds (408 otherwise), so a
client trickling it byte by byte holds one connection for a while, never a handler.

The server itself is aiohttp's, one event loop: a slow or idle connection costs a socket and a few KiB,
never a turn of the loop, so it cannot hold up other requests. aiohttp refuses a body over 1 MiB (413),
a request line or header over 8 KiB (400), and closes idle keep-alive connections after 75 s; the TLS
handshake must finish within asyncio's 60 s. Plain HTTP on the port fails the handshake: there is no
plain-HTTP endpoint.

Certificates come from ``WebhookOptions``: generated for ``self_signed_hosts`` (development; written
to ``cert_dir`` or a fresh temporary directory) or read from ``cert_dir`` (cert-manager). kopf reads
the files again every ``certificate_check_interval`` seconds and restarts its listener when they
changed, so a rotated certificate is served without restarting the operator (a Secret volume is
updated atomically, so the certificate and key never disagree).
"""

from __future__ import annotations

import asyncio
import json
import ssl
import tempfile
import time
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import aiohttp.web
import kopf

from flink_tm_memory.runtime.certificates import (
    ServingCertificates,
    generate_certificates,
    mounted_certificates,
)
from flink_tm_memory.runtime.metrics import ObservedWebhookFn, OperatorMetrics, WebhookOutcome
from flink_tm_memory.runtime.options import WebhookOptions

ADMISSION_REVIEW_VERSION = "admission.k8s.io/v1"
_NAME_LIMIT = 253
_DEPTH_LIMIT = 100
BODY_TIMEOUT = 10.0
"""Seconds a client has to send a request's body: twice the longest webhook timeout the API server uses."""


class AdmissionServer(kopf.WebhookServer):
    """kopf's server, refusing malformed AdmissionReviews with a 400 instead of a 500.

    It also survives a certificate read half-way through a rotation: kopf loads the certificate and
    the key in two reads, and a rotation landing between them pairs a new certificate with an old key
    (``KEY_VALUES_MISMATCH``), which would end kopf's server for good. The files are read again,
    a few times, until they agree.

    With ``metrics``, every request is counted by webhook and outcome and timed (``ObservedWebhookFn``
    wraps the function kopf calls per request); a malformed body, which kopf never sees, is counted
    as an error.
    """

    _SSL_ATTEMPTS = 10
    _SSL_RETRY_DELAY = 0.05

    def __init__(self, *, metrics: OperatorMetrics | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._metrics = metrics

    async def __call__(self, fn: kopf.WebhookFn) -> AsyncIterator[kopf.WebhookClientConfig]:
        observed = fn if self._metrics is None else ObservedWebhookFn(fn, self._metrics)
        async for config in super().__call__(observed):
            yield config

    def _build_ssl(self) -> tuple[bytes | None, ssl.SSLContext | None]:
        for attempt in range(self._SSL_ATTEMPTS):
            try:
                return super()._build_ssl()
            except ssl.SSLError:
                if attempt == self._SSL_ATTEMPTS - 1:
                    raise
                time.sleep(self._SSL_RETRY_DELAY)  # kopf calls this synchronously; rare and short
        raise AssertionError("unreachable")

    @staticmethod
    async def _serve(fn: kopf.WebhookFn, request: aiohttp.web.Request) -> aiohttp.web.Response:
        try:
            async with asyncio.timeout(BODY_TIMEOUT):
                raw = await request.read()  # kopf reads it again: aiohttp keeps it
        except TimeoutError:
            raise aiohttp.web.HTTPRequestTimeout(reason=f"The body took over {BODY_TIMEOUT:g} s") from None
        problem = review_problem(raw)
        if problem is not None:
            if isinstance(fn, ObservedWebhookFn):  # counted: kopf never sees this request
                fn.metrics.webhook_answered(request.match_info.get("id"), WebhookOutcome.ERROR, None)
            raise aiohttp.web.HTTPBadRequest(reason=f"Malformed AdmissionReview: {problem}")
        return await kopf.WebhookServer._serve(fn, request)


def review_problem(raw: bytes) -> str | None:
    """What makes ``raw`` unusable as an AdmissionReview request, or ``None`` (kopf checks the rest)."""
    try:
        review = json.loads(raw.decode("utf-8"))
    except ValueError:  # UnicodeDecodeError too, which kopf lets through as a 500
        return "not UTF-8 JSON"
    except RecursionError:  # Python's JSON reader recurses: a thousand nested brackets end it
        return "nested too deeply to be read"
    if not isinstance(review, Mapping):
        return "not a JSON object"
    if review.get("apiVersion") != ADMISSION_REVIEW_VERSION or review.get("kind") != "AdmissionReview":
        return f"expected an AdmissionReview of {ADMISSION_REVIEW_VERSION}"
    request = review.get("request")
    if not isinstance(request, Mapping):
        return "request: expected an object"
    return _request_problem(request)


def _request_problem(request: Mapping[str, Any]) -> str | None:
    resource = request.get("resource")
    if not isinstance(resource, Mapping):
        return "request.resource: expected an object"
    for key in ("group", "version", "resource"):
        value = resource.get(key)
        if not isinstance(value, str) or len(value) > _NAME_LIMIT or (key != "group" and not value):
            return f"request.resource.{key}: expected a name of at most {_NAME_LIMIT} characters"
    for key in ("object", "oldObject"):
        problem = _object_problem(request.get(key), f"request.{key}")
        if problem is not None:
            return problem
    if not isinstance(request.get("uid", ""), str):
        return "request.uid: expected a string"
    return None


def _object_problem(obj: object, path: str) -> str | None:
    """kopf reads an object's metadata (labels, annotations) before any handler: they must be maps.

    kopf also deep-copies the object (recursively) to build its answer, which fails past about 450
    levels; a Kubernetes object has a few dozen at most.
    """
    if obj is None:
        return None
    if not isinstance(obj, Mapping):
        return f"{path}: expected an object"
    if _deeper_than(obj, _DEPTH_LIMIT):
        return f"{path}: nested more than {_DEPTH_LIMIT} levels deep"
    metadata = obj.get("metadata", {})
    if not isinstance(metadata, Mapping):
        return f"{path}.metadata: expected an object"
    for key in ("labels", "annotations"):
        if not isinstance(metadata.get(key) or {}, Mapping):
            return f"{path}.metadata.{key}: expected an object"
    return None


def _deeper_than(value: object, limit: int) -> bool:
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(node, Mapping):
            stack.extend((child, depth + 1) for child in node.values())
        elif isinstance(node, list):
            stack.extend((child, depth + 1) for child in node)
    return False


def serving_certificates(options: WebhookOptions) -> ServingCertificates:
    """The certificates to serve with: generated for the self-signed hosts, else the mounted ones."""
    if options.self_signed_hosts:
        directory = options.cert_dir or Path(tempfile.mkdtemp(prefix="flink-tm-memory-webhook-"))
        return generate_certificates(directory, options.self_signed_hosts)
    if options.cert_dir is None:
        raise ValueError("the webhook needs a certificate directory or hosts to make certificates for")
    return mounted_certificates(options.cert_dir)


def webhook_server(
    options: WebhookOptions, certificates: ServingCertificates, *, metrics: OperatorMetrics | None = None
) -> AdmissionServer:
    """The server kopf runs as ``settings.admission.server``."""
    default_host = options.self_signed_hosts[0] if options.self_signed_hosts else None
    return AdmissionServer(
        metrics=metrics,
        addr=options.listen,
        port=options.port,
        host=options.host or default_host,
        certfile=certificates.certfile,
        pkeyfile=certificates.pkeyfile,
        cafile=certificates.cafile,
        file_check_interval=options.certificate_check_interval,
    )
