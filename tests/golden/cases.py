"""The golden cases Java 17 and Flink 2.2.1 answered (``java_semantics.jsonl``), grouped for tests.

``generate.py`` writes the file; the unit tests of number parsing and printing, MemorySize and
HashMap order read it through these helpers, so no Java is needed at test time.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from tests.conformance.jsonl import read_jsonl

GOLDEN = Path(__file__).resolve().parent / "java_semantics.jsonl"


@dataclass(frozen=True)
class GoldenCase:
    op: str
    group: str
    input: Any
    expect: dict[str, Any]


@cache
def golden_records() -> tuple[dict[str, Any], ...]:
    """Every record, the meta line first."""
    return tuple(read_jsonl(GOLDEN))


def golden(op: str) -> dict[str, list[GoldenCase]]:
    """The cases of one operation, by behaviour group."""
    groups: dict[str, list[GoldenCase]] = {}
    for record in golden_records():
        if record["op"] == op:
            case = GoldenCase(op, record["group"], record["input"], record["expect"])
            groups.setdefault(case.group, []).append(case)
    return groups


def short(value: Any, limit: int = 90) -> str:
    """A value's repr, cut to ``limit`` characters for a readable failure message."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} chars)"
