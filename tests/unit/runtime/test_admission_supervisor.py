"""The admission supervisor with stand-in children: start, readiness, restarts with backoff, silence, stop.

Each child is a real process (this interpreter running ``CHILD`` below) that speaks the status
protocol of ``runtime.admission.channel`` the way the test asks (``behaviour``); what it was told
(``drain``, ``stop``) is written to a file of the test's. Waits end as soon as the condition holds,
with deadlines generous enough for a loaded machine.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from flink_tm_memory.runtime.admission.channel import decode_api_requests, decode_checks, encode_status
from flink_tm_memory.runtime.admission.server import AdmissionServerError
from flink_tm_memory.runtime.admission.supervisor import AdmissionSupervisor, exit_description
from flink_tm_memory.runtime.health import CheckResult

LOADED = 30.0
CHECK = "admission-server"

CHILD = r"""
import json, os, sys, threading, time
behaviour, record = sys.argv[1], sys.argv[2]
starts = len(open(record).read().splitlines()) if os.path.exists(record) else 0
def note(line):
    with open(record, "a") as file:
        file.write(line + "\n")
note("started")
def send(message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()
if behaviour == "fail":
    send({"failed": "cannot serve the admission webhooks on 127.0.0.1:1: in use"})
    sys.exit(1)
if behaviour == "exit-early":
    sys.exit(4)
state = {"message": "serving on 127.0.0.1:1"}
def status():
    return {"checks": {"admission-server": [True, state["message"]], "memory-cache": [True, "ok"]},
            "api": {"ok": 3, "not_found": 1}}
send(status())
send({"serving": True})
if behaviour == "crash" and starts < 2:  # the first two children die after serving
    time.sleep(0.2)
    os._exit(3)
if behaviour == "silent":
    for line in sys.stdin:  # hears, never answers, never stops on request
        note(line.strip())
    time.sleep(3600)
def heartbeat():
    while True:
        send(status())
        time.sleep(0.05)
threading.Thread(target=heartbeat, daemon=True).start()
for line in sys.stdin:
    command = line.strip()
    note(command)
    if command == "drain":
        state["message"] = "shutting down: draining admission requests"
    elif command == "stop":
        sys.exit(0)
note("eof")
"""


def supervisor(tmp_path: Path, behaviour: str, **options: Any) -> tuple[AdmissionSupervisor, Path]:
    record = tmp_path / "record"
    command = [sys.executable, "-c", CHILD, behaviour, str(record)]
    return AdmissionSupervisor(command, dict(os.environ), **options), record


async def until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + LOADED
    while not condition():
        assert time.monotonic() < deadline, f"{what} did not happen within {LOADED} s"
        await asyncio.sleep(0.02)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for every purpose here; Popen.wait reaps it.
    stat = Path(f"/proc/{pid}/stat")
    return not stat.exists() or stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"


async def test_the_child_serves_in_another_process_and_its_checks_and_requests_reach_the_parent(
    tmp_path: Path,
) -> None:
    supervised, record = supervisor(tmp_path, "serve")
    await supervised.start()
    pid = supervised.pid
    assert pid is not None
    assert pid != os.getpid()
    try:
        await until(lambda: supervised.result(CHECK).ok, "the first status")
        assert supervised.result(CHECK).message == "serving on 127.0.0.1:1"
        assert supervised.result("memory-cache").ok
        assert not supervised.result("no-such-check").ok
        assert supervised.api_requests() == {"ok": 3, "not_found": 1}
    finally:
        await supervised.stop()
    assert not alive(pid)
    assert record.read_text().splitlines() == ["started", "stop"]
    assert supervised.result(CHECK) == supervised.result(CHECK)  # stable once stopped
    assert not supervised.result(CHECK).ok


async def test_drain_fails_readiness_at_once_and_the_child_keeps_running_until_stop(tmp_path: Path) -> None:
    supervised, record = supervisor(tmp_path, "serve")
    await supervised.start()
    try:
        supervised.drain()
        assert supervised.draining
        await until(lambda: "draining" in supervised.result(CHECK).message, "the child's drained status")
        assert supervised.pid is not None
        assert alive(supervised.pid)
    finally:
        await supervised.stop()
    assert record.read_text().splitlines() == ["started", "drain", "stop"]


async def test_a_child_that_cannot_serve_stops_the_start_with_its_reason(tmp_path: Path) -> None:
    supervised, record = supervisor(tmp_path, "fail")
    with pytest.raises(
        AdmissionServerError, match=r"cannot serve the admission webhooks on 127\.0\.0\.1:1: in use"
    ):
        await supervised.start()
    assert record.read_text().splitlines() == ["started"]  # not retried: the operator does not start
    assert supervised.starts == 1


async def test_a_child_that_ends_before_serving_is_named_by_its_exit_code(tmp_path: Path) -> None:
    supervised, _ = supervisor(tmp_path, "exit-early")
    with pytest.raises(AdmissionServerError, match=r"the admission process ended \(exit code 4\)"):
        await supervised.start()


async def test_a_child_that_dies_is_restarted_with_backoff_logged_at_error_and_counts_add_up(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="flink_tm_memory.runtime.admission.supervisor")
    supervised, record = supervisor(tmp_path, "crash", restart_delay=0.2, max_restart_delay=0.3)
    await supervised.start()
    try:
        await until(lambda: not supervised.result(CHECK).ok, "the first death")
        assert "the admission process" in supervised.result(CHECK).message
        await until(lambda: supervised.starts == 3 and supervised.result(CHECK).ok, "the third child serving")
        deaths = [r for r in caplog.records if "ended unexpectedly" in r.getMessage()]
        assert [record.levelno for record in deaths] == [logging.ERROR, logging.ERROR]
        assert "(exit code 3); restarting it in 0.2 s" in deaths[0].getMessage()
        assert "(exit code 3); restarting it in 0.3 s" in deaths[1].getMessage()  # doubled, capped
        # Each child reported 3 ok and 1 not found: the counts of the dead ones are kept.
        await until(lambda: supervised.api_requests() == {"ok": 9, "not_found": 3}, "the counts added up")
    finally:
        await supervised.stop()
    assert record.read_text().splitlines()[:3] == ["started", "started", "started"]


async def test_a_silent_child_fails_readiness_and_one_that_ignores_stop_is_killed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    supervised, record = supervisor(tmp_path, "silent", silence_limit=0.3, stop_timeout=0.5)
    await supervised.start()
    pid = supervised.pid
    assert pid is not None
    await until(lambda: "no word from the admission process" in supervised.result(CHECK).message, "silence")
    assert not supervised.result(CHECK).ok
    await supervised.stop()
    assert not alive(pid)
    assert "did not stop within 0.5 s: killed" in caplog.text
    assert record.read_text().splitlines() == ["started", "stop"]


def test_exit_descriptions_name_the_signal() -> None:
    assert exit_description(-9) == "signal SIGKILL"
    assert exit_description(1) == "exit code 1"
    assert exit_description(-200) == "signal 200"


def test_the_status_line_format_is_what_the_child_module_sends() -> None:
    line = json.loads(json.dumps(encode_status({CHECK: CheckResult(True, "fine")}, {"ok": 2})))
    assert decode_checks(line) == {CHECK: CheckResult(True, "fine")}
    assert decode_api_requests(line) == {"ok": 2}
    assert decode_checks({"checks": {CHECK: "not a pair"}}) == {}
    assert decode_api_requests({"api": {"ok": -1, "timeout": "x"}}) == {}
    assert decode_checks({"serving": True}) is None
