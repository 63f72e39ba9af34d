"""Java's number parsing and printing, checked against what Java 17 itself answered.

Every expectation comes from ``tests/golden/java_semantics.jsonl``, written by
``tests/golden/generate.py`` from ``Float.parseFloat``, ``Double.parseDouble``, ``Integer.parseInt``,
``Double.toString`` and ``Float.toString`` on JDK 17. Cases are grouped by behaviour; a group fails
with every disagreeing input listed.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
from typing import Any

import pytest

from flink_tm_memory.memory.failures import JavaError
from flink_tm_memory.memory.javanum import (
    java_double_to_string,
    java_float_to_string,
    parse_java_double,
    parse_java_float,
    parse_java_int,
)
from tests.golden.cases import GoldenCase, golden, golden_records, short


def outcome(call: Callable[[], Any], render: Callable[[Any], Any]) -> dict[str, Any]:
    """What our code did, in the golden file's shape; a non-Java exception never matches."""
    try:
        value = call()
    except JavaError as error:
        return {"ok": False, "class": error.java_class, "message": error.message}
    except Exception as error:  # a Python error where Java answers: always a mismatch
        return {"ok": False, "python": f"{type(error).__name__}: {error}"}
    return {"ok": True, "value": render(value)}


def disagreements(cases: list[GoldenCase], ours: Callable[[GoldenCase], dict[str, Any]]) -> list[str]:
    lines = []
    for case in cases:
        got = ours(case)
        if got != case.expect:
            lines.append(
                f"{short(case.input)}\n    java {short(case.expect, 200)}\n    ours {short(got, 200)}"
            )
    return lines


def assert_agrees(cases: list[GoldenCase], ours: Callable[[GoldenCase], dict[str, Any]]) -> None:
    assert cases, "the golden file has no cases for this group"
    found = disagreements(cases, ours)
    if found:
        pytest.fail(
            f"{len(found)} of {len(cases)} inputs differ from Java:\n" + "\n".join(found[:25]), pytrace=False
        )


def float_bits(value: float) -> str:
    if math.isnan(value):
        return "7fc00000"  # Float.NaN: Java has a single NaN value for parseFloat
    narrowed = struct.unpack(">f", struct.pack(">f", value))[0]
    if narrowed != value:
        return f"not a binary32 value: {value!r}"
    return struct.pack(">f", value).hex()


def double_bits(value: float) -> str:
    if math.isnan(value):
        return "7ff8000000000000"  # Double.NaN
    return struct.pack(">d", value).hex()


def double_from_bits(bits: str) -> float:
    return float(struct.unpack(">d", bytes.fromhex(bits))[0])


def float_from_bits(bits: str) -> float:
    return float(struct.unpack(">f", bytes.fromhex(bits))[0])


PARSE_FLOAT = golden("parseFloat")
PARSE_DOUBLE = golden("parseDouble")
PARSE_INT = golden("parseInt")
DOUBLE_TO_STRING = golden("doubleToString")
FLOAT_TO_STRING = golden("floatToString")


def test_golden_answers_come_from_jdk_17() -> None:
    # Flink's vectors were made on JDK 17; JDK 19+ prints some doubles differently.
    meta = golden_records()[0]
    assert meta["op"] == "meta"
    assert '"17.' in meta["java"]
    assert meta["records"] == len(golden_records()) - 1


# ------------------------------------------------------------------------------------------ parsing


@pytest.mark.parametrize("group", sorted(PARSE_FLOAT))
def test_parse_java_float_agrees_with_float_parse_float(group: str) -> None:
    assert_agrees(PARSE_FLOAT[group], lambda case: outcome(lambda: parse_java_float(case.input), float_bits))


@pytest.mark.parametrize("group", sorted(PARSE_DOUBLE))
def test_parse_java_double_agrees_with_double_parse_double(group: str) -> None:
    assert_agrees(
        PARSE_DOUBLE[group], lambda case: outcome(lambda: parse_java_double(case.input), double_bits)
    )


@pytest.mark.parametrize("group", sorted(PARSE_INT))
def test_parse_java_int_agrees_with_integer_parse_int(group: str) -> None:
    assert_agrees(PARSE_INT[group], lambda case: outcome(lambda: parse_java_int(case.input), int))


# ----------------------------------------------------------------------------------------- printing


@pytest.mark.parametrize("group", sorted(DOUBLE_TO_STRING))
def test_java_double_to_string_agrees_with_double_to_string(group: str) -> None:
    assert_agrees(
        DOUBLE_TO_STRING[group],
        lambda case: outcome(lambda: java_double_to_string(double_from_bits(case.input)), str),
    )


@pytest.mark.parametrize("group", sorted(FLOAT_TO_STRING))
def test_java_float_to_string_agrees_with_float_to_string(group: str) -> None:
    assert_agrees(
        FLOAT_TO_STRING[group],
        lambda case: outcome(lambda: java_float_to_string(float_from_bits(case.input)), str),
    )


# ------------------------------------------------------------------- printing and parsing together


def test_every_double_java_prints_parses_back_to_itself() -> None:
    # Double.toString always round-trips, even where JDK 17 prints more digits than needed.
    failures = []
    for cases in DOUBLE_TO_STRING.values():
        for case in cases:
            if not case.expect["ok"]:
                continue
            expected = double_from_bits(case.input)
            parsed = parse_java_double(case.expect["value"])
            if double_bits(parsed) != double_bits(expected):
                failures.append(f"{case.expect['value']} -> {parsed!r}, want {expected!r}")
    if failures:
        pytest.fail("\n".join(failures[:25]), pytrace=False)


def test_every_float_java_prints_parses_back_to_itself() -> None:
    failures = []
    for cases in FLOAT_TO_STRING.values():
        for case in cases:
            if not case.expect["ok"]:
                continue
            parsed = parse_java_float(case.expect["value"])
            if float_bits(parsed) != float_bits(float_from_bits(case.input)):
                failures.append(f"{case.expect['value']} -> {parsed!r}")
    if failures:
        pytest.fail("\n".join(failures[:25]), pytrace=False)
