"""A TCP proxy the test controls, between the operator and the emulated API server: an outage on demand.

Up, it relays bytes both ways. Down, it resets every open connection and every new one at once
(``SO_LINGER`` 0: the peer sees a connection reset, as when an API server or a load balancer in
front of it goes away), while still accepting them, so every attempt the operator makes is counted.
The test's own client talks to the emulator directly, so users can keep editing during the outage.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import time

from yarl import URL


class ApiProxy:
    def __init__(self, upstream: URL) -> None:
        self._upstream = upstream
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.up = True
        self.connections: list[tuple[float, bool]] = []
        """(monotonic time, was the proxy up) of every connection the operator opened."""

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"

    async def __aenter__(self) -> ApiProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._open):
            _reset(writer)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    def go_down(self) -> None:
        """Resets every open connection; new ones are reset as they come."""
        self.up = False
        for writer in list(self._open):
            _reset(writer)
        self._open.clear()

    def come_back(self) -> None:
        self.up = True

    def opened_while_down(self) -> int:
        return sum(1 for _, up in self.connections if not up)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections.append((time.monotonic(), self.up))
        if not self.up:
            _reset(writer)
            return
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(
                self._upstream.host, self._upstream.port
            )
        except OSError:
            _reset(writer)
            return
        self._open.update((writer, upstream_writer))
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await asyncio.gather(_pipe(reader, upstream_writer), _pipe(upstream_reader, writer))
        finally:
            self._tasks.discard(task)
            for end in (writer, upstream_writer):
                self._open.discard(end)
                end.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError, asyncio.IncompleteReadError):
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
    with contextlib.suppress(OSError):
        writer.close()


def _reset(writer: asyncio.StreamWriter) -> None:
    """Closes with a TCP RST instead of a FIN."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
