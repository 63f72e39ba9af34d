"""Java's number parsing and printing, reproduced exactly where Flink's output depends on it.

Flink reads fractions with ``Float.parseFloat``, CPU cores with ``Double.parseDouble`` and slots with
``Integer.parseInt``; it prints doubles with ``Double.toString`` (in messages, in ``-D`` flags and in
``BigDecimal.valueOf``) and floats with ``Float.toString``. Python's own ``float()``, ``int()`` and
``repr`` accept and print different things, so each Java rule lives here once, with Java's error texts.
"""

from __future__ import annotations

import math
import struct

from flink_tm_memory.memory import java_dtoa
from flink_tm_memory.memory.failures import NUMBER_FORMAT, JavaError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see memory/records.py)
if TYPE_CHECKING:
    from fractions import Fraction

INT_MIN = -(2**31)
INT_MAX = 2**31 - 1
LONG_MAX = 2**63 - 1
FLOAT_MAX = struct.unpack(">f", b"\x7f\x7f\xff\xff")[0]
FLOAT_MIN_SUBNORMAL = struct.unpack(">f", b"\x00\x00\x00\x01")[0]

# Java's FloatingDecimal keeps at most this many significant digits plus one "sticky" digit.
_MAX_SIGNIFICANT_DIGITS = 1100
# Compiled (and cached by re) on first use: hexadecimal floats are rare, the compile is not cheap.
_HEX_FLOAT = (
    r"([-+])?0[xX](((?P<a>[0-9a-fA-F]+)\.?)|((?P<b>[0-9a-fA-F]*)\.(?P<c>[0-9a-fA-F]+)))"
    r"[pP](?P<esign>[-+])?(?P<exp>[0-9]+)[fFdD]?"
)


def java_trim(text: str) -> str:
    """``String.trim()``: strips every character up to U+0020 at both ends, and nothing else."""
    start, end = 0, len(text)
    while start < end and text[start] <= " ":
        start += 1
    while end > start and text[end - 1] <= " ":
        end -= 1
    return text[start:end]


def _input_error(text: str) -> JavaError:
    return JavaError(NUMBER_FORMAT, f'For input string: "{text}"')


def _parse_decimal(text: str, *, exponent_limit: int) -> Fraction | float:
    """Parses Java's floating-point grammar into an exact value (or ±inf/nan).

    ``exponent_limit`` bounds the decimal magnitude beyond which the target type can only be
    infinity or zero, so that hostile exponents such as ``1e999999999`` cost nothing.
    """
    trimmed = java_trim(text)
    if not trimmed:
        raise JavaError(NUMBER_FORMAT, "empty String")
    negative = trimmed[0] == "-"
    unsigned = trimmed[1:] if trimmed[0] in "+-" else trimmed
    special = _SPECIAL_VALUES.get(unsigned)
    if special is not None:
        return -special if negative else special
    if unsigned[:2] in ("0x", "0X"):
        return _parse_hex(trimmed)
    digits, point_position, end = _scan_digits(trimmed, len(trimmed) - len(unsigned))
    exponent, end = _scan_exponent(trimmed, end)
    if end < len(trimmed) and (end + 1 < len(trimmed) or trimmed[end] not in "fFdD"):
        raise _input_error(trimmed)
    return _exact_value(digits, point_position + exponent, negative, exponent_limit)


_SPECIAL_VALUES = {"NaN": math.nan, "Infinity": math.inf}


def _scan_digits(trimmed: str, start: int) -> tuple[str, int, int]:
    """Digits with at most one point: (digits, digits before the point, end index)."""
    digits: list[str] = []
    seen_point = False
    point_position = 0
    index = start
    while index < len(trimmed):
        char = trimmed[index]
        if "0" <= char <= "9":
            digits.append(char)
            point_position += 0 if seen_point else 1
        elif char == ".":
            if seen_point:
                raise JavaError(NUMBER_FORMAT, "multiple points")
            seen_point = True
        else:
            break
        index += 1
    if not digits:
        raise _input_error(trimmed)
    return "".join(digits), point_position, index


def _scan_exponent(trimmed: str, start: int) -> tuple[int, int]:
    """An optional ``e[+-]digits`` part: (exponent, end index); huge exponents are clamped."""
    if start >= len(trimmed) or trimmed[start] not in "eE":
        return 0, start
    index = start + 1
    negative = index < len(trimmed) and trimmed[index] == "-"
    if index < len(trimmed) and trimmed[index] in "+-":
        index += 1
    digits_start = index
    while index < len(trimmed) and "0" <= trimmed[index] <= "9":
        index += 1
    if index == digits_start:
        raise _input_error(trimmed)
    exponent_text = trimmed[digits_start:index].lstrip("0") or "0"
    exponent = int(exponent_text) if len(exponent_text) < 12 else 10**12
    return (-exponent if negative else exponent), index


def _exact_value(digits: str, magnitude_offset: int, negative: bool, exponent_limit: int) -> Fraction | float:
    """The exact value of 0.<digits> x 10^magnitude, with Java's significant-digit cut and sticky digit."""
    from fractions import Fraction  # noqa: PLC0415 - numbers are rarely configured as text; keeps the CLI fast

    significant = digits.lstrip("0")
    if not significant:
        return -0.0 if negative else Fraction(0)
    magnitude = magnitude_offset - (len(digits) - len(significant))
    if len(significant) > _MAX_SIGNIFICANT_DIGITS:
        dropped = significant[_MAX_SIGNIFICANT_DIGITS:]
        significant = significant[:_MAX_SIGNIFICANT_DIGITS] + ("1" if dropped.strip("0") else "")
    if magnitude > exponent_limit:
        return -math.inf if negative else math.inf
    if magnitude < -exponent_limit - _MAX_SIGNIFICANT_DIGITS:
        return -0.0 if negative else Fraction(0)
    value = Fraction(int(significant)) * (Fraction(10) ** (magnitude - len(significant)))
    return -value if negative else value


def _parse_hex(trimmed: str) -> Fraction | float:
    import re  # noqa: PLC0415 - hexadecimal floats are rare; keeps the one-shot CLI start fast
    from fractions import Fraction  # noqa: PLC0415 - numbers are rarely configured as text; keeps the CLI fast

    match = re.fullmatch(_HEX_FLOAT, trimmed)
    if match is None:
        raise _input_error(trimmed)
    whole = match.group("a") if match.group("a") is not None else (match.group("b") or "")
    fraction_digits = match.group("c") or ""
    mantissa = int((whole + fraction_digits) or "0", 16)
    exponent_text = match.group("exp").lstrip("0") or "0"
    exponent = int(exponent_text) if len(exponent_text) < 8 else 10**8
    if match.group("esign") == "-":
        exponent = -exponent
    exponent -= 4 * len(fraction_digits)
    negative = trimmed.startswith("-")
    if mantissa == 0:
        return -0.0 if negative else Fraction(0)
    if exponent > 2000:
        return -math.inf if negative else math.inf
    if exponent < -3000:
        return -0.0 if negative else Fraction(0)
    value = Fraction(mantissa) * (Fraction(2) ** exponent)
    return -value if negative else value


def _round_to_binary32(value: Fraction) -> float:
    """Rounds an exact rational to the nearest IEEE binary32 value (ties to even), as a Python float."""
    from fractions import Fraction  # noqa: PLC0415 - numbers are rarely configured as text; keeps the CLI fast

    if value == 0:
        return 0.0
    sign = -1.0 if value < 0 else 1.0
    magnitude = abs(value)
    exponent = magnitude.numerator.bit_length() - magnitude.denominator.bit_length()
    if Fraction(2) ** exponent > magnitude:
        exponent -= 1
    # 24 significant bits for normal numbers; subnormals share the fixed exponent -149.
    unit_exponent = max(exponent - 23, -149)
    scaled = magnitude / (Fraction(2) ** unit_exponent)
    mantissa = math.floor(scaled)
    remainder = scaled - mantissa
    if remainder > Fraction(1, 2) or (remainder == Fraction(1, 2) and mantissa % 2 == 1):
        mantissa += 1
    result = mantissa * 2.0**unit_exponent if unit_exponent > -1000 else 0.0
    if result > FLOAT_MAX:
        return sign * math.inf
    return sign * result


def parse_java_float(text: str) -> float:
    """``Float.parseFloat``: the binary32 value, widened to double as Flink uses it."""
    value = _parse_decimal(text, exponent_limit=40)
    if isinstance(value, float):
        return value
    return _round_to_binary32(value)


def parse_java_double(text: str) -> float:
    """``Double.parseDouble`` with Java's grammar and messages (correctly rounded)."""
    value = _parse_decimal(text, exponent_limit=310)
    if isinstance(value, float):
        return value
    try:
        return value.numerator / value.denominator
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def parse_java_int(text: str) -> int:
    """``Integer.parseInt`` in radix 10: an optional sign and ASCII digits, no whitespace, 32 bits."""
    return _parse_java_integer(text, INT_MIN, INT_MAX)


def parse_java_long(text: str) -> int:
    """``Long.parseLong`` in radix 10: as ``parse_java_int``, 64 bits."""
    return _parse_java_integer(text, -LONG_MAX - 1, LONG_MAX)


def _parse_java_integer(text: str, lowest: int, highest: int) -> int:
    # Character.digit accepts every Unicode decimal digit (e.g. FULLWIDTH DIGIT TWO), but only in the
    # Basic Multilingual Plane: Java walks UTF-16 units, so supplementary digits are not digits.
    body = text[1:] if text[:1] in ("+", "-") else text
    if not body or not body.isdecimal() or any(ord(char) > 0xFFFF for char in body):
        raise _input_error(text)
    significant = body.lstrip(_zero_digits(body))
    if len(significant) > 20:  # beyond any 64-bit value; spares int() a hostile digit string
        raise _input_error(text)
    value = -int(significant or "0") if text[:1] == "-" else int(significant or "0")
    if not lowest <= value <= highest:
        raise _input_error(text)
    return value


def _zero_digits(digits: str) -> str:
    """The characters among ``digits`` that are a zero in some script (leading zeros never count)."""
    if digits.isascii():
        return "0"
    import unicodedata  # noqa: PLC0415 - only digits of other scripts need the Unicode database

    return "".join({char for char in digits if unicodedata.decimal(char, None) == 0})


def to_binary32(value: float) -> float:
    """Java's ``(float) double`` narrowing, widened back: round-to-nearest binary32."""
    if math.isnan(value) or math.isinf(value):
        return value
    if abs(value) >= 2.0**128:
        return math.copysign(math.inf, value)
    return float(struct.unpack(">f", struct.pack(">f", value))[0])


def java_double_to_string(value: float) -> str:
    """``Double.toString`` as JDK 17 prints it (not always the shortest digits; see ``java_dtoa``)."""
    return java_dtoa.double_to_string(value)


def big_decimal_value_of(value: float) -> tuple[int, int]:
    """``BigDecimal.valueOf(value)`` (the decimal ``Double.toString`` spells) as an exact ratio.

    ``(numerator, denominator)``, the denominator a power of ten, not reduced; the value must be
    finite. Integer arithmetic on it gives ``BigDecimal``'s exact results without importing
    ``decimal`` on the one-shot command line's path.
    """
    mantissa, _, exponent = java_double_to_string(value).partition("E")
    whole, _, fraction = mantissa.partition(".")
    numerator = int(whole + fraction)  # the sign, if any, leads the whole part
    scale = int(exponent or "0") - len(fraction)
    return (numerator * 10**scale, 1) if scale >= 0 else (numerator, 10**-scale)


def truncate_ratio(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded toward zero (``RoundingMode.DOWN``); ``denominator > 0``."""
    quotient = abs(numerator) // denominator
    return -quotient if numerator < 0 else quotient


def java_float_to_string(value: float) -> str:
    """``Float.toString`` of a binary32 value (given widened) as JDK 17 prints it."""
    return java_dtoa.float_to_string(value)


def fits_float(value: float) -> bool:
    """Flink's check before casting a YAML double to a float option."""
    return value == 0.0 or FLOAT_MIN_SUBNORMAL <= abs(value) <= FLOAT_MAX
