"""Kubernetes quantities: read exactly as the API server reads them, written in its canonical form."""

from __future__ import annotations

import re
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flink_tm_memory.api.quantity import (
    QUANTITY_PATTERN,
    QuantityError,
    QuantityFormat,
    format_cpu_quantity,
    format_memory_quantity,
    parse_cpu_quantity,
    parse_memory_quantity,
    parse_quantity,
)
from flink_tm_memory.memory.sizes import MAX_BYTES

GIB = 1024**3


@pytest.mark.parametrize(
    ("text", "value", "quantity_format"),
    [
        ("4Gi", Fraction(4 * GIB), QuantityFormat.BINARY_SI),
        ("1728Mi", Fraction(1728 * 1024**2), QuantityFormat.BINARY_SI),
        ("1.5Gi", Fraction(3 * GIB, 2), QuantityFormat.BINARY_SI),
        (".5Ki", Fraction(512), QuantityFormat.BINARY_SI),
        ("1Ei", Fraction(1024**6), QuantityFormat.BINARY_SI),
        ("4G", Fraction(4 * 10**9), QuantityFormat.DECIMAL_SI),
        ("2k", Fraction(2000), QuantityFormat.DECIMAL_SI),
        ("2048m", Fraction(2048, 1000), QuantityFormat.DECIMAL_SI),
        ("500u", Fraction(1, 2000), QuantityFormat.DECIMAL_SI),
        ("7n", Fraction(7, 10**9), QuantityFormat.DECIMAL_SI),
        ("4294967296", Fraction(4 * GIB), QuantityFormat.DECIMAL_SI),
        ("5.", Fraction(5), QuantityFormat.DECIMAL_SI),
        ("+1k", Fraction(1000), QuantityFormat.DECIMAL_SI),
        ("-1k", Fraction(-1000), QuantityFormat.DECIMAL_SI),
        ("1e3", Fraction(1000), QuantityFormat.DECIMAL_EXPONENT),
        ("1E3", Fraction(1000), QuantityFormat.DECIMAL_EXPONENT),
        ("15e-1", Fraction(3, 2), QuantityFormat.DECIMAL_EXPONENT),
        ("0", Fraction(0), QuantityFormat.DECIMAL_SI),
    ],
)
def test_a_quantity_is_read_exactly(text: str, value: Fraction, quantity_format: QuantityFormat) -> None:
    quantity = parse_quantity(text)
    assert (quantity.value, quantity.format, quantity.text) == (value, quantity_format, text)


def test_an_integer_is_a_quantity_of_plain_units() -> None:
    assert parse_quantity(4 * GIB).value == 4 * GIB


@pytest.mark.parametrize(
    ("text", "rounded_up"), [("2048m", 3), ("1.5", 2), ("500u", 1), ("4Gi", 4 * GIB), ("1e3", 1000)]
)
def test_a_fraction_of_a_unit_rounds_up_as_kubernetes_value_does(text: str, rounded_up: int) -> None:
    assert parse_quantity(text).rounded_up == rounded_up


@pytest.mark.parametrize(
    "text",
    [
        "",
        " 4Gi",
        "4Gi ",
        "4 Gi",
        "4g",
        "4gi",
        "4GB",
        "4K",
        "Gi",
        ".",
        "1.2.3",
        "1e1.5",
        "1e",
        "--1",
        "0x10",
        "1Mi1",
    ],
)
def test_a_string_that_is_not_a_quantity_is_refused(text: str) -> None:
    with pytest.raises(QuantityError):
        parse_quantity(text)


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("4g", "binary units Gi (powers of 1024) and decimal units G"),
        ("512mb", "binary units Mi (powers of 1024) and decimal units M"),
        ("8K", "binary units Ki (powers of 1024) and decimal units k"),
        (" 4Gi", "spaces"),
    ],
)
def test_a_flink_style_unit_gets_a_hint_with_the_kubernetes_spelling(text: str, hint: str) -> None:
    with pytest.raises(QuantityError, match=re.escape(hint)):
        parse_quantity(text)


def test_an_absurd_exponent_is_refused_without_computing_it() -> None:
    with pytest.raises(QuantityError, match="exponent out of range"):
        parse_quantity("1e2147483647")


@pytest.mark.parametrize("text", ["0", "0Gi", "-1Gi", "1e-10"])
def test_memory_must_be_positive(text: str) -> None:
    if text == "1e-10":
        assert parse_memory_quantity(text).rounded_up == 1  # positive, if absurd: the interpretation flags it
        return
    with pytest.raises(QuantityError, match="positive amount of memory"):
        parse_memory_quantity(text)


def test_memory_beyond_what_flink_can_size_is_refused() -> None:
    assert parse_memory_quantity(str(MAX_BYTES)).rounded_up == MAX_BYTES
    with pytest.raises(QuantityError, match="the most Flink can size"):
        parse_memory_quantity("8Ei")


@pytest.mark.parametrize("text", ["0", "-1", "0m"])
def test_cpu_must_be_positive(text: str) -> None:
    with pytest.raises(QuantityError, match="positive number of CPU cores"):
        parse_cpu_quantity(text)


@pytest.mark.parametrize(
    ("text", "decimal"),
    [("1500m", "1.5"), ("2", "2"), ("0.1", "0.1"), ("1e-3", "0.001"), ("100n", "0.0000001")],
)
def test_the_exact_value_reads_in_plain_decimals(text: str, decimal: str) -> None:
    assert parse_quantity(text).decimal_text == decimal


@pytest.mark.parametrize(
    "text",
    ["4Gi", "4G", "2048m", "1e3", "1E-3", "+1", ".5", "5.", "1.5Ki", "7n", "0", "12345678901234567890"],
)
def test_the_crd_pattern_accepts_every_positive_quantity_the_parser_reads(text: str) -> None:
    assert re.fullmatch(QUANTITY_PATTERN, text)
    parse_quantity(text)


@pytest.mark.parametrize("text", ["-1Gi", "4g", "4 Gi", "1e1.5", "4K", ""])
def test_the_crd_pattern_refuses_what_a_memory_field_cannot_hold(text: str) -> None:
    assert not re.fullmatch(QUANTITY_PATTERN, text)


@pytest.mark.parametrize(
    ("size_bytes", "text"),
    [
        (0, "0"),
        (1, "1"),
        (999, "999"),
        (1000, "1k"),
        (1023, "1023"),
        (1024, "1Ki"),
        (1024 * 1000, "1000Ki"),
        (1811939328, "1728Mi"),
        (4 * GIB, "4Gi"),
        (1536 * 1024**2, "1536Mi"),
        (1500000000, "1500M"),
        (2 * 10**9, "1953125Ki"),  # a multiple of 1024 stays binary: canonical too, and exact
        (1073741825, "1073741825"),
        (14614819295, "14614819295"),
        (1024**6 * 3, "3Ei"),
        (MAX_BYTES, "9223372036854775807"),
    ],
)
def test_a_byte_count_is_written_in_the_api_servers_canonical_form(size_bytes: int, text: str) -> None:
    assert format_memory_quantity(size_bytes) == text


@given(st.integers(min_value=0, max_value=MAX_BYTES))
def test_a_written_memory_quantity_reads_back_as_the_same_bytes(size_bytes: int) -> None:
    assert parse_quantity(format_memory_quantity(size_bytes)).value == size_bytes


@given(st.integers(min_value=0, max_value=MAX_BYTES))
def test_a_written_memory_quantity_is_its_own_canonical_form(size_bytes: int) -> None:
    text = format_memory_quantity(size_bytes)
    assert format_memory_quantity(parse_quantity(text).rounded_up) == text


@given(st.integers(min_value=0, max_value=2**40))
def test_a_multiple_of_a_mebibyte_is_written_with_a_binary_suffix(mebibytes: int) -> None:
    text = format_memory_quantity(mebibytes * 1024**2)
    assert mebibytes == 0 or text.endswith(("Mi", "Gi", "Ti", "Pi", "Ei"))


def test_a_negative_memory_size_cannot_be_written() -> None:
    with pytest.raises(ValueError, match="negative"):
        format_memory_quantity(-1)


@pytest.mark.parametrize(
    ("cores", "text"),
    [
        (1.0, "1"),
        (2.0, "2"),
        (1.5, "1500m"),
        (0.1, "100m"),
        (0.25, "250m"),
        (0.0001, "1m"),
        (1.0005, "1001m"),
        (0.0, "0"),
        (96.0, "96"),
    ],
)
def test_cpu_is_written_in_whole_millicores_rounded_up(cores: float, text: str) -> None:
    assert format_cpu_quantity(cores) == text


@given(st.floats(min_value=0, max_value=1e6, allow_nan=False, allow_infinity=False))
def test_written_cpu_is_never_below_the_cores_as_flink_prints_them(cores: float) -> None:
    written = parse_quantity(format_cpu_quantity(cores)).value
    printed = Fraction(Decimal(repr(cores)))  # Double.toString digits: 0.4, not 0.40000000000000002220...
    assert printed <= written < printed + Fraction(1, 1000)


@pytest.mark.parametrize("cores", [float("nan"), float("inf"), -1.0])
def test_cpu_that_is_not_a_finite_amount_cannot_be_written(cores: float) -> None:
    with pytest.raises(ValueError, match="finite, non-negative"):
        format_cpu_quantity(cores)
