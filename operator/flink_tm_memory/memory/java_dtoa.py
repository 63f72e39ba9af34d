"""JDK 17's ``Double.toString`` and ``Float.toString``, digit for digit.

Flink prints doubles with ``Double.toString`` and floats with ``Float.toString`` in messages and ``-D``
flags, and ``MemorySize.multiply(double)`` goes through ``BigDecimal.valueOf(double)``, which is
``new BigDecimal(Double.toString(m))``: the exact digits decide bytes. Flink runs on JDK 17, whose
digits come from ``jdk.internal.math.FloatingDecimal.BinaryToASCIIBuffer`` (JDK 19 replaced it). That
algorithm usually prints the shortest digits that round-trip, as Python's ``repr`` does, but not always:

* integers in [2^53, 2^63) (floats: [2^25, 2^63)) print their exact digits, dropping at most a few low
  ones: ``2.82879384806159008E17`` where the shortest is ``2.82879384806159E17``;
* it stops at the first digit that lands strictly within half an ulp of the value, on both sides, using
  the smaller gap for powers of two; the shortest digits may lie on the boundary or in the wider gap;
* E-notation always develops a second digit, which shows on subnormals: ``4.9E-324``.

This module ports that algorithm from the JDK 17u sources (``getBinaryToASCIIConverter`` for double and
float, ``dtoa`` with its long and int fast paths, ``developLongDigits``, ``estimateDecExp``,
``insignificantDigitsForPow2``, ``roundup`` and ``getChars``), with Python integers in place of
``FDBigInteger`` and the int and long paths' overflow reproduced (it shows: ``2.3851136372966234E25``
where exact arithmetic gives ``...235E25``). Doubles take a fast path through ``repr`` wherever the two
provably agree (see ``double_to_string``); the differential check against JDK 17 in
``tests/golden/generate_double_to_string.py`` covers both paths.
"""

from __future__ import annotations

import math
import struct

_DOUBLE_FRACTION_BITS = 52  # FloatingDecimal.EXP_SHIFT
_DOUBLE_FRACTION_MASK = (1 << _DOUBLE_FRACTION_BITS) - 1
_DOUBLE_EXPONENT_BIAS = 1023
_FLOAT_FRACTION_BITS = 23
_FLOAT_EXPONENT_BIAS = 127

# dtoa prints integers exactly (less insignificant digits) for binary exponents in this range.
_MIN_SMALL_BIN_EXP = -21
_MAX_SMALL_BIN_EXP = 62

# N_5_BITS: ceil(log2(5^i)), FloatingDecimal's bound on the bits of 5^i for i < 27.
_N_5_BITS = (0, *((5**i).bit_length() for i in range(1, 27)))
# insignificantDigitsNumber: how many low decimal digits of an integer are below 2^i (Java's table
# ends with 19 for 2^63 where the digit count gives 18; dtoa never looks past 2^37).
_INSIGNIFICANT_DIGITS = (*(len(str(1 << i)) - 1 for i in range(63)), 19)

# The fast path's domain: normal doubles below 2^53 (beyond it dtoa keeps insignificant digits).
_MIN_NORMAL = 2.2250738585072014e-308
_TWO_TO_53 = 9007199254740992.0


def double_to_string(value: float) -> str:
    """``Double.toString(value)`` exactly as JDK 17 prints it."""
    magnitude = abs(value)
    if 0.001 <= magnitude < 1e7:
        # JDK 17's digits are repr's here (see below) and repr lays them out plainly, as Java does. The
        # powers of two in this range are integers or 2^-1 .. 2^-9, whose repr is exact.
        return repr(value)
    if _MIN_NORMAL <= magnitude < _TWO_TO_53 and math.frexp(magnitude)[0] != 0.5:
        # For a normal double below 2^53 that is not a power of two, JDK 17's digits are repr's shortest
        # ones: an integer prints exactly either way; otherwise repr's digits lie within half an ulp,
        # and strictly (a decimal exactly half an ulp away has at least 18 digits), so dtoa stops at the
        # same length and, like repr, takes the nearer candidate; E-notation's forced second digit is
        # then a zero. The differential check confirms it over millions of values.
        return _layout_repr(value)
    return ported_double_to_string(value)


def ported_double_to_string(value: float) -> str:
    """The port alone, without ``double_to_string``'s fast path (which the differential check holds to it)."""
    bits = struct.unpack(">Q", struct.pack(">d", value))[0]
    negative = bits >> 63 == 1
    fraction = bits & _DOUBLE_FRACTION_MASK
    biased_exponent = (bits >> _DOUBLE_FRACTION_BITS) & 0x7FF
    if biased_exponent == 0x7FF:
        return _special(negative, fraction)
    if biased_exponent == 0:
        if fraction == 0:
            return "-0.0" if negative else "0.0"
        significant_bits = fraction.bit_length()
        fraction <<= _DOUBLE_FRACTION_BITS + 1 - significant_bits
        binary_exponent = significant_bits - _DOUBLE_FRACTION_BITS - _DOUBLE_EXPONENT_BIAS
    else:
        fraction |= 1 << _DOUBLE_FRACTION_BITS
        significant_bits = _DOUBLE_FRACTION_BITS + 1
        binary_exponent = biased_exponent - _DOUBLE_EXPONENT_BIAS
    digits, decimal_exponent = _dtoa(binary_exponent, fraction, significant_bits)
    return _get_chars(negative, digits, decimal_exponent)


def float_to_string(value: float) -> str:
    """``Float.toString`` of a binary32 value (given widened to double) exactly as JDK 17 prints it."""
    bits = struct.unpack(">I", struct.pack(">f", value))[0]
    negative = bits >> 31 == 1
    fraction = bits & ((1 << _FLOAT_FRACTION_BITS) - 1)
    biased_exponent = (bits >> _FLOAT_FRACTION_BITS) & 0xFF
    if biased_exponent == 0xFF:
        return _special(negative, fraction)
    if biased_exponent == 0:
        if fraction == 0:
            return "-0.0" if negative else "0.0"
        significant_bits = fraction.bit_length()
        fraction <<= _FLOAT_FRACTION_BITS + 1 - significant_bits
        binary_exponent = significant_bits - _FLOAT_FRACTION_BITS - _FLOAT_EXPONENT_BIAS
    else:
        fraction |= 1 << _FLOAT_FRACTION_BITS
        significant_bits = _FLOAT_FRACTION_BITS + 1
        binary_exponent = biased_exponent - _FLOAT_EXPONENT_BIAS
    # A float runs through the double algorithm with its fraction aligned to 53 bits.
    aligned = fraction << (_DOUBLE_FRACTION_BITS - _FLOAT_FRACTION_BITS)
    digits, decimal_exponent = _dtoa(binary_exponent, aligned, significant_bits)
    return _get_chars(negative, digits, decimal_exponent)


def _special(negative: bool, fraction: int) -> str:
    if fraction != 0:
        return "NaN"
    return "-Infinity" if negative else "Infinity"


def _dtoa(binary_exponent: int, fraction: int, significant_bits: int) -> tuple[list[int], int]:
    """Decimal digits and exponent (value = 0.d1d2... x 10^exponent) of fraction x 2^(exponent - 52).

    ``fraction`` has its leading one at bit 52; ``significant_bits`` is the precision of the source
    type (53 or 24, fewer for subnormals), which sets half an ulp.
    """
    tail_zeros = (fraction & -fraction).bit_length() - 1
    fraction_bits = _DOUBLE_FRACTION_BITS + 1 - tail_zeros
    # Bits right of the binary point; none means the value is an integer.
    tiny_bits = max(0, fraction_bits - binary_exponent - 1)
    if tiny_bits == 0 and _MIN_SMALL_BIN_EXP <= binary_exponent <= _MAX_SMALL_BIN_EXP:
        insignificant = 0
        if binary_exponent > significant_bits:
            insignificant = _insignificant_digits_for_pow2(binary_exponent - significant_bits - 1)
        shift = binary_exponent - _DOUBLE_FRACTION_BITS
        integer = fraction << shift if shift >= 0 else fraction >> -shift
        return _develop_long_digits(integer, insignificant)

    # The value is B/S x 10^decimal_exponent with 1 <= B/S < 10 once the estimate is corrected; M is
    # half an ulp on B's scale. Each is 2^a x 5^b; the exponents are kept apart until the numbers are
    # built so that common powers of two can be cancelled.
    decimal_exponent = _estimate_dec_exp(fraction, binary_exponent)
    b5 = max(0, -decimal_exponent)
    b2 = b5 + tiny_bits + binary_exponent
    s5 = max(0, decimal_exponent)
    s2 = s5 + tiny_bits
    m5 = b5
    m2 = b2 - significant_bits
    fraction >>= tail_zeros
    b2 -= fraction_bits - 1
    common = min(b2, s2)
    b2 -= common
    s2 -= common
    m2 -= common
    if fraction_bits == 1:
        # A power of two: the gap below is half the gap above, and dtoa's test is symmetric.
        m2 -= 1
    if m2 < 0:
        b2 -= m2
        s2 -= m2
        m2 = 0

    b_bits = fraction_bits + b2 + (_N_5_BITS[b5] if b5 < len(_N_5_BITS) else b5 * 3)
    ten_s_bits = s2 + 1 + (_N_5_BITS[s5 + 1] if s5 + 1 < len(_N_5_BITS) else (s5 + 1) * 3)
    numerator = (fraction * 5**b5) << b2
    denominator = 5**s5 << s2
    half_ulp = 5**m5 << m2
    if b_bits < 64 and ten_s_bits < 64:
        width = 32 if b_bits < 32 and ten_s_bits < 32 else 64
        return _machine_word_digits(numerator, denominator, half_ulp, decimal_exponent, width)
    return _big_digits(numerator, denominator, half_ulp, decimal_exponent)


def _wrap(value: int, width: int) -> int:
    """``value`` as Java's ``int`` (width 32) or ``long`` (width 64) arithmetic leaves it."""
    half = 1 << (width - 1)
    return ((value + half) & ((half << 1) - 1)) - half


def _machine_word_digits(b: int, s: int, m: int, decimal_exponent: int, width: int) -> tuple[list[int], int]:
    """dtoa's int and long paths: the digit loop in ``width``-bit arithmetic, overflow included.

    ``m`` (half an ulp, times ten per digit) can overflow and so can ``b + m`` and ``2b - 10s``; Java
    guards only the loop's ``m`` (treating a non-positive one as "stop"), so the wrapped values matter.
    """
    tens = s * 10
    digits: list[int] = []
    q, b = divmod(b, s)
    b *= 10
    m = _wrap(m * 10, width)
    low = b < m
    high = _wrap(b + m, width) > tens
    if q == 0 and not high:
        # The exponent estimate was one too high.
        decimal_exponent -= 1
    else:
        digits.append(q)
    if decimal_exponent < -3 or decimal_exponent >= 8:
        # E-notation needs a digit after the point.
        low = high = False
    while not low and not high:
        q, b = divmod(b, s)
        b *= 10
        m = _wrap(m * 10, width)
        if m > 0:
            low = b < m
            high = _wrap(b + m, width) > tens
        else:
            low = high = True
        digits.append(q)
    low_digit_difference = _wrap(2 * b - tens, width)
    return _round_last_digit(digits, decimal_exponent + 1, low, high, low_digit_difference)


def _big_digits(b: int, s: int, m: int, decimal_exponent: int) -> tuple[list[int], int]:
    """dtoa's FDBigInteger path: exact arithmetic, and a non-strict test for rounding up."""
    ten_s = s * 10
    ten_m = m * 10
    digits: list[int] = []
    q, b = divmod(b, s)
    b *= 10
    low = b < ten_m
    high = b + ten_m >= ten_s
    if q == 0 and not high:
        decimal_exponent -= 1
    else:
        digits.append(q)
    if decimal_exponent < -3 or decimal_exponent >= 8:
        low = high = False
    while not low and not high:
        q, b = divmod(b, s)
        b *= 10
        ten_m *= 10
        low = b < ten_m
        high = b + ten_m >= ten_s
        digits.append(q)
    low_digit_difference = (2 * b > ten_s) - (2 * b < ten_s) if high and low else 0
    return _round_last_digit(digits, decimal_exponent + 1, low, high, low_digit_difference)


def _round_last_digit(
    digits: list[int], decimal_exponent: int, low: bool, high: bool, low_digit_difference: int
) -> tuple[list[int], int]:
    """Rounds the last digit by which test stopped the loop; a tie goes to an even digit."""
    if high and (not low or low_digit_difference > 0 or (low_digit_difference == 0 and digits[-1] & 1)):
        decimal_exponent = _roundup(digits, decimal_exponent)
    return digits, decimal_exponent


def _roundup(digits: list[int], decimal_exponent: int) -> int:
    """Adds one to the last digit in place; a carry out of all nines gives 1 and zeros, one place up."""
    index = len(digits) - 1
    digit = digits[index]
    if digit == 9:
        while digit == 9 and index > 0:
            digits[index] = 0
            index -= 1
            digit = digits[index]
        if digit == 9:
            digits[0] = 1
            return decimal_exponent + 1
    digits[index] = digit + 1
    return decimal_exponent


def _develop_long_digits(integer: int, insignificant: int) -> tuple[list[int], int]:
    """An integer's digits, less ``insignificant`` low digits (rounded half up) and trailing zeros."""
    decimal_exponent = 0
    if insignificant:
        power = 10**insignificant
        integer, residue = divmod(integer, power)
        decimal_exponent = insignificant
        if residue >= power >> 1:
            integer += 1
    text = str(integer)
    significant = text.rstrip("0")
    return [ord(char) - 48 for char in significant], decimal_exponent + len(text)


def _estimate_dec_exp(fraction: int, binary_exponent: int) -> int:
    """floor(log10(value)) or one more, from a tangent to log10 at 1.5 (computed in doubles, as Java)."""
    mantissa = 1.0 + (fraction & _DOUBLE_FRACTION_MASK) / 2.0**_DOUBLE_FRACTION_BITS
    estimate = (mantissa - 1.5) * 0.289529654 + 0.176091259 + float(binary_exponent) * 0.301029995663981
    return math.floor(estimate)


def _insignificant_digits_for_pow2(power: int) -> int:
    if 1 < power < len(_INSIGNIFICANT_DIGITS):
        return _INSIGNIFICANT_DIGITS[power]
    return 0


def _get_chars(negative: bool, digits: list[int], decimal_exponent: int) -> str:
    """Lays out 0.d1d2... x 10^decimal_exponent: plain within [1e-3, 1e7), else d.ddd E n."""
    text = "".join([chr(48 + digit) for digit in digits])
    sign = "-" if negative else ""
    if 0 < decimal_exponent < 8:
        whole = text[:decimal_exponent]
        if len(whole) < decimal_exponent:
            return f"{sign}{whole}{'0' * (decimal_exponent - len(whole))}.0"
        return f"{sign}{whole}.{text[decimal_exponent:] or '0'}"
    if -3 < decimal_exponent <= 0:
        return f"{sign}0.{'0' * -decimal_exponent}{text}"
    return f"{sign}{text[0]}.{text[1:] or '0'}E{decimal_exponent - 1}"


def _layout_repr(value: float) -> str:
    """JDK 17's layout of ``repr``'s shortest digits."""
    mantissa, _, exponent_text = repr(value).partition("e")
    sign = ""
    if mantissa[0] == "-":
        sign, mantissa = "-", mantissa[1:]
    whole, _, fraction = mantissa.partition(".")
    all_digits = whole + fraction
    significant = all_digits.lstrip("0")
    exponent = len(whole) - (len(all_digits) - len(significant)) + int(exponent_text or "0")
    digits = significant.rstrip("0")
    if 0 < exponent < 8:
        return f"{sign}{digits[:exponent].ljust(exponent, '0')}.{digits[exponent:] or '0'}"
    if -3 < exponent <= 0:
        return f"{sign}0.{'0' * -exponent}{digits}"
    return f"{sign}{digits[0]}.{digits[1:] or '0'}E{exponent - 1}"
