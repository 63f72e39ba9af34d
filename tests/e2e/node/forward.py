"""A TCP forwarder from this host's loopback into the cluster's network namespace.

What: ``Forwarder(namespace_path, ("127.0.0.1", 443))`` listens on ``127.0.0.1:<port>`` of the
namespace the tests run in, and joins each connection to a new connection made *inside* the
cluster's namespace to the target (the API server). kubectl, Helm and the Python client of the
tests, and a newcomer's shell after ``make cluster``, reach the cluster's API server this way.

Why in-process: a socket belongs to the namespace of the thread that created it, so one thread that
entered the cluster's namespace (``setns``) makes every outgoing socket, and the asyncio loop of a
second thread, still in this host's namespace, listens and copies bytes. No port of the host but a
loopback one is opened, and no traffic of the host's namespace goes anywhere but loopback.

Only the standard library is used.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Self

from tests.e2e.node.netns import enter_namespace

__all__ = ["Forwarder"]

_CHUNK = 65536


class Forwarder:
    """``127.0.0.1:<port>`` here -> ``target`` inside the namespace at ``namespace_path``."""

    def __init__(self, namespace_path: Path, target: tuple[str, int], port: int = 0) -> None:
        self._target = target
        self._requested_port = port
        self._connector = ThreadPoolExecutor(
            max_workers=1,
            thread_name_prefix="netns-connect",
            initializer=enter_namespace,
            initargs=(namespace_path,),
        )
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="forwarder", daemon=True)
        self._server: asyncio.Server | None = None
        self.port = 0

    def start(self) -> Self:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._listen(), self._loop)
        self.port = future.result(timeout=10)
        return self

    async def _listen(self) -> int:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self._requested_port)
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    def _connect(self) -> socket.socket:
        # Runs in the thread that entered the namespace: the socket is the namespace's.
        return socket.create_connection(self._target, timeout=10)

    async def _handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            upstream = await self._loop.run_in_executor(self._connector, self._connect)
        except OSError:
            client_writer.close()
            return
        upstream.settimeout(None)
        upstream.setblocking(False)
        server_reader, server_writer = await asyncio.open_connection(sock=upstream)
        await asyncio.gather(
            _pump(client_reader, server_writer), _pump(server_reader, client_writer), return_exceptions=True
        )

    def stop(self) -> None:
        async def close() -> None:
            if self._server is not None:
                self._server.close()
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self._server.wait_closed(), 2)

        if self._thread.is_alive():
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(close(), self._loop).result(timeout=5)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)
        if not self._thread.is_alive() and not self._loop.is_closed():
            self._loop.close()
        self._connector.shutdown(wait=False, cancel_futures=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while chunk := await reader.read(_CHUNK):
            writer.write(chunk)
            await writer.drain()
    finally:
        with contextlib.suppress(Exception):
            writer.close()
