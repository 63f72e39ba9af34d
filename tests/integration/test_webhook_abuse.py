"""The webhook server under slow, malformed and hostile clients keeps answering well-behaved ones.

The operator runs with its HTTPS webhook server (as in ``test_validating_webhook``); each test opens
abusive connections of one kind (headers or a body trickled byte by byte, plain HTTP or garbage on the
TLS port, hundreds of idle connections, oversized or truncated requests, AdmissionReviews of another
version) and, while they are open, a well-behaved client asks for verdicts. Every verdict must come
before the API server would give up on the webhook (``timeoutSeconds``, 5 s for validation): that is
the webhook's contract, not a benchmark (latency is measured in ``benchmarks/webhook_latency.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from flink_tm_memory.render.webhook_configurations import VALIDATE_MEMORY_PATH
from flink_tm_memory.runtime.admission.server import BODY_TIMEOUT
from flink_tm_memory.runtime.certificates import CA_FILE
from tests.integration.conftest import StartOperator
from tests.integration.test_validating_webhook import Webhook, review, sample
from tests.integration.webhooks import webhook_session

API_SERVER_TIMEOUT = 5.0
"""The validating webhook's ``timeoutSeconds``: after it, the API server stops waiting for an answer."""

Streams = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class Server:
    """The operator's webhook server: a well-behaved client, and raw connections for abusive ones."""

    def __init__(self, webhook: Webhook, port: int, trust: ssl.SSLContext) -> None:
        self.webhook = webhook
        self.port = port
        self.trust = trust
        self.opened: list[asyncio.StreamWriter] = []

    async def verdicts(self, count: int = 10) -> None:
        """``count`` verdicts in a row, each within the API server's timeout."""
        for _ in range(count):
            response = await asyncio.wait_for(
                self.webhook.admit(review("CREATE", sample("conflicting"))), API_SERVER_TIMEOUT
            )
            assert response["allowed"] is False

    async def tls(self) -> Streams:
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", self.port, ssl=self.trust, server_hostname="localhost"
        )
        self.opened.append(writer)
        return reader, writer

    async def tcp(self) -> Streams:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        self.opened.append(writer)
        return reader, writer

    async def close(self) -> None:
        for writer in self.opened:
            writer.close()
            with contextlib.suppress(OSError, ssl.SSLError):
                await writer.wait_closed()


@pytest.fixture
async def server(start_operator: StartOperator, tmp_path: Path) -> AsyncIterator[Server]:
    async with webhook_session(start_operator, tmp_path) as (session, base):
        trust = ssl.create_default_context(cafile=str(tmp_path / CA_FILE))
        running = Server(Webhook(session, base), int(base.rsplit(":", 1)[1]), trust)
        yield running
        await running.close()


def request_head(length: int, path: str = VALIDATE_MEMORY_PATH) -> bytes:
    return (
        f"POST /{path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        f"Content-Length: {length}\r\n\r\n"
    ).encode()


async def while_open(abuse: Awaitable[Any], server: Server) -> None:
    """Runs ``abuse`` in the background while the well-behaved client gets its verdicts."""
    task = asyncio.ensure_future(abuse)
    try:
        await server.verdicts()
        assert not task.done() or task.exception() is None
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, OSError, ssl.SSLError):
            await task


async def test_slowloris_headers_do_not_hold_up_other_requests(server: Server) -> None:
    async def trickle_headers() -> None:
        connections = [await server.tls() for _ in range(50)]
        head = request_head(100)[:-4]  # never the blank line that ends the headers
        for position in range(len(head)):
            for _, writer in connections:
                writer.write(head[position : position + 1])
                await writer.drain()
            await asyncio.sleep(0.02)

    await while_open(trickle_headers(), server)


async def test_a_body_trickled_byte_by_byte_holds_no_one_up_and_times_out(server: Server) -> None:
    body = json.dumps(review("CREATE", sample("process-size"))).encode()

    async def trickle_body() -> None:
        connections = [await server.tls() for _ in range(20)]
        for _, writer in connections:
            writer.write(request_head(len(body)))
        for position in range(len(body)):
            for _, writer in connections:
                writer.write(body[position : position + 1])
                await writer.drain()
            await asyncio.sleep(0.05)

    await while_open(trickle_body(), server)

    reader, writer = await server.tls()
    writer.write(request_head(len(body)) + body[:10])
    status_line = await asyncio.wait_for(reader.readline(), BODY_TIMEOUT + API_SERVER_TIMEOUT)
    assert status_line.startswith(b"HTTP/1.1 408 ")


async def test_hundreds_of_idle_connections_do_not_hold_up_other_requests(server: Server) -> None:
    async def idle() -> None:
        for _ in range(300):
            await server.tcp()
        for _ in range(100):
            await server.tls()
        await asyncio.Event().wait()

    await while_open(idle(), server)


async def test_plain_http_on_the_tls_port_gets_no_http_answer(server: Server) -> None:
    body = json.dumps(review("CREATE", sample("process-size"))).encode()
    reader, writer = await server.tcp()
    writer.write(request_head(len(body)) + body)
    await writer.drain()

    answer = await asyncio.wait_for(reader.read(), API_SERVER_TIMEOUT)

    assert not answer.startswith(b"HTTP/")  # a TLS alert or nothing: there is no plain-HTTP endpoint
    await server.verdicts(2)


@pytest.mark.parametrize(
    "hello",
    [
        b"\x16\x03\x01\x00\xff" + os.urandom(255),  # a handshake record of random bytes
        b"\x16\x03\x01\xff\xff" + b"\x01" * 64,  # a record that announces 64 KiB and ends
        os.urandom(4096),
        b"\x16\x03\x03\x00\x05\x01\x00\x00\x01\x00",  # a ClientHello cut short
    ],
    ids=["random-hello", "truncated-record", "random-bytes", "short-hello"],
)
async def test_garbage_tls_does_not_hold_up_other_requests(server: Server, hello: bytes) -> None:
    async def garbage() -> None:
        for _ in range(20):
            _, writer = await server.tcp()
            writer.write(hello)
            await writer.drain()
        await asyncio.Event().wait()

    await while_open(garbage(), server)


Raw = Callable[[Server], Awaitable[bytes]]


async def status_of(server: Server, data: bytes) -> int:
    """The status code of the answer to ``data`` (aiohttp answers a request it cannot parse in HTTP/1.0)."""
    reader, writer = await server.tls()
    writer.write(data)
    await writer.drain()
    status_line = await asyncio.wait_for(reader.readline(), API_SERVER_TIMEOUT)
    assert status_line.startswith((b"HTTP/1.1 ", b"HTTP/1.0 ")), status_line
    return int(status_line.split()[1])


REQUESTS: dict[str, tuple[bytes, int]] = {
    "a body over 1 MiB": (request_head(2 << 20) + b"{" * (2 << 20), 413),
    "a header over 8 KiB": (
        b"POST /validate-memory HTTP/1.1\r\nHost: localhost\r\nX-Pad: " + b"x" * 20000 + b"\r\n\r\n",
        400,
    ),
    "a request line over 8 KiB": (b"POST /" + b"a" * 20000 + b" HTTP/1.1\r\n\r\n", 400),
    "not HTTP at all": (b"\x00\x01\x02 hello\r\n\r\n", 400),
    "a negative length": (request_head(-1), 400),
    "invalid JSON": (request_head(9) + b"{not json", 400),
}


@pytest.mark.parametrize(("data", "status"), REQUESTS.values(), ids=REQUESTS.keys())
async def test_a_malformed_request_gets_a_client_error_and_others_are_still_answered(
    server: Server, data: bytes, status: int
) -> None:
    assert await status_of(server, data) == status
    await server.verdicts(2)


async def test_a_body_cut_short_by_a_closed_connection_harms_nothing(server: Server) -> None:
    _, writer = await server.tls()
    writer.write(request_head(10_000) + b'{"apiVersion": "admission.k8s.io/v1"')
    await writer.drain()
    writer.close()

    await server.verdicts(2)


@pytest.mark.parametrize(
    ("api_version", "kind"),
    [("admission.k8s.io/v1beta1", "AdmissionReview"), ("v1", "Pod"), (None, "AdmissionReview"), (1, None)],
    ids=["v1beta1", "a-pod", "no-version", "a-number"],
)
async def test_an_admission_review_of_another_version_or_kind_is_a_client_error(
    server: Server, api_version: object, kind: object
) -> None:
    body = review("CREATE", sample("process-size"))
    body["apiVersion"], body["kind"] = api_version, kind

    status, _ = await server.webhook.post(body)

    assert status == 400
    await server.verdicts(2)


async def test_many_concurrent_hostile_clients_and_the_verdicts_still_come(server: Server) -> None:
    hostile = {"flinkConfiguration": {"taskmanager.memory.process.size": "9" * 16000}}

    async def flood() -> None:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=server.trust)) as session:
            while True:
                body = review("CREATE", {**sample("process-size"), "spec": hostile})
                async with session.post(server.webhook.url, json=body) as answer:
                    assert answer.status == 200
                    assert (await answer.json())["response"]["allowed"] is False

    await while_open(asyncio.gather(*(flood() for _ in range(4))), server)


def _review_with(path: str, value: object, *, pod: bool = False) -> dict[str, Any]:
    body = review("CREATE", sample("process-size"))
    if pod:
        body["request"]["resource"] = {"group": "", "version": "v1", "resource": "pods"}
    *parents, last = path.split(".")
    target = body
    for key in parents:
        target = target[key]
    target[last] = value
    return body


UNREADABLE = {  # found by fuzzing the served webhook: each was a 500 from inside kopf
    "metadata-true": _review_with("request.object.metadata", True),
    "metadata-a-list": _review_with("request.object.metadata", [], pod=True),
    "metadata-a-string": _review_with("request.object.metadata", "2048m"),
    "labels-a-list": _review_with("request.object.metadata.labels", ["a"], pod=True),
    "resource-empty": _review_with("request.resource.resource", ""),
    "resource-of-10-KiB": _review_with("request.resource.resource", "x" * 10240),
}


@pytest.mark.parametrize("body", UNREADABLE.values(), ids=UNREADABLE.keys())
async def test_a_review_kopf_cannot_read_is_a_client_error_with_a_short_reason(
    server: Server, body: dict[str, Any]
) -> None:
    path = "mutate-pod" if body["request"]["resource"].get("resource") == "pods" else VALIDATE_MEMORY_PATH
    data = json.dumps(body).encode()

    status_line = await exchange_line(server, request_head(len(data), path) + data)

    assert status_line.startswith(b"HTTP/1.1 400 Malformed AdmissionReview: request.")
    assert len(status_line) < 200
    await server.verdicts(2)


async def exchange_line(server: Server, data: bytes) -> bytes:
    reader, writer = await server.tls()
    writer.write(data)
    await writer.drain()
    return await asyncio.wait_for(reader.readline(), API_SERVER_TIMEOUT)


def nested(depth: int) -> Any:
    value: Any = "2g"
    for _ in range(depth):
        value = [value]
    return value


SERVED_HOSTILE = {
    "a-million-digits": (
        {"flinkConfiguration": {"taskmanager.memory.process.size": "1" * 1_000_000}},
        "more than the 65536 bytes",
    ),
    "ten-thousand-keys": (
        {"flinkConfiguration": {f"key.{index}": "v" for index in range(10_000)}},
        "(10000 options)",
    ),
    "nested-50-deep": (
        {"flinkConfiguration": {"taskmanager.memory.process.size": nested(50)}},
        "nested more than 16 levels",
    ),
    "nan-fraction": ({"flinkConfiguration": {"taskmanager.memory.managed.fraction": math.nan}}, "NaN"),
    "fullwidth-unit": (
        {"flinkConfiguration": {"taskmanager.memory.process.size": "2048\uff4d"}},
        "Cannot read",
    ),
}


@pytest.mark.parametrize(("spec", "said"), SERVED_HOSTILE.values(), ids=SERVED_HOSTILE.keys())
async def test_a_hostile_spec_is_denied_by_the_served_webhook_naming_the_field(
    server: Server, spec: dict[str, Any], said: str
) -> None:
    body = review("CREATE", {**sample("process-size"), "spec": spec})
    data = json.dumps(body).encode()

    status, answer = await server.webhook.post(data)

    assert status == 200, answer
    message = answer["response"]["status"]["message"]
    assert answer["response"]["allowed"] is False
    assert message.startswith("spec.flinkConfiguration"), message
    assert said in message, message
    await server.verdicts(2)


@pytest.mark.parametrize("depth", [1100, 100_000])
async def test_a_body_nested_deeper_than_json_can_read_is_a_client_error(server: Server, depth: int) -> None:
    status, _ = await server.webhook.post(b"[" * depth + b"]" * depth)

    assert status == 400
    await server.verdicts(2)


async def test_an_object_nested_deeper_than_kopf_can_copy_is_a_client_error(server: Server) -> None:
    # Found while testing hostile specs: kopf deep-copies the object for its answer, a 500 at 900 levels.
    body = review("CREATE", {**sample("process-size"), "spec": {"flinkConfiguration": {"k": nested(900)}}})
    data = json.dumps(body).encode()

    status_line = await exchange_line(server, request_head(len(data)) + data)

    assert status_line.startswith(b"HTTP/1.1 400 Malformed AdmissionReview: request.object: nested more than")
    await server.verdicts(2)
