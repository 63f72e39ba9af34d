"""The real operator's log lines are levelled for alerting: ERROR only for what needs a person.

Records are captured as the operator (in its own thread, against the emulated API server) logs them,
at INFO, and the lines its admission process (a child) writes to the shared stderr: a correct
admission denial is INFO, not ERROR; handlers that did nothing log no INFO line
(kopf's ``Handler ... succeeded`` and ``... is processed``), while what the operator wrote still
does; the API server answering 429 while it starts is retried with WARNINGs, never an ERROR.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from flink_tm_memory.control.admission import VALIDATE_ID
from tests.integration.conftest import StartOperator
from tests.integration.emulator import ApiEmulator, kubernetes_status
from tests.integration.kubectl import MEMORIES, Kubectl, eventually, ready, sample
from tests.integration.test_validating_webhook import review
from tests.integration.test_validating_webhook import sample as webhook_sample
from tests.integration.webhooks import webhook_session

KOPF_ROUTINE = ("succeeded.", "is processed: ")


def lines(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    """The captured messages at ``level`` exactly, with their logger."""
    return [f"{record.name}: {record.getMessage()}" for record in caplog.records if record.levelno == level]


HARNESS_ONLY = "OS signals are ignored: running not in the main thread."
"""kopf's warning for an operator run in a thread, as these tests run it; the command line runs it in the main one."""


def at_least(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    return [
        f"{record.levelname} {record.getMessage()}"
        for record in caplog.records
        if record.levelno >= level and record.getMessage() != HARNESS_ONLY
    ]


async def test_a_denied_resource_is_logged_at_info_not_error(
    start_operator: StartOperator,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.INFO)
    async with (
        webhook_session(start_operator, tmp_path) as (session, base),
        session.post(f"{base}/{VALIDATE_ID}", json=review("CREATE", webhook_sample("conflicting"))) as answer,
    ):
        response = (await answer.json())["response"]
    assert response["allowed"] is False
    assert at_least(caplog, logging.WARNING) == []  # the reconciling process
    # The admission process logs to the stderr it shares with this one, in the "full" format.
    written = capfd.readouterr().err.splitlines()
    denials = [line for line in written if f"at /{VALIDATE_ID}: " in line]
    assert len(denials) == 1, written
    assert "[INFO    ] Denied CREATE FlinkTaskManagerMemory default/conflicting" in denials[0]
    assert response["status"]["message"].splitlines()[0] in denials[0]  # the reason, for whoever reads it
    assert [line for line in written if "[WARNING ]" in line or "[ERROR   ]" in line] == []


async def test_handlers_that_did_nothing_log_no_info_line_and_writes_still_do(
    operator: object, kubectl: Kubectl, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    await kubectl.create(MEMORIES, sample("process-size"))
    await ready(kubectl, "process-size")
    # Watch events that change nothing the operator acts on: each runs kopf's event handler.
    for value in ("a", "b", "c"):
        await kubectl.patch(MEMORIES, "process-size", {"metadata": {"labels": {"team": value}}})
    await eventually(
        lambda: (
            (kubectl.get(MEMORIES, "process-size") or {})["metadata"].get("labels", {}).get("team") == "c"
        ),
        what="the last label",
    )
    info = lines(caplog, logging.INFO)
    assert any("Created ConfigMap name=process-size-flink-tm-memory" in line for line in info), info
    assert [line for line in info if line.endswith(KOPF_ROUTINE) or " is processed: " in line] == []
    assert at_least(caplog, logging.WARNING) == []


async def test_a_429_from_an_api_server_that_is_starting_is_retried_with_warnings_only(
    start_operator: StartOperator, kubectl: Kubectl, emulator: ApiEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    throttled = kubernetes_status(429, "TooManyRequests", "the server is starting, please try again")
    refused = emulator.matching("GET", MEMORIES)[:2] << 429 << throttled
    await start_operator()
    await kubectl.create(MEMORIES, sample("process-size"))
    await ready(kubectl, "process-size", timeout=15.0)

    assert len(list(refused)) == 2  # both 429s were served, and retried
    warnings = lines(caplog, logging.WARNING)
    assert len([line for line in warnings if "failed; will retry" in line and "429" in line]) == 2, warnings
    assert at_least(caplog, logging.ERROR) == []
