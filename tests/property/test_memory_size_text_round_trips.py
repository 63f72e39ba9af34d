"""Law: every text Flink writes for a size parses back to that size, and its human form states it.

``MemorySize.toString`` (``64 mb``) is what Flink writes into configurations; ``<bytes>b`` is how
sizes are pinned; ``toHumanReadableString`` (``1.688gb (1811939328 bytes)``) is in every message.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from flink_tm_memory.memory.failures import JavaError
from flink_tm_memory.memory.sizes import (
    format_flag_bytes,
    format_human,
    format_option_value,
    parse_memory_size,
)
from tests.property.strategies import LONG_MAX, UNIT_WORDS, examples, hostile_texts, unit_spellings

HUMAN_UNITS = {"kb": 1024, "mb": 1024**2, "gb": 1024**3, "tb": 1024**4}
HUMAN_FORM = re.compile(r"(?P<approximate>\d+\.\d{3})(?P<unit>kb|mb|gb|tb) \((?P<bytes>\d+) bytes\)")

byte_counts = st.one_of(
    st.integers(0, LONG_MAX),
    st.integers(0, 2**40),
    st.tuples(st.integers(0, 2**23 - 1), st.sampled_from(list(UNIT_WORDS))).map(
        lambda pair: pair[0] * pair[1]
    ),
    st.sampled_from([0, 1, 1024, 1025, LONG_MAX, LONG_MAX - 1, 2**53 + 1]),
)
control_characters = st.text(alphabet=[chr(code) for code in range(0x21)], max_size=3)


@given(byte_counts)
def test_option_value_text_parses_back_to_the_same_bytes(size: int) -> None:
    assert parse_memory_size(format_option_value(size)) == size


@given(byte_counts)
def test_pinned_text_parses_back_to_the_same_bytes(size: int) -> None:
    assert parse_memory_size(format_flag_bytes(size)) == size


@given(byte_counts)
def test_human_readable_text_states_the_exact_byte_count(size: int) -> None:
    text = format_human(size)
    if size <= 1024:
        assert text == f"{size} bytes"
    else:
        match = HUMAN_FORM.fullmatch(text)
        assert match is not None, text
        assert int(match["bytes"]) == size


@given(byte_counts.filter(lambda size: size > 1024))
@example(1000000)
@example(282944)
def test_human_readable_approximation_is_within_half_a_thousandth_of_its_unit(size: int) -> None:
    match = HUMAN_FORM.fullmatch(format_human(size))
    assert match is not None
    unit = HUMAN_UNITS[match["unit"]]
    # The unit is the largest one strictly below the size; rounding is to three decimals.
    assert unit < size
    assert match["unit"] == "tb" or size <= 1024 * unit
    error = abs(Decimal(match["approximate"]) - Decimal(size) / unit)
    assert error <= Decimal("0.0005") + Decimal(size) / unit / 2**52


@given(st.integers(0, 2**64), st.sampled_from(list(UNIT_WORDS)), st.data())
def test_every_unit_word_in_any_case_scales_by_its_multiplier(
    count: int, multiplier: int, data: st.DataObject
) -> None:
    text = f"{count}{data.draw(unit_spellings(multiplier))}"
    if count * multiplier <= LONG_MAX:
        assert parse_memory_size(text) == count * multiplier
        return
    with pytest.raises(JavaError) as raised:
        parse_memory_size(text)
    # Flink names the text it could not represent: the digits alone, or the whole text.
    assert raised.value.message is not None
    assert str(count) in raised.value.message


@given(byte_counts, control_characters, control_characters)
def test_control_characters_around_a_size_are_ignored(size: int, before: str, after: str) -> None:
    assert parse_memory_size(before + format_option_value(size) + after) == size


@examples(300, slow_inputs=True)
@given(hostile_texts())
def test_any_text_parses_to_a_size_or_fails_with_a_java_error(text: str) -> None:
    outcome: int | JavaError
    try:
        outcome = parse_memory_size(text)
    except JavaError as error:
        outcome = error
    if isinstance(outcome, JavaError):
        assert outcome.message
    else:
        assert 0 <= outcome <= LONG_MAX
