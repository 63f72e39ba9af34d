"""The admission server alone: its answers, its errors, its own thread, its readiness, its drain and stop.

Each test starts a real server on a free loopback port with a development CA and webhook steps
written here, and talks to it over HTTPS.
"""

from __future__ import annotations

import asyncio
import base64
import http.client
import json
import socket
import ssl
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from flink_tm_memory.cluster.contact import ApiContact
from flink_tm_memory.runtime.admission.review import AdmissionAnswer, Json, chain, review_response
from flink_tm_memory.runtime.admission.server import AdmissionServer, AdmissionServerError, Webhook
from flink_tm_memory.runtime.admission.tls import ServingTls
from flink_tm_memory.runtime.certificates import ServingCertificates, generate_certificates
from flink_tm_memory.runtime.metrics import OperatorMetrics

POD = ("", "pods")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def review(obj: Json | None = None, *, user: str = "alice", resource: str = "pods") -> Json:
    return {
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": "uid-1",
            "resource": {"group": "", "version": "v1", "resource": resource},
            "operation": "CREATE",
            "userInfo": {"username": user},
            "object": obj if obj is not None else {"metadata": {"name": "p", "labels": {"a": "b"}}},
        },
    }


async def patching(request: Json) -> AdmissionAnswer:
    name = request["object"]["metadata"]["name"]
    operation = {"op": "add", "path": "/metadata/annotations", "value": {"seen": name}}
    return AdmissionAnswer(True, warnings=("looked at it",), patch=(operation,))


async def denying_bob(request: Json) -> AdmissionAnswer:
    if request["userInfo"]["username"] == "bob":
        return AdmissionAnswer(False, "bob may not", 403, ("who is bob",))
    return AdmissionAnswer(True, warnings=("checked the user",))


async def failing(_: Json) -> AdmissionAnswer:
    raise RuntimeError("a bug")


class Running:
    def __init__(self, server: AdmissionServer, base: str, trust: ssl.SSLContext, metrics: OperatorMetrics):
        self.server, self.base, self.trust, self.metrics = server, base, trust, metrics

    async def post(self, path: str, body: Json | bytes) -> tuple[int, Any, str]:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        async with (
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=self.trust)) as session,
            session.post(f"{self.base}/{path}", data=data) as answer,
        ):
            parsed = await answer.json() if answer.content_type == "application/json" else None
            return answer.status, parsed, answer.reason or ""


def counted(metrics: OperatorMetrics, webhook: str, outcome: str) -> float:
    value = metrics.registry.get_sample_value(
        "flink_tm_memory_webhook_requests_total", {"webhook": webhook, "outcome": outcome}
    )
    return value or 0.0


@pytest.fixture
def certificates(tmp_path: Path) -> ServingCertificates:
    return generate_certificates(tmp_path, ["localhost", "127.0.0.1"])


@pytest.fixture
async def running(certificates: ServingCertificates) -> AsyncIterator[Running]:
    background_threads: list[str] = []

    async def background() -> None:
        background_threads.append(threading.current_thread().name)
        await asyncio.Event().wait()

    metrics = OperatorMetrics(ApiContact(), webhooks=("mutate", "validate"), runtime_collectors=False)
    port = free_port()
    server = AdmissionServer(
        listen="127.0.0.1",
        port=port,
        tls=ServingTls(certificates),
        webhooks=(
            Webhook("mutate", POD, patching),
            Webhook("validate", POD, chain(denying_bob, patching)),
            Webhook("failing", POD, failing),
        ),
        metrics=metrics,
        background=(background,),
    )
    await server.start()
    assert certificates.cafile is not None
    trust = ssl.create_default_context(cafile=str(certificates.cafile))
    try:
        yield Running(server, f"https://localhost:{port}", trust, metrics)
    finally:
        await server.stop()
    assert background_threads == ["admission"]


async def test_an_answer_is_an_admission_review_v1_with_the_uid_warnings_and_a_base64_json_patch(
    running: Running,
) -> None:
    status, answer, _ = await running.post("mutate", review())

    assert status == 200
    assert answer["apiVersion"] == "admission.k8s.io/v1"
    assert answer["kind"] == "AdmissionReview"
    response = answer["response"]
    assert response["uid"] == "uid-1"
    assert response["allowed"] is True
    assert response["warnings"] == ["looked at it"]
    assert response["patchType"] == "JSONPatch"
    assert json.loads(base64.b64decode(response["patch"])) == [
        {"op": "add", "path": "/metadata/annotations", "value": {"seen": "p"}}
    ]
    assert counted(running.metrics, "mutate", "patched") == 1


async def test_a_chain_sees_the_user_and_the_first_denial_answers_with_its_code_and_message(
    running: Running,
) -> None:
    _, denied, _ = await running.post("validate", review(user="bob"))
    _, allowed, _ = await running.post("validate", review(user="alice"))

    assert denied["response"] == {
        "uid": "uid-1",
        "allowed": False,
        "status": {"code": 403, "message": "bob may not"},
        "warnings": ["who is bob"],
    }
    assert allowed["response"]["allowed"] is True
    assert allowed["response"]["warnings"] == ["checked the user", "looked at it"]
    assert "patch" in allowed["response"]
    assert counted(running.metrics, "validate", "denied") == 1


async def test_a_review_of_another_resource_is_a_400_naming_the_field(running: Running) -> None:
    status, _, reason = await running.post("mutate", review(resource="configmaps"))

    assert status == 400
    assert reason == "Malformed AdmissionReview: request.resource: /mutate reviews pods only"
    assert counted(running.metrics, "mutate", "error") == 1


@pytest.mark.parametrize(
    ("body", "said"),
    [
        (b"\xff\xfe", "not UTF-8 JSON"),
        (b"[" * 5000 + b"]" * 5000, "nested too deeply to be read"),
        (
            json.dumps({**review(), "apiVersion": "admission.k8s.io/v1beta1"}).encode(),
            "expected an Admission",
        ),
        (json.dumps({**review(), "request": {**review()["request"], "userInfo": None}}).encode(), "userInfo"),
    ],
    ids=["not-utf8", "too-deep", "v1beta1", "no-user"],
)
async def test_a_malformed_body_is_a_400_with_the_reason(running: Running, body: bytes, said: str) -> None:
    status, _, reason = await running.post("mutate", body)

    assert status == 400
    assert said in reason


async def test_a_step_that_raises_is_a_500_counted_as_an_error_and_the_server_goes_on(
    running: Running,
) -> None:
    status, _, _ = await running.post("failing", review())

    assert status == 500
    assert counted(running.metrics, "unknown", "error") == 1  # a path the metrics do not know
    assert (await running.post("mutate", review()))[0] == 200


async def test_an_unknown_path_is_a_404(running: Running) -> None:
    assert (await running.post("nothing-here", review()))[0] == 404


def _blocking_post(base: str, trust: ssl.SSLContext, results: list[int]) -> None:
    host, port = base.removeprefix("https://").split(":")
    connection = http.client.HTTPSConnection(host, int(port), context=trust, timeout=10)
    try:
        for _ in range(5):
            connection.request("POST", "/mutate", body=json.dumps(review()).encode())
            answer = connection.getresponse()
            answer.read()
            results.append(answer.status)
    finally:
        connection.close()


async def test_requests_are_answered_while_the_callers_event_loop_is_blocked(running: Running) -> None:
    results: list[int] = []
    client = threading.Thread(target=_blocking_post, args=(running.base, running.trust, results))

    client.start()
    deadline = time.monotonic() + 10
    while len(results) < 5 and time.monotonic() < deadline:
        time.sleep(0.01)  # holds this event loop on purpose: the server has a loop of its own
    client.join(10)

    assert results == [200] * 5


async def test_readiness_fails_while_draining_yet_requests_are_answered_until_stopped(
    running: Running,
) -> None:
    assert running.server.check().ok

    running.server.drain()

    check = running.server.check()
    assert not check.ok
    assert "draining" in check.message
    assert (await running.post("mutate", review()))[0] == 200

    await running.server.stop()

    assert not running.server.check().ok
    with pytest.raises(aiohttp.ClientConnectionError):
        await running.post("mutate", review())


async def test_a_port_already_taken_is_a_clear_error(certificates: ServingCertificates) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = AdmissionServer(
            listen="127.0.0.1",
            port=port,
            tls=ServingTls(certificates),
            webhooks=(Webhook("m", POD, patching),),
        )

        with pytest.raises(
            AdmissionServerError, match=f"cannot serve the admission webhooks on 127.0.0.1:{port}"
        ):
            await server.start()


def test_a_response_without_warnings_or_patch_carries_neither() -> None:
    answer = review_response({"uid": "u"}, AdmissionAnswer(True))

    assert answer["response"] == {"uid": "u", "allowed": True}
