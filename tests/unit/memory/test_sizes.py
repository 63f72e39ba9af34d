"""Flink's ``MemorySize`` parsing, arithmetic and text forms, checked against Flink's own class.

Every expectation comes from ``tests/golden/java_semantics.jsonl``, written by
``tests/golden/generate.py``, which called Flink 2.2.1's ``MemorySize`` on JDK 17 (``parse``,
``toString``, ``toHumanReadableString``, itself checked against ``String.format(Locale.ROOT, "%.3f...")``,
and ``multiply``, checked against ``BigDecimal.valueOf(bytes).multiply(BigDecimal.valueOf(m)).longValue()``).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest

from flink_tm_memory.memory.failures import JavaError
from flink_tm_memory.memory.sizes import format_human, format_option_value, multiply, parse_memory_size
from tests.golden.cases import GoldenCase, golden, short


def outcome(call: Callable[[], Any]) -> dict[str, Any]:
    """What our code did, in the golden file's shape; a non-Java exception never matches."""
    try:
        value = call()
    except JavaError as error:
        return {"ok": False, "class": error.java_class, "message": error.message}
    except Exception as error:  # a Python error where Java answers: always a mismatch
        return {"ok": False, "python": f"{type(error).__name__}: {error}"}
    return {"ok": True, "value": value}


def assert_agrees(cases: list[GoldenCase], ours: Callable[[GoldenCase], dict[str, Any]]) -> None:
    assert cases, "the golden file has no cases for this group"
    found = []
    for case in cases:
        got = ours(case)
        if got != case.expect:
            found.append(
                f"{short(case.input)}\n    java {short(case.expect, 300)}\n    ours {short(got, 300)}"
            )
    if found:
        pytest.fail(
            f"{len(found)} of {len(cases)} inputs differ from Flink:\n" + "\n".join(found[:25]), pytrace=False
        )


def double_from_bits(bits: str) -> float:
    return float(struct.unpack(">d", bytes.fromhex(bits))[0])


PARSE = golden("parseMemorySize")
HUMAN = golden("humanReadable")
TO_STRING = golden("memoryToString")
MULTIPLY = golden("multiply")


@pytest.mark.parametrize("group", sorted(PARSE))
def test_parse_memory_size_agrees_with_memory_size_parse(group: str) -> None:
    # Values and, for rejected text, the exception class and exact message.
    assert_agrees(PARSE[group], lambda case: outcome(lambda: parse_memory_size(case.input)))


@pytest.mark.parametrize("group", sorted(HUMAN))
def test_format_human_agrees_with_to_human_readable_string(group: str) -> None:
    assert_agrees(HUMAN[group], lambda case: outcome(lambda: format_human(case.input)))


@pytest.mark.parametrize("group", sorted(TO_STRING))
def test_format_option_value_agrees_with_memory_size_to_string(group: str) -> None:
    assert_agrees(TO_STRING[group], lambda case: outcome(lambda: format_option_value(case.input)))


@pytest.mark.parametrize("group", sorted(MULTIPLY))
def test_multiply_agrees_with_memory_size_multiply(group: str) -> None:
    assert_agrees(
        MULTIPLY[group],
        lambda case: outcome(lambda: multiply(case.input[0], double_from_bits(case.input[1]))),
    )


def test_every_size_flink_prints_as_an_option_value_parses_back() -> None:
    # MemorySize.toString is what Flink writes back into configurations.
    failures = []
    for cases in TO_STRING.values():
        for case in cases:
            text: str = case.expect["value"]
            if outcome(partial(parse_memory_size, text)) != {"ok": True, "value": case.input}:
                failures.append(f"{text!r} -> want {case.input}")
    if failures:
        pytest.fail("\n".join(failures[:25]), pytrace=False)
