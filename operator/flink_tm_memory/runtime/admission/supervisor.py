"""The admission process, supervised from the reconciling one: started, watched, restarted, stopped.

Reconciliation (kopf's loop, its watch streams, the API requests) and admission shared one
interpreter, and so one GIL: while 1 000 resources reconciled, an admission answer waited for the
GIL behind kopf's work at every socket read and write (p99 273 ms with the server in a thread of
its own, against 313 ms on kopf's loop). In a process of its own the server competes for the CPU
only, which the kernel shares, so ``AdmissionSupervisor`` runs it as a child: ``command`` (the
interpreter running ``service.admission_child``), started with ``environment`` (its setup), its
stdin and stdout pipes carrying commands and status lines (``channel``), its stderr the parent's
(one log stream). The child starts in a session of its own, so a terminal's Ctrl-C (SIGINT to the
foreground group) reaches only the parent, which then drains and stops it in order.

One thread per supervisor (``admission-supervisor``) starts the child, reads its status lines and
waits for its exit. The thread is also what the child's ``PR_SET_PDEATHSIG`` watches (the kernel
signals the child when the thread that forked it ends), and it lives exactly as long as the
supervision; should the whole process die, the thread dies with it and the child gets SIGTERM.

**A child that dies unexpectedly is restarted, with backoff** (``restart_delay``, doubled after each
death up to ``max_restart_delay``, back to the first delay once a child has served for
``healthy_after`` seconds), each death logged at ERROR with its exit code or signal. Not an exit of
the whole process, because the process is also the leader (or a standby) of reconciliation: a
restart of the pod for a crash of admission would hand the Lease over and restart the watches of
every resource, for nothing admission needs. While the child is down the replica reports not
ready (``result``), so the Service sends admission requests to the other replicas; a child that
keeps dying stays not ready, which is what the alert on readiness catches. A child that never
served at all (the first start: a port taken, no certificate) is not retried: ``start`` raises
``AdmissionServerError`` and the operator stops with that message, as it did in-process.

A child alive but silent for ``silence_limit`` seconds (its loop stuck) fails readiness too.

Stopping is the order the in-process server kept: ``drain`` (readiness fails at once, here; the
child is told and keeps answering), then ``stop``: the child closes its listener and connections and
exits; after ``stop_timeout`` seconds it is killed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import IO

from flink_tm_memory.runtime.admission.channel import DRAIN, STOP, decode_api_requests, decode_checks
from flink_tm_memory.runtime.admission.server import AdmissionServerError
from flink_tm_memory.runtime.health import CheckResult

logger = logging.getLogger(__name__)

STARTUP_TIMEOUT = 60.0
"""Seconds the first child has to serve (an interpreter start and its imports: about 1 s idle)."""
STOP_TIMEOUT = 10.0


def exit_description(code: int) -> str:
    """``exit code 1`` or ``signal SIGKILL``, as ``Popen.returncode`` tells it."""
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"signal {signal.Signals(-code).name}"
        return f"signal {-code}"
    return f"exit code {code}"


class AdmissionSupervisor:
    """One admission child at a time: started, restarted after an unexpected death, stopped."""

    def __init__(
        self,
        command: Sequence[str],
        environment: Mapping[str, str],
        *,
        restart_delay: float = 1.0,
        max_restart_delay: float = 30.0,
        healthy_after: float = 60.0,
        silence_limit: float = 10.0,
        stop_timeout: float = STOP_TIMEOUT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._command = list(command)
        self._environment = dict(environment)
        self._restart_delay, self._max_restart_delay = restart_delay, max_restart_delay
        self._healthy_after, self._silence_limit = healthy_after, silence_limit
        self._stop_timeout = stop_timeout
        self._clock = clock
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._supervise, name="admission-supervisor", daemon=True)
        self._served = threading.Event()
        self._stopping = threading.Event()
        self._process: subprocess.Popen[bytes] | None = None
        self._checks: dict[str, CheckResult] = {}
        self._heard: float | None = None
        self._failure: str | None = None
        self._down: str | None = "the admission process has not started yet"
        self._draining = False
        self._api_requests: Counter[str] = Counter()
        """The API requests of the running child, by outcome, as it last reported them."""
        self._api_requests_before: Counter[str] = Counter()
        """Those of the children that ended: a counter never goes down when a child is restarted."""
        self.starts = 0
        """Children started so far (restarts included)."""

    # ------------------------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Starts the first child; returns once it serves, raises ``AdmissionServerError`` if it cannot."""
        self._thread.start()
        served = await asyncio.to_thread(self._served.wait, STARTUP_TIMEOUT)
        if self._failure is not None:
            await self.stop()
            raise AdmissionServerError(self._failure)
        if not served:
            await self.stop()
            raise AdmissionServerError(f"the admission process did not serve within {STARTUP_TIMEOUT:g} s")

    def drain(self) -> None:
        """Reports not ready from now on and tells the child, which keeps answering until ``stop``."""
        self._draining = True
        self._tell(DRAIN)

    async def stop(self) -> None:
        """Stops the child (killed after ``stop_timeout`` s) and the supervision."""
        self._stopping.set()
        self._tell(STOP)
        if self._thread.is_alive():
            await asyncio.to_thread(self._thread.join, self._stop_timeout)
        with self._lock:
            process = self._process
        if process is not None and process.poll() is None:
            logger.warning(f"The admission process did not stop within {self._stop_timeout:g} s: killed")
            process.kill()
        if self._thread.is_alive():
            await asyncio.to_thread(self._thread.join)

    @property
    def pid(self) -> int | None:
        """The running child's process id."""
        with self._lock:
            return None if self._process is None else self._process.pid

    @property
    def thread_id(self) -> int | None:
        """The native id of the thread that starts the children (they inherit its CPU priority)."""
        return self._thread.native_id

    @property
    def draining(self) -> bool:
        return self._draining

    def api_requests(self) -> dict[str, int]:
        """Every child's requests to the API server so far, by outcome."""
        with self._lock:
            return dict(self._api_requests_before + self._api_requests)

    def result(self, name: str) -> CheckResult:
        """Readiness check ``name`` as the child last reported it, failed when it cannot be trusted."""
        with self._lock:
            down, heard, checks = self._down, self._heard, self._checks
        if down is not None:
            return CheckResult(False, down)
        if heard is None:
            return CheckResult(False, "the admission process has not reported yet")
        silent = self._clock() - heard
        if silent > self._silence_limit:
            return CheckResult(False, f"no word from the admission process for {silent:.1f} s")
        return checks.get(name, CheckResult(False, f"the admission process does not report {name!r}"))

    # ------------------------------------------------------------------------------------ the thread

    def _supervise(self) -> None:
        delay = self._restart_delay
        while not self._stopping.is_set():
            started = self._clock()
            try:
                process = self._spawn()
            except OSError as error:
                code_or_error = f"cannot start: {error}"
            else:
                self._follow(process)
                code_or_error = exit_description(process.wait())
                with self._lock, contextlib.suppress(OSError):
                    if process.stdin is not None:
                        process.stdin.close()
            with self._lock:
                self._process, self._heard, self._checks = None, None, {}
                self._api_requests_before += self._api_requests
                self._api_requests = Counter()
                self._down = f"the admission process is not running ({code_or_error})"
            if self._stopping.is_set():
                return
            if not self._served.is_set():  # the first child never served: the operator cannot start
                self._failure = self._failure or f"the admission process ended ({code_or_error})"
                self._served.set()
                return
            if self._clock() - started >= self._healthy_after:
                delay = self._restart_delay
            logger.error(
                f"The admission process ended unexpectedly ({code_or_error}); restarting it in {delay:g} s. "
                "This replica reports not ready until it serves again."
            )
            with self._lock:
                self._down = f"the admission process ended ({code_or_error}); restarting in {delay:g} s"
            if self._stopping.wait(delay):
                return
            delay = min(delay * 2, self._max_restart_delay)

    def _spawn(self) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(  # our own interpreter and module, no shell
            self._command,
            env=self._environment,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            start_new_session=True,
        )
        with self._lock:
            self._process = process
            self._down = None
            self.starts += 1
        if self._draining:
            self._tell(DRAIN)
        if self._stopping.is_set():  # stop() came while this child was being started
            self._tell(STOP)
        return process

    def _follow(self, process: subprocess.Popen[bytes]) -> None:
        """Reads the child's status lines until its stdout closes (it exited)."""
        stdout: IO[bytes] | None = process.stdout
        assert stdout is not None
        with stdout:
            for raw in stdout:
                try:
                    message = json.loads(raw)
                except ValueError:
                    logger.warning(f"Unreadable status line from the admission process: {raw[:200]!r}")
                    continue
                if not isinstance(message, dict):
                    continue
                self._heard_from(message)

    def _heard_from(self, message: dict[str, object]) -> None:
        checks, api_requests = decode_checks(message), decode_api_requests(message)
        with self._lock:
            self._heard = self._clock()
            if checks is not None:
                self._checks = checks
            if api_requests is not None:
                self._api_requests = Counter(api_requests)
        if message.get("serving") is True:
            self._served.set()
        failed = message.get("failed")
        if isinstance(failed, str):
            if self._served.is_set():
                logger.error(f"The admission process could not serve: {failed}")
            else:
                self._failure = failed

    def _tell(self, command: str) -> None:
        with self._lock:
            process = self._process
            if process is None or process.stdin is None:
                return
            with contextlib.suppress(OSError, ValueError):  # the child is gone (or going): nothing to tell
                process.stdin.write(f"{command}\n".encode())
                process.stdin.flush()
