"""How a memory size string was read, in bytes, and whether a reader of the other convention would differ.

Flink and Kubernetes spell sizes alike but mean different things: Flink's units are binary and
case-insensitive (``2g`` = ``2G`` = 2 GiB, ``2048m`` = 2048 MiB), Kubernetes distinguishes ``Gi`` (2³⁰)
from ``G`` (10⁹) and reads ``m`` as thousandths (``2048m`` = 2.048 bytes). A custom resource carries
both kinds of field, so every size it contains is echoed back with the bytes it became, and a string
is *ambiguous* when it is written in one convention's idiom but read under the other's rules:

- in a Kubernetes field, a decimal suffix (``k``, ``M``, ``G``, … Flink users mean binary) or a
  sub-byte suffix (``m``, ``u``, ``n``: Flink users mean mebibytes);
- in a Flink field, an upper-case unit that Kubernetes would read as decimal (``2G``, ``512M``).

Lower-case Flink units in Flink fields (``1728m``, ``4g``) are Flink's own idiom and never flagged.
Pure: the result is a value, for the status and the admission warnings.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from flink_tm_memory.api.quantity import (
    Quantity,
    QuantityError,
    QuantityFormat,
    parse_memory_quantity,
    parse_quantity,
)
from flink_tm_memory.memory.configuration import ConfigValue, java_string
from flink_tm_memory.memory.failures import JavaError
from flink_tm_memory.memory.sizes import format_human, parse_memory_size

_SUB_BYTE_SUFFIXES = frozenset({"m", "u", "n"})
_NAMES = {"Ki": "KiB", "Mi": "MiB", "Gi": "GiB", "Ti": "TiB", "Pi": "PiB", "Ei": "EiB"}


class Convention(StrEnum):
    """Whose rules read the string: the field decides, not the spelling."""

    KUBERNETES = "Kubernetes"
    FLINK = "Flink"


@dataclass(frozen=True, slots=True)
class SizeInterpretation:
    """One size string of a spec: where it was, how it was read, and what it became.

    ``size_bytes`` is ``None`` when the string cannot be read under its field's convention.
    """

    field: str
    text: str
    convention: Convention
    size_bytes: int | None
    ambiguous: bool
    message: str


def interpret_kubernetes_memory(field: str, value: str | int) -> SizeInterpretation:
    """Reads a memory quantity of a Kubernetes field, rounding up to whole bytes as Kubernetes does."""
    text = str(value)
    try:
        quantity = parse_memory_quantity(value)
    except QuantityError as error:
        return SizeInterpretation(field, text, Convention.KUBERNETES, None, False, f"{error}.")
    size_bytes = quantity.rounded_up
    read = f"{text} is read as a Kubernetes quantity: {_bytes_text(quantity)}."
    # Every decimal suffix, sub-byte ones included: binary (Ki, Mi, ...), plain and exponent forms are plain.
    if quantity.format is not QuantityFormat.DECIMAL_SI or quantity.suffix == "":
        return SizeInterpretation(field, text, Convention.KUBERNETES, size_bytes, False, read)
    advice = f"{_other_reading(quantity, _flink_bytes(text))}{_binary_advice(quantity)}"
    return SizeInterpretation(field, text, Convention.KUBERNETES, size_bytes, True, f"{read} {advice}")


def interpret_flink_memory(field: str, value: ConfigValue) -> SizeInterpretation:
    """Reads a memory size of a Flink option exactly as Flink's ``MemorySize.parse`` does."""
    text = java_string(value)
    try:
        size_bytes = parse_memory_size(text)
    except JavaError as error:
        return SizeInterpretation(
            field,
            text,
            Convention.FLINK,
            None,
            False,
            f"Flink cannot read {text!r}: {error.message}.{_kubernetes_advice(text)}",
        )
    read = f"{text} is read as a Flink memory size: {format_human(size_bytes)}."
    kubernetes_bytes = _kubernetes_bytes(text)
    unit = text.strip().lstrip("0123456789").strip()
    if kubernetes_bytes is None or kubernetes_bytes == size_bytes or unit == unit.lower():
        return SizeInterpretation(field, text, Convention.FLINK, size_bytes, False, read)
    return SizeInterpretation(
        field,
        text,
        Convention.FLINK,
        size_bytes,
        True,
        f"{read} In a Kubernetes field {text} would mean {kubernetes_bytes} bytes; write "
        f"{text.strip().lower()}, as Flink spells it, to avoid the doubt.",
    )


def _bytes_text(quantity: Quantity) -> str:
    exact = format_human(quantity.rounded_up)
    if quantity.is_whole:
        return exact
    return f"{quantity.decimal_text} bytes, which Kubernetes rounds up to {exact}"


def _other_reading(quantity: Quantity, flink_bytes: int | None) -> str:
    if flink_bytes is not None:
        return f"Flink would read {quantity.text} as {format_human(flink_bytes)}."
    if quantity.suffix in _SUB_BYTE_SUFFIXES:
        return "A memory size in fractions of a byte is almost certainly not what was meant."
    return "Flink users usually mean a power of 1024 by this suffix."


def _binary_advice(quantity: Quantity) -> str:
    if quantity.suffix in ("u", "n"):
        return ""
    number = quantity.text[: len(quantity.text) - len(quantity.suffix)]
    binary = "Mi" if quantity.suffix == "m" else quantity.suffix.upper() + "i"
    binary_bytes = parse_quantity(number + binary).rounded_up
    return f" Write {number}{binary} for {number} {_NAMES[binary]} ({binary_bytes} bytes)."


def _flink_bytes(text: str) -> int | None:
    try:
        return parse_memory_size(text)
    except JavaError:
        return None


def _kubernetes_bytes(text: str) -> int | None:
    try:
        quantity = parse_quantity(text)
    except QuantityError:
        return None
    return quantity.rounded_up


def _kubernetes_advice(text: str) -> str:
    try:
        quantity = parse_quantity(text)
    except QuantityError:
        return ""
    if quantity.suffix not in ("Ki", "Mi", "Gi", "Ti"):
        return ""
    number = text[: len(text) - len(quantity.suffix)]
    return (
        f" {text} is a Kubernetes quantity ({quantity.rounded_up} bytes); Flink spells it "
        f"{number}{quantity.suffix[0].lower()}."
    )
