"""Admission on its own: served without kopf, through certificate rotations, and drained on shutdown.

- A standby replica serves both webhooks: the admission pieces (the FlinkTaskManagerMemory cache fed
  by its own list+watch, the server in its own thread) run against the emulated API server with no
  kopf at all, and a pod is sized from the cache without a read of the resource.
- Certificate files rotated while requests flow (whole pairs swapped as the kubelet swaps a Secret
  volume, and a pair written one file at a time, key last): not one request fails, and the new
  certificate is served once the files agree.
- Readiness names the admission server and the cache; on shutdown the replica reports not ready
  while it still answers for the drain period, then stops listening.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import ssl
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp

from flink_tm_memory.cluster.client import ClusterClient, load_configuration
from flink_tm_memory.control.admission import VALIDATE_ID
from flink_tm_memory.control.mutation import MUTATE_ID
from flink_tm_memory.runtime.certificates import (
    CA_FILE,
    CERT_FILE,
    KEY_FILE,
    ServingCertificates,
    generate_certificates,
    mounted_certificates,
)
from flink_tm_memory.runtime.metrics import OperatorMetrics
from flink_tm_memory.runtime.options import WebhookOptions
from flink_tm_memory.service.admission import (
    ADMISSION_CHECK,
    MEMORY_CACHE_CHECK,
    SWITCH_INTERVAL,
    Admission,
)
from tests.integration.conftest import TEST_OPTIONS, StartOperator
from tests.integration.emulator import ApiEmulator
from tests.integration.health import HealthClient
from tests.integration.kubectl import MEMORIES, Kubectl, eventually, sample
from tests.integration.test_mutating_webhook import pod, pod_review, reads_of
from tests.integration.test_validating_webhook import review
from tests.integration.test_validating_webhook import sample as validating_sample
from tests.integration.webhooks import free_port

LOADED = 30.0
"""How long a wait may take on a busy machine: waits end as soon as the condition holds."""
Json = dict[str, Any]


def trusting(*certificates: ServingCertificates) -> ssl.SSLContext:
    trust = ssl.create_default_context()
    for each in certificates:
        assert each.cafile is not None
        trust.load_verify_locations(cafile=str(each.cafile))
    return trust


async def post(session: aiohttp.ClientSession, url: str, body: Json) -> Json:
    async with session.post(url, json=body) as answer:
        assert answer.status == 200, await answer.text()
        response: Json = (await answer.json())["response"]
        return response


@contextlib.asynccontextmanager
async def standby(emulator: ApiEmulator, cert_dir: Path) -> AsyncIterator[tuple[Admission, str]]:
    """The admission pieces of one replica, no kopf: yields them and the server's base URL."""
    port = free_port()
    webhook = WebhookOptions(port=port, listen="127.0.0.1", cert_dir=cert_dir, drain_seconds=0.0)
    client = ClusterClient(load_configuration(str(emulator.url)), request_timeout=1.0)
    metrics = OperatorMetrics(client.contact, runtime_collectors=False)
    admission = Admission(client, TEST_OPTIONS, webhook, mounted_certificates(cert_dir), metrics)
    try:
        async with admission.serving():
            yield admission, f"https://localhost:{port}"
    finally:
        client.close()


async def test_a_standby_without_kopf_validates_and_sizes_pods_from_its_own_watch(
    emulator: ApiEmulator, kubectl: Kubectl, tmp_path: Path
) -> None:
    certificates = generate_certificates(tmp_path, ["localhost"])
    interval = sys.getswitchinterval()
    async with (
        standby(emulator, tmp_path) as (admission, base),
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=trusting(certificates))) as session,
    ):
        assert sys.getswitchinterval() == SWITCH_INTERVAL  # a busy thread yields the GIL within 1 ms
        await eventually(lambda: admission.cache.synced, timeout=LOADED, what="the cache listed")
        assert admission.checks()[MEMORY_CACHE_CHECK]().ok
        assert admission.checks()[ADMISSION_CHECK]().ok
        await kubectl.create(MEMORIES, sample("process-size"))
        await eventually(
            lambda: admission.cache.get("default", "process-size"), timeout=LOADED, what="the watch event"
        )
        before = reads_of(emulator, "process-size")

        sized = await post(session, f"{base}/{MUTATE_ID}", pod_review(pod("process-size")))
        denied = await post(
            session, f"{base}/{VALIDATE_ID}", review("CREATE", validating_sample("conflicting"))
        )

        assert "patch" in sized
        assert reads_of(emulator, "process-size") == before  # from the cache, no API request
        assert denied["allowed"] is False
        assert denied["status"]["code"] == 422

        edit = {"spec": {"flinkConfiguration": {"taskmanager.memory.process.size": "4g"}}}
        await kubectl.patch(MEMORIES, "process-size", edit)

        def resized() -> bool:
            cached = admission.cache.get("default", "process-size")
            process = (cached or {}).get("spec", {}).get("flinkConfiguration", {})
            return bool(process.get("taskmanager.memory.process.size") == "4g")

        await eventually(resized, timeout=LOADED, what="the edit on the watch")
        await kubectl.delete(MEMORIES, "process-size")
        await eventually(
            lambda: admission.cache.get("default", "process-size") is None,
            timeout=LOADED,
            what="the deletion on the watch",
        )
    assert sys.getswitchinterval() == interval


def swap(source: Path, mounted: Path) -> None:
    """Points ``mounted`` to ``source`` in one rename, as the kubelet updates a Secret volume."""
    staged = mounted.with_name(f"{mounted.name}.staged")
    staged.symlink_to(source, target_is_directory=True)
    staged.replace(mounted)


async def test_certificates_rotated_while_requests_flow_fail_not_one_request(
    start_operator: StartOperator, tmp_path: Path
) -> None:
    pairs = [generate_certificates(tmp_path / f"pair-{index}", ["localhost"]) for index in range(4)]
    mounted = tmp_path / "mounted"
    swap(pairs[0].certfile.parent, mounted)
    port = free_port()
    options = WebhookOptions(
        port=port,
        listen="127.0.0.1",
        cert_dir=mounted,
        host="localhost",
        certificate_check_interval=0.05,
        drain_seconds=0.0,
    )
    await start_operator(webhook=options)
    trust = trusting(*pairs)
    url = f"https://localhost:{port}/{VALIDATE_ID}"
    body = review("CREATE", validating_sample("conflicting"))
    answered: list[int] = []
    failures: list[str] = []
    served: list[bytes] = []
    stop = asyncio.Event()

    async def client() -> None:
        # A new connection per request: each one is a handshake with whatever is loaded then.
        while not stop.is_set():
            connector = aiohttp.TCPConnector(ssl=trust, force_close=True)
            async with aiohttp.ClientSession(connector=connector) as session:
                try:
                    async with session.post(url, json=body) as answer:
                        payload = await answer.json()
                        assert answer.status == 200
                        assert payload["response"]["allowed"] is False
                        answered.append(answer.status)
                except (aiohttp.ClientError, AssertionError, ssl.SSLError) as error:
                    failures.append(repr(error))

    async def presented() -> bytes:
        _, writer = await asyncio.open_connection("127.0.0.1", port, ssl=trust, server_hostname="localhost")
        try:
            certificate: bytes = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
            return certificate
        finally:
            writer.close()

    ders = [ssl.PEM_cert_to_DER_cert(each.certfile.read_text()) for each in pairs]

    async def until_served(index: int) -> None:
        deadline = asyncio.get_running_loop().time() + LOADED
        while (certificate := await presented()) != ders[index]:
            assert asyncio.get_running_loop().time() < deadline, "the rotated certificate is not served"
            await asyncio.sleep(0.05)
        served.append(certificate)

    await until_served(0)
    clients = [asyncio.create_task(client()) for _ in range(4)]
    try:
        for index in (1, 2):  # whole pairs, swapped at once
            swap(pairs[index].certfile.parent, mounted)
            await until_served(index)
        # Written one file at a time into the directory itself: certificate first, the key later.
        target = pairs[2].certfile.parent
        shutil.copyfile(pairs[3].certfile, target / CERT_FILE)
        await asyncio.sleep(0.5)  # several checks see the new certificate with the old key
        assert await presented() == ders[2]  # the half-rotated pair is not served
        shutil.copyfile(pairs[3].pkeyfile, target / KEY_FILE)
        shutil.copyfile(pairs[3].cafile or pairs[3].certfile, target / CA_FILE)
        await until_served(3)
        await asyncio.sleep(0.2)
    finally:
        stop.set()
        await asyncio.gather(*clients)

    assert failures == []
    assert len(answered) > 20
    assert len(served) == 4


async def test_readiness_names_the_admission_server_and_the_cache_and_a_shutdown_drains_first(
    start_operator: StartOperator, tmp_path: Path
) -> None:
    port, metrics_port = free_port(), free_port()
    options = WebhookOptions(
        port=port,
        listen="127.0.0.1",
        cert_dir=tmp_path,
        self_signed_hosts=("localhost",),
        drain_seconds=3.0,
    )
    operator = await start_operator(webhook=options, metrics_port=metrics_port, metrics_listen="127.0.0.1")
    trust = ssl.create_default_context(cafile=str(tmp_path / CA_FILE))
    url = f"https://localhost:{port}/{VALIDATE_ID}"
    body = review("CREATE", validating_sample("kubernetes-quantity"))
    async with (
        aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(force_close=True)
        ) as plain,  # as a kubelet probes
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=trust, force_close=True)) as session,
    ):
        health = HealthClient(plain, metrics_port)
        await health.wait_listening()

        async def readyz() -> tuple[int, str]:
            return await health.get("/readyz?verbose")

        _, text = await eventually_status(readyz, 200)
        assert f"[+]{ADMISSION_CHECK} ok: serving on 127.0.0.1:{port}" in text, text
        assert f"[+]{MEMORY_CACHE_CHECK} ok" in text, text

        stopping = asyncio.create_task(operator.stop())
        _, text = await eventually_status(lambda: health.get(f"/readyz/{ADMISSION_CHECK}"), 503)
        assert "draining" in text
        assert (await post(session, url, body))["allowed"] is True  # not ready, still answering
        await stopping

        try:
            async with session.post(url, data=json.dumps(body)):
                raise AssertionError("the server still answers after the operator stopped")
        except aiohttp.ClientConnectionError:
            pass


async def eventually_status(probe: Any, wanted: int, timeout: float = LOADED) -> tuple[int, str]:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        status, text = await probe()
        if status == wanted:
            return status, text
        assert asyncio.get_running_loop().time() < deadline, text
        await asyncio.sleep(0.05)
