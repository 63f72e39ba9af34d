"""Law: Java's number text round-trips, and Java's parsers fail only the way Java fails.

``Double.toString``/``Float.toString`` always print digits that read back as the same value (even
where JDK 17 prints more digits than the shortest), and use plain notation exactly within
[1e-3, 1e7). ``Float.parseFloat``, ``Double.parseDouble`` and ``Integer.parseInt`` reject text only
with ``NumberFormatException``.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
from functools import partial

from hypothesis import example, given
from hypothesis import strategies as st

from flink_tm_memory.memory.failures import JavaError
from flink_tm_memory.memory.javanum import (
    java_double_to_string,
    java_float_to_string,
    parse_java_double,
    parse_java_float,
    parse_java_int,
)
from tests.property.strategies import examples, hostile_texts

NUMBER_FORMAT = "java.lang.NumberFormatException"


def java_error(call: Callable[[], object]) -> JavaError | None:
    """The Java exception ``call`` mirrors, or None when it returns; any other exception propagates."""
    try:
        call()
    except JavaError as error:
        return error
    return None


@given(st.floats(allow_nan=False))
def test_double_to_string_parses_back_to_the_same_double(value: float) -> None:
    assert struct.pack(">d", parse_java_double(java_double_to_string(value))) == struct.pack(">d", value)


@given(st.floats(allow_nan=False, width=32))
def test_float_to_string_parses_back_to_the_same_float(value: float) -> None:
    assert struct.pack(">d", parse_java_float(java_float_to_string(value))) == struct.pack(">d", value)


@given(st.floats(allow_nan=False, allow_infinity=False).filter(lambda value: value != 0))
@example(1e-3)
@example(1e7)
@example(math.nextafter(1e7, 0))
@example(math.nextafter(1e-3, 0))
def test_double_to_string_is_plain_exactly_from_a_thousandth_to_ten_million(value: float) -> None:
    text = java_double_to_string(value)
    assert ("E" not in text) == (1e-3 <= abs(value) < 1e7), text
    assert "." in text


@examples(300, slow_inputs=True)
@given(hostile_texts())
@example("1" * 5000)
def test_java_number_parsers_fail_only_with_number_format_errors(text: str) -> None:
    parsers: tuple[Callable[[str], object], ...] = (parse_java_float, parse_java_double, parse_java_int)
    for parse in parsers:
        error = java_error(partial(parse, text))
        if error is not None:
            assert error.java_class == NUMBER_FORMAT, (parse, error.java_class)
            assert error.message
