"""The admission process's setup: what the parent sends survives the trip, and a bad one names its field."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from flink_tm_memory.service.admission_child import BAD_SETUP_EXIT, CHILD_MODULE, SETUP_ENV, AdmissionSetup

SETUP = AdmissionSetup(
    parent_pid=1234,
    server="http://127.0.0.1:1",
    namespaces=("flink", "batch-*"),
    request_timeout=30.0,
    listen="0.0.0.0",
    port=9443,
    certfile="/tmp/webhook-tls/tls.crt",
    pkeyfile="/tmp/webhook-tls/tls.key",
    cafile=None,
    certificate_check_interval=60.0,
    log_format="json",
    verbose=True,
    metrics=True,
)


def test_the_setup_survives_the_trip() -> None:
    assert AdmissionSetup.from_json(SETUP.to_json()) == SETUP


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"port": 70000}, "port"),
        ({"port": "9443"}, "port"),
        ({"parent_pid": 0}, "parent_pid"),
        ({"log_format": "xml"}, "log_format"),
        ({"certfile": ""}, "certfile"),
        ({"request_timeout": -1}, "request_timeout"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_a_bad_setup_names_its_field(change: dict[str, object], named: str) -> None:
    data = {**json.loads(SETUP.to_json()), **change}
    with pytest.raises(ValueError, match=rf"^{named}: "):
        AdmissionSetup.from_json(json.dumps(data))


@pytest.mark.parametrize("text", ["", "[]", "{", '{"parent_pid": 1}'])
def test_an_unreadable_setup_is_refused(text: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 (each names its own problem)
        AdmissionSetup.from_json(text)


def test_the_process_without_a_setup_exits_2_saying_why() -> None:
    environment = {key: value for key, value in os.environ.items() if key != SETUP_ENV}
    result = subprocess.run(
        [sys.executable, "-P", "-m", CHILD_MODULE],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == BAD_SETUP_EXIT
    assert f"${SETUP_ENV}" in result.stderr
    assert result.stdout == ""
