"""The operator's own certificates through one Secret: shared by replicas, kept across restarts, rotated live.

Operators run against the emulated API server, where the chart's objects exist: the empty Secret and
the two webhook configurations without a ``caBundle``. A client plays the API server: before each
call it trusts exactly the ``caBundle`` the validating configuration holds at that moment, and sends
an AdmissionReview. With validities of seconds, a whole CA rotation (next CA published, switch,
retired CA dropped) and several serving renewals happen while it calls, and every call must succeed:
none fails TLS verification, none finds the port closed (the admission server loads a renewed pair
in place, ``runtime.admission.tls``).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import ssl
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from cryptography import x509

from flink_tm_memory.render.webhook_configurations import CONFIGURATION_NAME, ServiceEndpoint
from flink_tm_memory.runtime.certificate_schedule import Validity
from flink_tm_memory.runtime.options import SecretReference, WebhookOptions
from tests.integration.conftest import StartOperator
from tests.integration.kubectl import Kubectl, eventually
from tests.integration.test_validating_webhook import review, sample
from tests.integration.webhooks import VALIDATING, create_webhook_configurations, free_port

SECRETS = "v1/secrets"
NAMESPACE = "flink-tm-memory"
SECRET = "flink-tm-memory-operator-webhook-certificates"
CHECK_INTERVAL = 0.2
SHORT = Validity(ca=timedelta(seconds=27), serving=timedelta(seconds=9), overlap=timedelta(seconds=4.5))
"""Renewals every 6 s, a CA rotation from 18 s on: a machine with a load of 10 on 2 cores (other test
suites) has 3 s to get a renewal served, and 4.5 s for every replica to serve from the new CA."""
LOADED = 30.0
Json = dict[str, Any]


SERVICE = ServiceEndpoint(NAMESPACE, "flink-tm-memory-operator-webhook", 443)
"""Both replicas behind one Service, as in a cluster (each listens on a port of its own here)."""


def options(cert_dir: Path, *, validity: Validity = SHORT, port: int | None = None) -> WebhookOptions:
    return WebhookOptions(
        port=port or free_port(),
        listen="127.0.0.1",
        cert_dir=cert_dir,
        self_signed_hosts=("localhost", "127.0.0.1"),
        secret=SecretReference(NAMESPACE, SECRET),
        validity=validity,
        manage_configurations=True,
        service=SERVICE,
        configuration_check_interval=CHECK_INTERVAL,
        certificate_check_interval=CHECK_INTERVAL,
        drain_seconds=0.0,
    )


async def chart_objects(kubectl: Kubectl, webhook: WebhookOptions) -> None:
    await kubectl.create(SECRETS, {"metadata": {"name": SECRET}, "type": "Opaque"}, NAMESPACE)
    await create_webhook_configurations(kubectl, webhook)


def secret_data(kubectl: Kubectl) -> dict[str, bytes]:
    data = (kubectl.get(SECRETS, SECRET, NAMESPACE) or {}).get("data") or {}
    return {key: base64.b64decode(value) for key, value in data.items()}


def ca_bundle(kubectl: Kubectl) -> bytes | None:
    body = kubectl.get(VALIDATING, CONFIGURATION_NAME, None) or {}
    encoded = ((body.get("webhooks") or [{}])[0].get("clientConfig") or {}).get("caBundle")
    return base64.b64decode(encoded) if encoded else None


async def serving(port: int, bundle: bytes, timeout: float = LOADED) -> x509.Certificate:
    """The served certificate, once the server listens (it starts after the operator reports ready)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            return await served_certificate(port, bundle)
        except OSError:
            if loop.time() > deadline:
                raise
            await asyncio.sleep(0.05)


async def served_certificate(port: int, bundle: bytes) -> x509.Certificate:
    """The certificate the server presents, verified against ``bundle`` for ``localhost``."""
    context = ssl.create_default_context(cadata=bundle.decode("ascii"))
    _, writer = await asyncio.open_connection("127.0.0.1", port, ssl=context, server_hostname="localhost")
    try:
        ssl_object = writer.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True)
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError, ssl.SSLError):
            await writer.wait_closed()
    return x509.load_der_x509_certificate(der)


async def test_two_replicas_share_one_secret_and_serve_certificates_of_one_ca(
    start_operator: StartOperator, kubectl: Kubectl, tmp_path: Path
) -> None:
    long = Validity(ca=timedelta(days=30), serving=timedelta(days=3), overlap=timedelta(minutes=1))
    first, second = options(tmp_path / "a", validity=long), options(tmp_path / "b", validity=long)
    await chart_objects(kubectl, first)

    await asyncio.gather(start_operator(webhook=first), start_operator(webhook=second))

    data = await eventually(lambda: secret_data(kubectl) or None, what="the Secret filled")
    assert set(data) == {"ca.crt", "ca.key", "tls.crt", "tls.key"}
    bundle = await eventually(lambda: ca_bundle(kubectl), timeout=LOADED, what="the caBundle")
    assert bundle == data["ca.crt"]
    ca = x509.load_pem_x509_certificate(data["ca.crt"])
    for webhook in (first, second):
        certificate = await serving(webhook.port, bundle)
        certificate.verify_directly_issued_by(ca)
        assert certificate == x509.load_pem_x509_certificate(data["tls.crt"])


async def test_a_restarted_operator_keeps_the_ca_and_certificate_of_the_secret(
    start_operator: StartOperator, kubectl: Kubectl, tmp_path: Path
) -> None:
    long = Validity(ca=timedelta(days=30), serving=timedelta(days=3), overlap=timedelta(minutes=1))
    webhook = options(tmp_path / "first", validity=long)
    await chart_objects(kubectl, webhook)
    operator = await start_operator(webhook=webhook)
    before = await eventually(lambda: secret_data(kubectl) or None, what="the Secret filled")
    version = (kubectl.get(SECRETS, SECRET, NAMESPACE) or {})["metadata"]["resourceVersion"]
    await operator.stop()

    restarted = options(tmp_path / "second", validity=long, port=webhook.port)
    await start_operator(webhook=restarted)

    assert secret_data(kubectl) == before
    assert (kubectl.get(SECRETS, SECRET, NAMESPACE) or {})["metadata"]["resourceVersion"] == version
    assert (tmp_path / "second" / "ca.crt").read_bytes() == before["ca.crt"]
    served = await serving(restarted.port, before["ca.crt"])
    assert served == x509.load_pem_x509_certificate(before["tls.crt"])


async def test_bad_data_in_the_secret_is_replaced_and_the_operator_keeps_serving(
    start_operator: StartOperator, kubectl: Kubectl, tmp_path: Path
) -> None:
    webhook = options(tmp_path)
    await chart_objects(kubectl, webhook)
    await kubectl.patch(
        SECRETS, SECRET, {"data": {"ca.crt": "bm90IGEgY2VydGlmaWNhdGU=", "tls.key": "%%%"}}, NAMESPACE
    )

    await start_operator(webhook=webhook)

    data = await eventually(lambda: secret_data(kubectl).get("ca.key"), what="a new CA")
    assert data
    bundle = await eventually(lambda: ca_bundle(kubectl), timeout=LOADED, what="the caBundle")
    await serving(webhook.port, bundle)


async def test_a_rotation_in_seconds_under_continuous_calls_fails_no_request(
    start_operator: StartOperator, kubectl: Kubectl, tmp_path: Path
) -> None:
    first, second = options(tmp_path / "a"), options(tmp_path / "b")
    await chart_objects(kubectl, first)
    await asyncio.gather(start_operator(webhook=first), start_operator(webhook=second))
    bundle = await eventually(lambda: ca_bundle(kubectl), timeout=LOADED, what="the caBundle")
    for webhook in (first, second):
        await serving(webhook.port, bundle)
    initial_ca = x509.load_pem_x509_certificate(secret_data(kubectl)["ca.crt"])

    calls = Calls(kubectl)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + SHORT.ca.total_seconds() * 2
    while loop.time() < deadline and not calls.rotated_and_settled(initial_ca):
        for webhook in (first, second):
            await calls.call(webhook.port)
        await asyncio.sleep(0.01)

    assert calls.certificate_failures == [], f"{len(calls.certificate_failures)} of {calls.count}"
    # Calls went on through the rotation, however few a busy machine makes: with the first CA alone in the
    # bundle, then with old and new together (each call a new TLS session, verified against the bundle).
    assert [size for size, _ in itertools.groupby(calls.bundle_sizes)][:2] == [1, 2], calls.bundle_sizes
    assert len(calls.issuers) >= 2, f"the CA rotated; connection failures: {calls.connection_failures[:3]}"
    assert 2 in calls.bundle_sizes, "old and new CA were trusted together"
    assert calls.rotated_and_settled(initial_ca), "the first CA left the bundle, the new one alone in it"
    assert len(calls.serials) >= 4, "the serving certificate was renewed several times"
    assert initial_ca not in x509.load_pem_x509_certificates(ca_bundle(kubectl) or b"")
    assert calls.connection_failures == [], f"{len(calls.connection_failures)} of {calls.count}"


class Calls:
    """AdmissionReviews sent as the API server would: trusting the caBundle the configuration holds now."""

    def __init__(self, kubectl: Kubectl) -> None:
        self.kubectl = kubectl
        self.body = review("CREATE", sample("process-size"))
        self.contexts: dict[bytes, ssl.SSLContext] = {}
        self.count = 0
        self.certificate_failures: list[str] = []
        self.connection_failures: list[str] = []
        self.issuers: set[str] = set()
        self.serials: set[int] = set()
        self.bundle_sizes: list[int] = []

    def rotated_and_settled(self, initial_ca: x509.Certificate) -> bool:
        """The first CA was replaced and dropped, the bundle back to one CA."""
        bundle = x509.load_pem_x509_certificates(ca_bundle(self.kubectl) or b"")
        return (
            len(self.issuers) >= 2 and 2 in self.bundle_sizes and bundle != [initial_ca] and len(bundle) == 1
        )

    async def call(self, port: int) -> None:
        bundle = ca_bundle(self.kubectl)
        assert bundle is not None
        self.bundle_sizes.append(len(x509.load_pem_x509_certificates(bundle)))
        context = self.contexts.setdefault(bundle, ssl.create_default_context(cadata=bundle.decode("ascii")))
        self.count += 1
        connector = aiohttp.TCPConnector(ssl=context, force_close=True)
        try:
            served = await served_certificate(port, bundle)  # what this call is about to be served, verified
            self.issuers.add(served.issuer.rfc4514_string())
            self.serials.add(served.serial_number)
            async with (
                aiohttp.ClientSession(connector=connector) as session,
                session.post(f"https://localhost:{port}/validate-memory", json=self.body) as answer,
            ):
                verdict = await answer.json()
                if answer.status != 200 or not verdict["response"]["allowed"]:
                    self.certificate_failures.append(f"answered {answer.status}: {verdict}")
        except (aiohttp.ClientConnectorCertificateError, ssl.SSLCertVerificationError) as error:
            self.certificate_failures.append(str(error))
        except (aiohttp.ClientConnectionError, ssl.SSLError, OSError) as error:
            self.connection_failures.append(f"{type(error).__name__}: {error}")


async def test_without_its_secret_the_operator_says_so_and_serves_once_it_exists(
    start_operator: StartOperator, kubectl: Kubectl, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    webhook = options(tmp_path)
    await create_webhook_configurations(kubectl, webhook)
    starting = asyncio.ensure_future(start_operator(webhook=webhook))
    await eventually(
        lambda: "does not exist: the chart creates it" in caplog.text, what="the missing Secret logged"
    )
    assert not starting.done()  # no certificates, no server

    await kubectl.create(SECRETS, {"metadata": {"name": SECRET}, "type": "Opaque"}, NAMESPACE)
    await starting

    bundle = await eventually(lambda: ca_bundle(kubectl), timeout=LOADED, what="the caBundle")
    await serving(webhook.port, bundle)
