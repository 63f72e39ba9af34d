"""Kubernetes resource quantities (``4Gi``, ``1500m``, ``1e3``): exact parsing and canonical formatting.

The custom resource says the container size the Kubernetes way, so the operator must read quantities
exactly as the API server does (``k8s.io/apimachinery/pkg/api/resource``): binary suffixes ``Ki`` … ``Ei``
are powers of 1024, decimal suffixes ``k`` … ``E`` powers of 1000, ``m``/``u``/``n`` are thousandths,
millionths and billionths (so ``2048m`` of memory is 2.048 bytes), and ``e``/``E`` introduce a decimal
exponent. Values are kept as exact fractions; a byte count is rounded *up*, as ``Quantity.Value()`` does.

Formatting goes the other way and produces the API server's canonical form (what it echoes back after
storing a Pod template): that keeps writes idempotent, because a value written in canonical form reads
back byte-identical, and it never rounds a size down. Pure: standard library only.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from flink_tm_memory.memory.sizes import MAX_BYTES

QUANTITY_PATTERN = r"^\+?([0-9]+(\.[0-9]*)?|\.[0-9]+)(([KMGTPE]i)|[numkMGTPE]|[eE][+-]?[0-9]+)?$"
"""A positive Kubernetes quantity, as the CRD's schema accepts it (the parser accepts a sign too)."""

_SYNTAX = re.compile(
    r"(?P<sign>[+-]?)(?P<number>[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
    r"(?P<suffix>[KMGTPE]i|[numkMGTPE]|[eE][+-]?[0-9]+)?"
)
_BINARY = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_BINARY_SUFFIXES = ("", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei")
_DECIMAL_SUFFIXES = ("", "k", "M", "G", "T", "P", "E")
# Go parses the exponent as an int32; anything beyond this is out of any int64 range anyway.
_MAX_EXPONENT = 64
MAX_QUANTITY_LENGTH = 64
"""The longest quantity text read: exact decimal arithmetic on a megabyte of digits takes a minute, and
no memory or CPU amount needs more than a few dozen characters (the CRD's ``maxLength`` says the same)."""


class QuantityError(ValueError):
    """A string that is not a Kubernetes quantity, or not one a field can hold."""


class QuantityFormat(StrEnum):
    """How a quantity was written, which decides its canonical form (as in Kubernetes)."""

    BINARY_SI = "BinarySI"
    DECIMAL_SI = "DecimalSI"
    DECIMAL_EXPONENT = "DecimalExponent"


@dataclass(frozen=True, slots=True)
class Quantity:
    """A parsed quantity: the text as written, its exact value, and its suffix."""

    text: str
    value: Fraction
    suffix: str
    format: QuantityFormat

    @property
    def is_whole(self) -> bool:
        return self.value.denominator == 1

    @property
    def decimal_text(self) -> str:
        """The exact value in plain decimal notation: ``2048m`` → ``2.048``, ``1500m`` → ``1.5``."""
        return decimal_text(self.value)

    @property
    def rounded_up(self) -> int:
        """The integer value, rounded up as ``Quantity.Value()`` rounds (2048m → 3)."""
        return math.ceil(self.value)


def parse_quantity(text: str | int) -> Quantity:
    """Reads a Kubernetes quantity exactly; raises ``QuantityError`` with the reason if it is not one."""
    raw = str(text)
    if len(raw) > MAX_QUANTITY_LENGTH:
        raise QuantityError(
            f"{quoted(raw)} is {len(raw)} characters long; a quantity has at most {MAX_QUANTITY_LENGTH}"
        )
    match = _SYNTAX.fullmatch(raw)
    if match is None:
        raise QuantityError(f"{raw!r} is not a Kubernetes quantity{_hint(raw)}")
    suffix = match.group("suffix") or ""
    number = Fraction(Decimal(match.group("number")))
    sign = -1 if match.group("sign") == "-" else 1
    if suffix in _BINARY:
        return Quantity(raw, sign * number * 1024 ** _BINARY[suffix], suffix, QuantityFormat.BINARY_SI)
    if suffix in _DECIMAL:
        return Quantity(
            raw, sign * number * Fraction(10) ** _DECIMAL[suffix], suffix, QuantityFormat.DECIMAL_SI
        )
    exponent = int(suffix[1:])
    if abs(exponent) > _MAX_EXPONENT:
        raise QuantityError(f"{raw!r} has an exponent out of range")
    return Quantity(raw, sign * number * Fraction(10) ** exponent, suffix, QuantityFormat.DECIMAL_EXPONENT)


def parse_memory_quantity(text: str | int) -> Quantity:
    """A quantity of bytes for a memory field: positive and within Flink's 64-bit limit."""
    quantity = parse_quantity(text)
    if quantity.value <= 0:
        raise QuantityError(f"{quantity.text!r} must be a positive amount of memory")
    if quantity.rounded_up > MAX_BYTES:
        raise QuantityError(f"{quantity.text!r} is more than {MAX_BYTES} bytes, the most Flink can size")
    return quantity


def parse_cpu_quantity(text: str | int) -> Quantity:
    """A quantity of CPU cores: positive."""
    quantity = parse_quantity(text)
    if quantity.value <= 0:
        raise QuantityError(f"{quantity.text!r} must be a positive number of CPU cores")
    return quantity


def format_memory_quantity(size_bytes: int) -> str:
    """The canonical quantity for a byte count, exact: ``4Gi``, ``1728Mi``, ``1500M``, ``1073741825``.

    A multiple of 1024 takes the largest binary suffix that keeps the number whole (as Flink's sizes
    usually are); any other count takes the largest exact decimal suffix. Both are what the API server
    stores for that value, and neither ever rounds: parsing the result gives ``size_bytes`` back.
    """
    if size_bytes < 0:
        raise ValueError(f"a memory size cannot be negative: {size_bytes}")
    if size_bytes >= 1024 and size_bytes % 1024 == 0:
        return _with_largest_suffix(size_bytes, 1024, _BINARY_SUFFIXES)
    return _with_largest_suffix(size_bytes, 1000, _DECIMAL_SUFFIXES)


def format_cpu_quantity(cores: float) -> str:
    """The canonical quantity for a CPU amount, rounded up to a whole millicore: ``2``, ``1500m``.

    The decimal digits are those of ``repr(cores)``, the shortest form that reads back as the same
    double (Flink's own ``Double.toString`` digits), so 0.1 is 100m rather than 100.000000000000005m.
    """
    if not math.isfinite(cores) or cores < 0:
        raise ValueError(f"a CPU amount must be a finite, non-negative number: {cores}")
    millicores = math.ceil(Fraction(Decimal(repr(cores))) * 1000)
    if millicores % 1000 == 0:
        return str(millicores // 1000)
    return f"{millicores}m"


def decimal_text(value: Fraction) -> str:
    """A fraction whose denominator divides a power of ten (every quantity's does), in plain decimals."""
    places = 0
    while (value * 10**places).denominator != 1:
        places += 1
    return f"{Decimal(int(value * 10**places)).scaleb(-places):f}"


def _with_largest_suffix(value: int, base: int, suffixes: tuple[str, ...]) -> str:
    index = 0
    while value != 0 and value % base == 0 and index < len(suffixes) - 1:
        value //= base
        index += 1
    return f"{value}{suffixes[index]}"


def quoted(text: str, limit: int = 32) -> str:
    """``repr(text)``, its start only when it is longer than ``limit``: messages quote, never echo, input."""
    return repr(text) if len(text) <= limit else f"{text[:limit]!r}..."


def _hint(raw: str) -> str:
    if raw.strip() != raw:
        return " (it has spaces around it)"
    unit = raw.lstrip("+-0123456789.")
    if unit.lower() not in ("k", "kb", "m", "mb", "g", "gb", "t", "tb"):
        return ""
    letter = unit[0].upper()
    decimal = "k" if letter == "K" else letter
    return f"; Kubernetes spells binary units {letter}i (powers of 1024) and decimal units {decimal} (powers of 1000)"
