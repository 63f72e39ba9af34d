"""The operator as a process of its own, started, killed and restarted by the reliability tests.

Two ways to run it. ``shipped`` is the command line as shipped, ``flink-tm-memory run``, reading a
kubeconfig that points at the emulator (the command line has no ``--server`` flag: in a cluster it
finds the API server itself). ``tuned`` runs the same ``run_operator`` with the integration tests'
short timings (request timeout, retry delay, kopf's backoffs), which the command line does not
expose: under injected timeouts the shipped 30 s request timeout would make a scenario last
minutes. Either way the operator has a process of its own, so it does not share the GIL with the
emulator, and a SIGKILL kills it as it would kill a pod.

    python -m tests.reliability.operator_process --server URL --options '{"retry_delay": 0.5}'
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import kmock
import yaml

from tests.integration.emulator import ApiEmulator
from tests.integration.kubectl import MEMORIES
from tests.integration.test_command_line import kubeconfig

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(sys.executable).parent / "flink-tm-memory"
START_TIMEOUT = 60.0


@dataclasses.dataclass
class Launch:
    """How to start the operator: its command and environment."""

    command: list[str]
    environment: dict[str, str]


def shipped(server: str, scratch: Path, *arguments: str) -> Launch:
    """``flink-tm-memory run ARGUMENTS`` with a kubeconfig pointing at ``server``."""
    config = scratch / "kubeconfig"
    config.write_text(yaml.safe_dump(kubeconfig(server)), encoding="utf-8")
    environment = {**os.environ, "KUBECONFIG": str(config)}
    environment.pop("KUBERNETES_SERVICE_HOST", None)
    return Launch([str(SCRIPT), "run", "--log-format", "full", *arguments], environment)


def tuned(server: str, **options: object) -> Launch:
    """``run_operator`` in a process, with ``options`` (``OperatorOptions`` fields) changed."""
    command = [sys.executable, "-m", "tests.reliability.operator_process", "--server", server]
    return Launch([*command, "--options", json.dumps(options)], dict(os.environ))


class OperatorProcess:
    """One operator at a time from ``launch``; its output appended to ``log``."""

    def __init__(self, launch: Launch, emulator: ApiEmulator, log: Path) -> None:
        self._launch = launch
        self._emulator = emulator
        self.log = log
        self.process: asyncio.subprocess.Process | None = None
        self.starts = 0
        self.kills = 0

    async def start(self) -> None:
        """Starts the operator and waits until it watches FlinkTaskManagerMemories."""
        assert self.process is None, "already running"
        seen = len(list(self._emulator))
        with self.log.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                *self._launch.command,
                cwd=ROOT,
                env=self._launch.environment,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.starts += 1
        memories = kmock.resource(MEMORIES)
        deadline = time.monotonic() + START_TIMEOUT
        while not any(
            request.params.get("watch") == "true" and request.resource == memories
            for request in list(self._emulator)[seen:]
        ):
            assert self.process.returncode is None, f"the operator exited:\n{self.tail()}"
            assert time.monotonic() < deadline, f"the operator did not start watching:\n{self.tail()}"
            await asyncio.sleep(0.05)

    async def kill(self) -> None:
        """SIGKILL, as the kernel's OOM killer or a node failure ends a pod: no clean-up at all."""
        assert self.alive(), f"not running:\n{self.tail()}"
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()
        self.process = None
        self.kills += 1

    async def stop(self) -> None:
        """SIGTERM (kopf stops gracefully), SIGKILL if it takes too long."""
        if self.process is None or self.process.returncode is not None:
            return
        self.process.terminate()
        try:
            await asyncio.wait_for(self.process.wait(), timeout=30)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()

    def alive(self) -> bool:
        return self.process is not None and self.process.returncode is None

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


@contextlib.asynccontextmanager
async def running(launch: Launch, emulator: ApiEmulator, log: Path) -> AsyncIterator[OperatorProcess]:
    """An operator process for the block; stopped after it (awaited: the emulator serves this loop)."""
    operator = OperatorProcess(launch, emulator, log)
    await operator.start()
    try:
        yield operator
    finally:
        await operator.stop()


def main(argv: Sequence[str] | None = None) -> int:
    from flink_tm_memory.runtime.log_format import configure_logging  # noqa: PLC0415
    from flink_tm_memory.runtime.options import OperatorOptions  # noqa: PLC0415 (in the child only)
    from flink_tm_memory.service.runner import run_operator  # noqa: PLC0415

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--server", required=True)
    parser.add_argument("--options", default="{}", help="OperatorOptions fields as JSON")
    arguments = parser.parse_args(argv)
    changes = json.loads(arguments.options)
    changes = {key: tuple(value) if isinstance(value, list) else value for key, value in changes.items()}
    options = dataclasses.replace(OperatorOptions(server=arguments.server), **changes)
    verbose = bool(os.environ.get("RELIABILITY_VERBOSE"))  # debug lines as JSON, with the object's name
    configure_logging("json" if verbose else "full", verbose=verbose)
    asyncio.run(run_operator(options))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
