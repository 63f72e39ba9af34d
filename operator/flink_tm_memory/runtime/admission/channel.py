"""The admission process's side of its link to the reconciling process: status out, commands in.

The child (``service.admission_child``) is started with two pipes: the parent writes commands to
its stdin, one per line (``drain``, ``stop``), and reads JSON lines from its stdout:

- ``{"serving": true}`` once the server listens with a certificate, or ``{"failed": "<why>"}`` when it
  cannot (the child then exits 1);
- ``{"checks": {"<name>": [<ok>, "<message>"], ...}, "api": {"<outcome>": <count>, ...}}``: its
  readiness checks and the requests its API client made so far, by outcome (the parent's metrics
  count them with its own), whenever they change, and at least every ``HEARTBEAT`` seconds, so that
  the parent also notices a child that stopped answering.

Nothing else may reach that stdout: ``ParentChannel.claim_stdout`` keeps the pipe on a descriptor of
its own and points descriptor 1 at stderr, where a stray ``print`` (or a C library's write) lands in
the log instead of corrupting the protocol. Both pipes are used through the event loop's pipe
transports, so a slow parent never blocks the server's loop.

The child must never outlive the parent (``die_with_parent``): on Linux ``PR_SET_PDEATHSIG`` has the
kernel send it SIGTERM when the parent dies, even by SIGKILL; the end of its stdin (the parent's
write end closes when the parent dies, on every platform) stops it too.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import json
import os
import signal
import sys
from collections.abc import AsyncIterator, Mapping
from typing import Any

from flink_tm_memory.runtime.health import CheckResult

HEARTBEAT = 1.0
"""Seconds between two status lines when nothing changed."""
DRAIN = "drain"
STOP = "stop"
_PR_SET_PDEATHSIG = 1


class ParentGoneError(Exception):
    """The process that started this one is no longer its parent."""


def die_with_parent(parent_pid: int) -> None:
    """Has the kernel SIGTERM this process when its parent dies; raises if it is already gone."""
    if sys.platform == "linux":
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
            error = ctypes.get_errno()
            raise OSError(error, f"prctl(PR_SET_PDEATHSIG): {os.strerror(error)}")
    if os.getppid() != parent_pid:  # it died before the request above: no signal will come
        raise ParentGoneError(f"the parent process {parent_pid} is gone")


def encode_status(checks: Mapping[str, CheckResult], api_requests: Mapping[str, int]) -> dict[str, Any]:
    return {
        "checks": {name: [result.ok, result.message] for name, result in checks.items()},
        "api": dict(api_requests),
    }


def decode_api_requests(message: Mapping[str, Any]) -> dict[str, int] | None:
    """The API requests by outcome of a status line, or ``None`` if it has none."""
    api = message.get("api")
    if not isinstance(api, dict):
        return None
    return {str(key): value for key, value in api.items() if isinstance(value, int) and value >= 0}


def decode_checks(message: Mapping[str, Any]) -> dict[str, CheckResult] | None:
    """The checks of a ``checks`` line, or ``None`` if it is not one."""
    checks = message.get("checks")
    if not isinstance(checks, dict):
        return None
    decoded: dict[str, CheckResult] = {}
    for name, value in checks.items():
        if isinstance(value, list) and len(value) == 2 and isinstance(value[0], bool):
            decoded[str(name)] = CheckResult(value[0], str(value[1]))
    return decoded


class ParentChannel:
    """This process's status lines to its parent and its parent's commands, over its stdio pipes."""

    def __init__(self, protocol_fd: int) -> None:
        self._protocol_fd = protocol_fd
        self._writer: asyncio.WriteTransport | None = None
        self._last: str | None = None

    @staticmethod
    def claim_stdout() -> int:
        """Keeps stdout's pipe on a new descriptor (returned) and points descriptor 1 at stderr."""
        sys.stdout.flush()
        protocol_fd = os.dup(1)
        os.dup2(2, 1)
        return protocol_fd

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        pipe = os.fdopen(self._protocol_fd, "wb", buffering=0)
        self._writer, _ = await loop.connect_write_pipe(asyncio.Protocol, pipe)

    def send(self, message: Mapping[str, Any]) -> None:
        """Writes one line without waiting (the transport buffers); nothing once the parent is gone."""
        self._write(json.dumps(message))

    def _write(self, line: str) -> None:
        if self._writer is not None and not self._writer.is_closing():
            self._writer.write(line.encode() + b"\n")

    def send_status(
        self, checks: Mapping[str, CheckResult], api_requests: Mapping[str, int], *, force: bool
    ) -> None:
        """Sends the checks and the API requests made so far if they changed since the last line, or if ``force``."""
        line = json.dumps(encode_status(checks, api_requests))
        if force or line != self._last:
            self._last = line
            self._write(line)

    async def commands(self) -> AsyncIterator[str]:
        """The parent's commands, one per line, until its end of the pipe closes."""
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        transport, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), sys.stdin.buffer
        )
        try:
            while line := await reader.readline():
                yield line.decode(errors="replace").strip()
        finally:
            transport.close()

    async def flushed(self) -> None:
        """Returns once every line sent has been written to the pipe (or the parent is gone)."""
        while (
            self._writer is not None
            and not self._writer.is_closing()
            and self._writer.get_write_buffer_size() > 0
        ):
            await asyncio.sleep(0.01)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
