"""JDK 17's ``Double.toString`` and ``Float.toString``, checked against what JDK 17 itself printed.

Every expectation comes from ``tests/golden/double_to_string.jsonl``, written by
``tests/golden/generate_double_to_string.py`` from Java (no Java is needed here). Doubles are checked
through ``java_double_to_string`` (fast path included) and through the port alone, so the port is held
to Java even where the fast path answers in production. Cases are grouped by what they exercise; a group
fails with every disagreeing input listed.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from flink_tm_memory.memory import java_dtoa
from flink_tm_memory.memory.javanum import java_double_to_string, java_float_to_string

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "double_to_string.jsonl"
DOUBLE = "Double.toString"
FLOAT = "Float.toString"


@cache
def golden_records() -> tuple[dict[str, Any], ...]:
    return tuple(json.loads(line) for line in GOLDEN.read_text().splitlines() if line.strip())


def golden(op: str) -> dict[str, list[tuple[str, str]]]:
    """(bits, Java's string) by group for one op."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for record in golden_records():
        if record["op"] == op:
            groups.setdefault(record["group"], []).append((record["input"], record["expect"]))
    return groups


def double_from_bits(bits: str) -> float:
    return float(struct.unpack(">d", bytes.fromhex(bits))[0])


def float_from_bits(bits: str) -> float:
    return float(struct.unpack(">f", bytes.fromhex(bits))[0])


def assert_agrees(cases: list[tuple[str, str]], convert: Callable[[str], str]) -> None:
    disagreements = [
        f"{bits}: java {expect!r}, ours {got!r}" for bits, expect in cases if (got := convert(bits)) != expect
    ]
    assert not disagreements, "\n".join(disagreements)


DOUBLE_CASES = golden(DOUBLE)
FLOAT_CASES = golden(FLOAT)


def test_golden_file_is_complete() -> None:
    meta, *records = golden_records()
    assert meta["op"] == "meta"
    assert meta["records"] == len(records)
    assert "17." in meta["java"]
    assert len(DOUBLE_CASES) >= 12
    assert len(FLOAT_CASES) >= 10


@pytest.mark.parametrize("group", sorted(DOUBLE_CASES))
def test_java_double_to_string_agrees_with_jdk17(group: str) -> None:
    assert_agrees(DOUBLE_CASES[group], lambda bits: java_double_to_string(double_from_bits(bits)))


@pytest.mark.parametrize("group", sorted(DOUBLE_CASES))
def test_the_port_without_fast_path_agrees_with_jdk17(group: str) -> None:
    assert_agrees(DOUBLE_CASES[group], lambda bits: java_dtoa.ported_double_to_string(double_from_bits(bits)))


@pytest.mark.parametrize("group", sorted(FLOAT_CASES))
def test_java_float_to_string_agrees_with_jdk17(group: str) -> None:
    assert_agrees(FLOAT_CASES[group], lambda bits: java_float_to_string(float_from_bits(bits)))


@pytest.mark.parametrize(
    ("value", "java"),
    [
        (2.82879384806159e17, "2.82879384806159008E17"),  # an integer beyond 2^53: exact digits
        (5e-324, "4.9E-324"),  # E-notation's forced second digit
        (1e23, "9.999999999999999E22"),  # JDK-4511638
        (2e23, "1.9999999999999998E23"),
        (0.1, "0.1"),
        (1e7, "1.0E7"),
        (0.001, "0.001"),
        (-0.0, "-0.0"),
    ],
)
def test_known_jdk17_strings(value: float, java: str) -> None:
    assert java_double_to_string(value) == java


def test_float_to_string_prints_an_integer_float_from_its_exact_digits() -> None:
    assert java_float_to_string(2.0**30) == "1.07374182E9"
