"""The memory core's ``BigDecimal`` arithmetic in plain integers equals ``decimal``'s, exactly.

Flink multiplies sizes, rounds its human-readable sizes and truncates CPU cores with ``BigDecimal``;
the memory core does the same with exact integer ratios (``javanum.big_decimal_value_of``) so that
the one-shot command line need not import ``decimal``. Each rule is checked here against the
``decimal`` formulation it replaced, on generated doubles and sizes; the conformance vectors check
the results against Flink itself.
"""

from __future__ import annotations

import math
from decimal import ROUND_DOWN, ROUND_HALF_UP, Context, Decimal
from fractions import Fraction

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from flink_tm_memory.memory.derive import _through_resource_value, cpu_resource, cpu_resource_value
from flink_tm_memory.memory.failures import JavaError
from flink_tm_memory.memory.javanum import (
    LONG_MAX,
    big_decimal_value_of,
    java_double_to_string,
    truncate_ratio,
)
from flink_tm_memory.memory.sizes import format_human, multiply

finite = st.floats(allow_nan=False, allow_infinity=False)
sizes = st.one_of(st.integers(0, LONG_MAX), st.integers(0, 1 << 40))
multipliers = st.one_of(
    st.floats(0, 1),
    st.floats(0, 100, allow_nan=False, allow_infinity=False),
    st.sampled_from([0.1, 0.4, 0.7, 0.25, 1e-9, 5e-324, 1.7976931348623157e308, 0.30000000000000004]),
)


def decimal_of(value: float) -> Decimal:
    return Decimal(java_double_to_string(value))


@settings(max_examples=3000, deadline=None)
@given(finite)
@example(-0.0)
@example(5e-324)
@example(1.7976931348623157e308)
@example(2.0e-3)
def test_the_ratio_is_big_decimal_value_of(value: float) -> None:
    numerator, denominator = big_decimal_value_of(value)
    assert Fraction(numerator, denominator) == Fraction(decimal_of(value))
    assert denominator == 10 ** len(str(denominator)[1:])  # a power of ten, as BigDecimal's scale


@settings(max_examples=2000, deadline=None)
@given(st.integers(-(10**30), 10**30), st.integers(1, 10**20))
def test_truncation_is_toward_zero(numerator: int, denominator: int) -> None:
    exact = Context(prec=100).divide(Decimal(numerator), Decimal(denominator))
    assert truncate_ratio(numerator, denominator) == int(exact)


def old_multiply(size_bytes: int, multiplier: float) -> int | None:
    numerator, denominator = decimal_of(multiplier).as_integer_ratio()
    product, remainder = divmod(size_bytes * numerator, denominator)
    return None if product > LONG_MAX or (product == LONG_MAX and remainder) else product


@settings(max_examples=3000, deadline=None)
@given(sizes, multipliers)
def test_multiply_is_the_decimal_product_truncated(size_bytes: int, multiplier: float) -> None:
    expected = old_multiply(size_bytes, multiplier)
    if expected is None:
        with pytest.raises(JavaError, match="long overflow"):
            multiply(size_bytes, multiplier)
    else:
        assert multiply(size_bytes, multiplier) == expected


def old_format_human(size_bytes: int) -> str:
    unit_name, multiplier = "", 1
    for name, unit_bytes in (("kb", 1 << 10), ("mb", 1 << 20), ("gb", 1 << 30), ("tb", 1 << 40)):
        if size_bytes > unit_bytes:
            unit_name, multiplier = name, unit_bytes
    if multiplier == 1:
        return f"{size_bytes} bytes"
    rounded = decimal_of(float(size_bytes) / multiplier).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)
    return f"{rounded:f}{unit_name} ({size_bytes} bytes)"


@settings(max_examples=5000, deadline=None)
@given(st.one_of(st.integers(0, LONG_MAX), st.integers(0, 1 << 34), st.integers(1023, 1 << 21)))
@example(1811939328)
@example(536870902)
@example(LONG_MAX)
@example(1025)
@example(1024 + 1024 // 2000)  # just above a thousandth's half
def test_human_sizes_round_as_decimal_does(size_bytes: int) -> None:
    assert format_human(size_bytes) == old_format_human(size_bytes)


def old_cpu_resource(cores: float) -> Decimal | None:
    truncated = decimal_of(cores).quantize(Decimal("1e-8"), rounding=ROUND_DOWN, context=Context(prec=800))
    if truncated.is_zero():
        return abs(truncated)
    return None if truncated < 0 else truncated


@settings(max_examples=3000, deadline=None)
@given(st.one_of(finite, st.floats(-1e-7, 1e-7), st.floats(0, 1000)))
@example(-1e-9)
@example(-0.0)
@example(1.000000009)
@example(1.7976931348623157e308)
def test_cpu_cores_truncate_as_big_decimal_does(cores: float) -> None:
    expected = old_cpu_resource(cores)
    try:
        resource = cpu_resource(cores, ("taskmanager.cpu.cores",))
    except JavaError:
        assert expected is None
        return
    assert expected is not None
    assert (resource, str(resource)) == (expected, str(expected))
    value = cpu_resource_value(cores, ("taskmanager.cpu.cores",))
    assert value == float(expected)
    assert math.copysign(1.0, value) == 1.0  # BigDecimal has no negative zero


@settings(max_examples=2000, deadline=None)
@given(st.one_of(st.integers(1, LONG_MAX), st.integers(1, 1 << 60), st.integers(LONG_MAX - 2000, LONG_MAX)))
def test_external_resource_amounts_round_trip_as_big_decimal_does(amount: int) -> None:
    exact = int(decimal_of(float(amount)))
    wrapped = exact & 0xFFFFFFFFFFFFFFFF
    assert _through_resource_value(amount) == (wrapped - (1 << 64) if wrapped >= 1 << 63 else wrapped)
