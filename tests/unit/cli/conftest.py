"""Runs the real command line in-process (``main([...])``) and reads the public Flink vectors."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from flink_tm_memory.cli import main
from tests.conformance.jsonl import read_jsonl

VECTORS = Path(__file__).resolve().parents[2] / "conformance" / "vectors"


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


CliRunner = Callable[..., Run]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    def run(*args: str, stdin: str | None = None) -> Run:
        if stdin is not None:
            monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = main(list(args))
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


def load_vectors(name: str) -> list[dict[str, Any]]:
    return read_jsonl(VECTORS / name)


@pytest.fixture(scope="session")
def vectors_2_2() -> dict[str, dict[str, Any]]:
    """Flink 2.2.1's answers to the public cases, by id."""
    return {case["id"]: case for case in load_vectors("2.2.1.jsonl")}
