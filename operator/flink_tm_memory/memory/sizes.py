"""Flink's ``MemorySize``: parsing, arithmetic and the two text forms, byte-exact.

Sizes are plain ``int`` byte counts. The rules that make Python differ from Java are all here:
``String.trim`` instead of ``str.strip``, the 64-bit overflow checks in Flink's order, the exact
``BigDecimal`` product truncated toward zero, and Java ``%.3f`` rounding half-up on the
``Double.toString`` digits (Python's ``%.3f`` rounds half-even on the binary value).
"""

from __future__ import annotations

import math

from flink_tm_memory.memory.failures import ARITHMETIC, ILLEGAL_ARGUMENT, NUMBER_FORMAT, JavaError
from flink_tm_memory.memory.javanum import LONG_MAX, big_decimal_value_of, java_double_to_string, java_trim

KIB = 1024
MIB = 1024**2
GIB = 1024**3
TIB = 1024**4
MAX_BYTES = LONG_MAX

_UNITS: dict[str, int] = {
    "b": 1,
    "bytes": 1,
    "k": KIB,
    "kb": KIB,
    "kibibytes": KIB,
    "m": MIB,
    "mb": MIB,
    "mebibytes": MIB,
    "g": GIB,
    "gb": GIB,
    "gibibytes": GIB,
    "t": TIB,
    "tb": TIB,
    "tebibytes": TIB,
}
_RECOGNISED = (
    "(b | bytes) / (k | kb | kibibytes) / (m | mb | mebibytes) / (g | gb | gibibytes) / (t | tb | tebibytes)"
)
# Ordered as Flink's MemoryUnit enum; the human form picks the largest unit strictly below the value.
_HUMAN_UNITS: tuple[tuple[str, int], ...] = (("kb", KIB), ("mb", MIB), ("gb", GIB), ("tb", TIB))
_TO_STRING_UNITS: tuple[tuple[str, int], ...] = (
    ("bytes", 1),
    ("kb", KIB),
    ("mb", MIB),
    ("gb", GIB),
    ("tb", TIB),
)


def parse_memory_size(text: str) -> int:
    """``MemorySize.parse``: bytes, or a ``JavaError`` with Flink's exact message."""
    # A fleet repeats the same few sizes ("4g", "1728m"); short texts that parse are remembered.
    return _parse_remembered(text) if len(text) <= 32 else _parse(text)


# By hand, not functools.lru_cache: functools (and collections) stay off the one-shot command line's
# path (memory/constants.py). Only results are kept: a failing text is parsed again each time. When
# full, the memory starts afresh (clear() is one step, safe if threads share it).
_REMEMBERED: dict[str, int] = {}
_REMEMBERED_AT_MOST = 4096


def _parse_remembered(text: str) -> int:
    size = _REMEMBERED.get(text)
    if size is None:
        size = _parse(text)
        if len(_REMEMBERED) >= _REMEMBERED_AT_MOST:
            _REMEMBERED.clear()
        _REMEMBERED[text] = size
    return size


def _parse(text: str) -> int:
    trimmed = java_trim(text)
    if not trimmed:
        raise JavaError(ILLEGAL_ARGUMENT, "argument is an empty- or whitespace-only string")
    end = 0
    while end < len(trimmed) and "0" <= trimmed[end] <= "9":
        end += 1
    digits = trimmed[:end]
    if not digits:
        raise JavaError(NUMBER_FORMAT, "text does not start with a number")
    unit = java_lower_case(java_trim(trimmed[end:]))
    # Long.parseLong runs before the unit is looked at, so "99999999999999999999x" is an overflow.
    significant = digits.lstrip("0") or "0"  # int() refuses thousands of digits, even zeros
    if len(significant) > 19 or int(significant) > LONG_MAX:
        raise JavaError(
            ILLEGAL_ARGUMENT,
            f"The value '{digits}' cannot be re represented as 64bit number (numeric overflow).",
        )
    value = int(significant)
    multiplier = _UNITS.get(unit) if unit else 1
    if multiplier is None:
        raise JavaError(
            ILLEGAL_ARGUMENT,
            f"Memory size unit '{unit}' does not match any of the recognized units: {_RECOGNISED}",
        )
    result = value * multiplier
    if result > LONG_MAX:
        raise JavaError(
            ILLEGAL_ARGUMENT,
            f"The value '{text}' cannot be re represented as 64bit number of bytes (numeric overflow).",
        )
    return result


# Letters that gained a lower-case mapping after Unicode 13.0 (Java 17's Unicode): Python 3.11 (Unicode
# 14.0) lower-cases them, Java 17 leaves them as they are.
_UPPER_SINCE_UNICODE_14 = frozenset(
    "\u2c2f\ua7c0\ua7d0\ua7d6\ua7d8"
    + "".join(chr(code) for code in range(0x10570, 0x10596) if code not in (0x1057B, 0x1058B, 0x10593))
)


def java_lower_case(text: str) -> str:
    """``String.toLowerCase(Locale.US)`` as Java 17 does it (KELVIN SIGN becomes ``k`` in both)."""
    if text.isascii() or not _UPPER_SINCE_UNICODE_14.intersection(text):
        return text.lower()  # whole-string lower(): Java and Python both apply the final-sigma rule
    pieces: list[str] = []
    start = 0
    for index, char in enumerate(text):
        if char in _UPPER_SINCE_UNICODE_14:
            pieces.extend((text[start:index].lower(), char))
            start = index + 1
    pieces.append(text[start:].lower())
    return "".join(pieces)


def format_human(size_bytes: int) -> str:
    """``MemorySize.toHumanReadableString``, the form used in every Flink message."""
    unit_name, multiplier = "", 1
    for name, unit_bytes in _HUMAN_UNITS:
        if size_bytes > unit_bytes:
            unit_name, multiplier = name, unit_bytes
    if multiplier == 1:
        return f"{size_bytes} bytes"
    # Java: String.format("%.3f", double), which rounds Double.toString's decimal half-up; the
    # quotient is positive, so half-up is floor(x * 1000 + 1/2).
    numerator, denominator = big_decimal_value_of(float(size_bytes) / multiplier)
    thousandths = (numerator * 2000 + denominator) // (2 * denominator)
    return f"{thousandths // 1000}.{thousandths % 1000:03d}{unit_name} ({size_bytes} bytes)"


def format_short(size_bytes: int) -> str:
    """``format_human`` without the exact byte count Flink appends: ``1.688gb``, ``0 bytes``."""
    return format_human(size_bytes).split(" (", 1)[0]


def format_option_value(size_bytes: int) -> str:
    """``MemorySize.toString``: the largest unit that divides the value exactly, e.g. ``64 mb``."""
    for index, (_, unit_bytes) in enumerate(_TO_STRING_UNITS):
        if size_bytes % unit_bytes != 0:
            name, previous = _TO_STRING_UNITS[index - 1] if index > 0 else _TO_STRING_UNITS[0]
            return f"{size_bytes // previous} {name}"
    return f"{size_bytes} bytes"


def add(left: int, right: int) -> int:
    """``MemorySize.add`` (``Math.addExact``)."""
    total = left + right
    if total > LONG_MAX:
        raise JavaError(ARITHMETIC, "long overflow")
    return total


def add_all(*sizes: int) -> int:
    """Left-to-right ``add`` chain, failing at the first step that overflows, as Java does."""
    total = 0
    for size in sizes:
        total = add(total, size)
    return total


def multiply(size_bytes: int, multiplier: float) -> int:
    """``MemorySize.multiply(double)``: exact decimal product of ``Double.toString(m)``, truncated."""
    if multiplier < 0:
        raise JavaError(ILLEGAL_ARGUMENT, "multiplier must be >= 0")
    if math.isnan(multiplier) or math.isinf(multiplier):
        # BigDecimal.valueOf parses Double.toString's "NaN"/"Infinity" and fails on its first letter.
        raise JavaError(
            NUMBER_FORMAT,
            f"Character {java_double_to_string(multiplier)[0]} is neither a decimal digit number, decimal point, "
            'nor "e" notation exponential mark.',
        )
    numerator, denominator = _multiplier_ratio(multiplier)
    product, remainder = divmod(size_bytes * numerator, denominator)
    if product > LONG_MAX or (product == LONG_MAX and remainder):
        raise JavaError(ARITHMETIC, "long overflow")
    return product  # floor == truncation, the product is never negative


_RATIOS: dict[float, tuple[int, int]] = {}


def _multiplier_ratio(value: float) -> tuple[int, int]:
    """``BigDecimal.valueOf(value)`` as an exact integer ratio (the same few fractions recur)."""
    ratio = _RATIOS.get(value)
    if ratio is None:
        ratio = _RATIOS[value] = big_decimal_value_of(value)
    return ratio


def format_flag_bytes(size_bytes: int) -> str:
    """How a size is pinned in a ``-D`` flag: ``<bytes>b``."""
    return f"{size_bytes}b"
