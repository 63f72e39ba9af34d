"""The operator's webhook server as the tests reach it: started with a development CA, over HTTPS.

Shared by the validating and the mutating webhook tests: a free loopback port, the operator started
with self-signed certificates in a temporary directory, and an HTTPS session that trusts only that CA,
returned once the server accepts connections.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp

from flink_tm_memory.runtime.certificates import CA_FILE
from flink_tm_memory.runtime.options import WebhookOptions
from tests.integration.conftest import StartOperator


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@asynccontextmanager
async def webhook_session(
    start_operator: StartOperator, cert_dir: Path, timeout: float = 10.0, **operator_options: object
) -> AsyncIterator[tuple[aiohttp.ClientSession, str]]:
    """Starts the operator with its webhook server (and other options, if given); yields an HTTPS session
    and the server's base URL."""
    port = free_port()
    options = WebhookOptions(
        port=port,
        listen="127.0.0.1",
        cert_dir=cert_dir,
        self_signed_hosts=("127.0.0.1", "localhost"),
        drain_seconds=0.0,  # no Service to drop this server from: stop at once
    )
    await start_operator(webhook=options, **operator_options)
    trust = ssl.create_default_context(cafile=str(cert_dir / CA_FILE))
    base = f"https://localhost:{port}"
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=trust)) as session:
        await _wait_listening(session, base, timeout)
        yield session, base


async def _wait_listening(session: aiohttp.ClientSession, base: str, timeout: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            async with session.get(base):
                return  # any HTTP answer means the TLS listener is up
        except aiohttp.ClientConnectionError:
            if loop.time() > deadline:
                raise
            await asyncio.sleep(0.05)
