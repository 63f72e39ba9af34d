"""Operator-kept webhook configurations: patched at start, repaired, following a rotated CA; never created.

The operator runs with ``manage_configurations`` against the emulated API server, where the two
configurations exist without a ``caBundle`` (the chart creates them). They must come to carry the
``caBundle`` of the CA its HTTPS server's certificate comes from, and come back when someone edits
them; the operator never creates one (a deleted one is reported and patched once it is back). When
the mounted certificate files are replaced by ones from a new CA (as cert-manager rotates them), the
server presents the new certificate and the configurations carry the new CA, without a restart.
"""

from __future__ import annotations

import asyncio
import base64
import ssl
from pathlib import Path
from typing import Any

import aiohttp

from flink_tm_memory.render.webhook_configurations import (
    CONFIGURATION_NAME,
    ServiceEndpoint,
    UrlEndpoint,
    WebhookSetup,
    webhook_configurations,
)
from flink_tm_memory.runtime.certificates import CA_FILE, generate_certificates
from flink_tm_memory.runtime.options import WebhookOptions
from tests.integration.conftest import StartOperator
from tests.integration.emulator import ApiEmulator, kubernetes_status
from tests.integration.health import HealthClient
from tests.integration.kubectl import Kubectl, eventually
from tests.integration.webhooks import MUTATING, VALIDATING, create_webhook_configurations, free_port

CHECK_INTERVAL = 0.2
LOADED = 60.0  # a deadline, not a wait: generous for a busy machine
"""How long a wait may take on a machine busy with other work: waits end as soon as the condition holds."""
Json = dict[str, Any]


def managed(port: int, cert_dir: Path, **changes: Any) -> WebhookOptions:
    options: dict[str, Any] = {
        "port": port,
        "listen": "127.0.0.1",
        "cert_dir": cert_dir,
        "manage_configurations": True,
        "configuration_check_interval": CHECK_INTERVAL,
        "certificate_check_interval": CHECK_INTERVAL,
        "drain_seconds": 0.0,
        **changes,
    }
    return WebhookOptions(**options)


def configuration(kubectl: Kubectl, resource: str) -> Json | None:
    return kubectl.get(resource, CONFIGURATION_NAME, None)


def ca_bundles(kubectl: Kubectl) -> set[str]:
    """The caBundles of every webhook of both configurations; empty while one is missing."""
    found = [configuration(kubectl, resource) for resource in (VALIDATING, MUTATING)]
    if None in found:
        return set()
    return {
        webhook["clientConfig"].get("caBundle", "") for body in found if body for webhook in body["webhooks"]
    }


def encoded(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode("ascii")


async def start_managed(
    start_operator: StartOperator, kubectl: Kubectl, options: WebhookOptions, **more: Any
) -> None:
    await create_webhook_configurations(kubectl, options)
    await start_operator(webhook=options, **more)


def operator_writes(emulator: ApiEmulator, method: str) -> list[str]:
    return [
        request.url.path
        for request in emulator
        if request.method.value == method
        and "webhookconfigurations" in request.url.path
        and not request.headers.get("User-Agent", "").startswith("kmock/")
    ]


async def test_both_configurations_are_patched_with_the_serving_ca_and_the_direct_url_never_created(
    start_operator: StartOperator, kubectl: Kubectl, emulator: ApiEmulator, tmp_path: Path
) -> None:
    port = free_port()
    await start_managed(
        start_operator, kubectl, managed(port, tmp_path, self_signed_hosts=("127.0.0.1", "localhost"))
    )

    await eventually(lambda: ca_bundles(kubectl) == {encoded(tmp_path / CA_FILE)}, what="the caBundles")
    validating = configuration(kubectl, VALIDATING)
    mutating = configuration(kubectl, MUTATING)
    assert validating is not None
    assert mutating is not None
    urls = [body["webhooks"][0]["clientConfig"]["url"] for body in (validating, mutating)]
    assert urls == [f"https://127.0.0.1:{port}/validate-memory", f"https://127.0.0.1:{port}/mutate-pod"]
    assert len(operator_writes(emulator, "PATCH")) >= 2
    assert operator_writes(emulator, "POST") == []
    assert operator_writes(emulator, "DELETE") == []


async def test_a_service_endpoint_is_written_when_the_webhook_sits_behind_a_service(
    start_operator: StartOperator, kubectl: Kubectl, tmp_path: Path
) -> None:
    service = ServiceEndpoint("flink-system", "memory-webhook", 8443)
    options = managed(free_port(), tmp_path, self_signed_hosts=("localhost",), service=service)
    await start_managed(start_operator, kubectl, options)

    body = await eventually(lambda: configuration(kubectl, MUTATING), what="the mutating configuration")
    webhook = body["webhooks"][0]
    assert webhook["clientConfig"]["service"] == {
        "namespace": "flink-system",
        "name": "memory-webhook",
        "path": "/mutate-pod",
        "port": 8443,
    }
    excluded = webhook["namespaceSelector"]["matchExpressions"][0]["values"]
    assert "flink-system" in excluded


async def test_an_edited_configuration_is_put_back_and_a_deleted_one_patched_once_it_is_back(
    start_operator: StartOperator, kubectl: Kubectl, emulator: ApiEmulator, tmp_path: Path
) -> None:
    options = managed(free_port(), tmp_path, self_signed_hosts=("localhost",))
    await start_managed(start_operator, kubectl, options)
    wanted = encoded(tmp_path / CA_FILE)
    await eventually(lambda: ca_bundles(kubectl) == {wanted}, what="the caBundles")
    original = configuration(kubectl, VALIDATING)
    assert original is not None

    edited = [{**original["webhooks"][0], "failurePolicy": "Ignore", "clientConfig": {"url": "https://x/y"}}]
    await kubectl.patch(VALIDATING, CONFIGURATION_NAME, {"webhooks": edited}, None)
    await kubectl.delete(MUTATING, CONFIGURATION_NAME, None)

    def restored() -> bool:
        validating = configuration(kubectl, VALIDATING)
        return validating is not None and validating["webhooks"] == original["webhooks"]

    await eventually(restored, what="the validating configuration restored")
    await asyncio.sleep(CHECK_INTERVAL * 3)
    assert configuration(kubectl, MUTATING) is None  # not the operator's to create
    assert operator_writes(emulator, "POST") == []

    await create_webhook_configurations_of_kind(kubectl, options, MUTATING)  # the chart puts it back
    await eventually(lambda: ca_bundles(kubectl) == {wanted}, what="the re-created one patched")


async def create_webhook_configurations_of_kind(
    kubectl: Kubectl, options: WebhookOptions, resource: str
) -> None:
    validating, mutating = webhook_configurations(WebhookSetup(endpoint=UrlEndpoint(options.url)))
    await kubectl.create(resource, validating if resource == VALIDATING else mutating, None)


def mount(secret: Path, at: Path) -> None:
    """Points ``at`` to ``secret`` in one rename, as the kubelet updates a Secret volume: atomically."""
    staged = at.with_name(f"{at.name}.staged")
    staged.symlink_to(secret, target_is_directory=True)
    staged.replace(at)


async def test_a_rotated_certificate_is_served_and_its_ca_reaches_the_configurations(
    start_operator: StartOperator, kubectl: Kubectl, tmp_path: Path
) -> None:
    mounted = tmp_path / "mounted"
    generate_certificates(tmp_path / "first", ["localhost"])
    mount(tmp_path / "first", mounted)
    port = free_port()
    await start_managed(start_operator, kubectl, managed(port, mounted, host="localhost"))
    first_ca = encoded(mounted / CA_FILE)
    await eventually(lambda: ca_bundles(kubectl) == {first_ca}, timeout=LOADED, what="the first CA")

    generate_certificates(tmp_path / "second", ["localhost"])  # cert-manager renewed: a new CA and key
    mount(tmp_path / "second", mounted)
    second_ca = encoded(mounted / CA_FILE)
    assert second_ca != first_ca

    await eventually(lambda: ca_bundles(kubectl) == {second_ca}, timeout=LOADED, what="the second CA")
    trust = ssl.create_default_context(cafile=str(mounted / CA_FILE))
    status = await _eventually_answers(f"https://localhost:{port}/validate-memory", trust, timeout=LOADED)
    assert status == 400  # the new certificate verified; an empty POST is a client error, not a TLS one


async def test_a_refused_write_is_retried_at_the_next_check_and_the_operator_keeps_serving(
    start_operator: StartOperator, kubectl: Kubectl, emulator: ApiEmulator, tmp_path: Path
) -> None:
    forbidden = kubernetes_status(403, "Forbidden", "cannot patch validatingwebhookconfigurations")
    refused = emulator.matching("PATCH", VALIDATING)[:2] << 403 << forbidden

    await start_managed(
        start_operator, kubectl, managed(free_port(), tmp_path, self_signed_hosts=("localhost",))
    )

    await eventually(
        lambda: ca_bundles(kubectl) == {encoded(tmp_path / CA_FILE)}, timeout=LOADED, what="the caBundles"
    )
    assert len(list(refused)) == 2


async def _eventually_answers(url: str, trust: ssl.SSLContext, timeout: float = 5.0) -> int:
    last: list[BaseException] = []

    async def attempt() -> int | None:
        try:
            async with (
                aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=trust)) as session,
                session.post(url, data=b"") as answer,
            ):
                return answer.status
        except aiohttp.ClientError as error:
            last[:] = [error]
            return None

    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        status = await attempt()
        if status is not None:
            return status
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{url} never answered over TLS with the rotated certificate: {last!r}")
        await asyncio.sleep(0.05)


async def test_the_operator_is_ready_only_once_both_configurations_carry_its_ca(
    start_operator: StartOperator, kubectl: Kubectl, emulator: ApiEmulator, tmp_path: Path
) -> None:
    refusals = (
        20  # a window for the probe below: about 4 s of checks on a quiet machine, longer on a busy one
    )
    forbidden = kubernetes_status(403, "Forbidden", "cannot patch validatingwebhookconfigurations")
    refused = emulator.matching("PATCH", VALIDATING)[:refusals] << 403 << forbidden
    metrics_port = free_port()
    await start_managed(
        start_operator,
        kubectl,
        managed(free_port(), tmp_path, self_signed_hosts=("localhost",)),
        metrics_port=metrics_port,
        metrics_listen="127.0.0.1",
    )
    async with aiohttp.ClientSession() as session:
        health = HealthClient(session, metrics_port)
        await health.wait_listening()
        # While every write of the validating configuration is refused, the check must fail.
        before = len(list(refused))
        status, text = await health.get("/readyz/webhook-configurations")
        if len(list(refused)) < refusals:
            assert before < refusals
            assert status == 503, text
            assert "do not carry this server's CA yet" in text

        await eventually(
            lambda: configuration(kubectl, VALIDATING), timeout=LOADED, what="the validating configuration"
        )
        await eventually(
            lambda: ca_bundles(kubectl) == {encoded(tmp_path / CA_FILE)}, timeout=LOADED, what="the caBundles"
        )
        status, text = await _readyz_when(health, 200)
        assert status == 200, text
        assert "[+]webhook-configurations ok" in text


async def _readyz_when(health: HealthClient, wanted: int, timeout: float = LOADED) -> tuple[int, str]:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        status, text = await health.get("/readyz/webhook-configurations?verbose")
        if status == wanted or asyncio.get_running_loop().time() > deadline:
            return status, text
        await asyncio.sleep(0.05)
