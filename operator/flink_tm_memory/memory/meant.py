"""What a user most likely meant by a value Flink cannot read, written in Flink's own syntax.

Flink's ``MemorySize`` knows only ``b``, ``k``, ``m``, ``g``, ``t`` (and their long forms), whole
numbers and no separators; its numbers are Java's ``Integer.parseInt`` / ``Double.parseDouble``.
People write ``4Gi`` (Kubernetes), ``4 GiB``, ``2.5g``, ``4,096m``, ``1e2``, ``0,2``, ``10%`` or
full-width digits. Each function here returns the value such a text most likely stands for, in the
form Flink reads, or ``None`` when there is no honest guess (``abc``, ``NaN``, a negative size): the
caller then removes the key so that Flink's default applies. A guess is only a candidate: the fix
search (``memory/fixes.py``) keeps it only when Flink accepts the configuration with it.
"""

from __future__ import annotations

import re
from fractions import Fraction

from flink_tm_memory.memory.sizes import GIB, KIB, MAX_BYTES, MIB, TIB

# Units people write for binary sizes, lower-cased; Flink's own spellings parse already.
_UNIT_BYTES: dict[str, int] = {
    "": 1,
    "b": 1,
    "byte": 1,
    "bytes": 1,
    "k": KIB,
    "ki": KIB,
    "kib": KIB,
    "kb": KIB,
    "kilobytes": KIB,
    "kibibyte": KIB,
    "kibibytes": KIB,
    "m": MIB,
    "mi": MIB,
    "mib": MIB,
    "mb": MIB,
    "megabytes": MIB,
    "mebibyte": MIB,
    "mebibytes": MIB,
    "g": GIB,
    "gi": GIB,
    "gib": GIB,
    "gb": GIB,
    "gigabytes": GIB,
    "gibibyte": GIB,
    "gibibytes": GIB,
    "t": TIB,
    "ti": TIB,
    "tib": TIB,
    "tb": TIB,
    "terabytes": TIB,
    "tebibyte": TIB,
    "tebibytes": TIB,
}
# Letters that look like unit letters but are not ASCII (NFKC leaves them as they are).
_LOOK_ALIKES = str.maketrans({"ɡ": "g", "ｇ": "g", "м": "m", "к": "k", "т": "t", "в": "b", "і": "i"})
_SIZE = re.compile(r"([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:e([+-]?[0-9]+))?\s*([a-z]*)")
_GROUPED = re.compile(r"(?<=[0-9])[,_'](?=[0-9]{3}(?![0-9]))")


_LONGEST = 64
"""Longer texts are no slip of the pen (and huge digit runs would cost ``int`` time): no guess."""


def _normalised(text: str) -> str:
    if len(text) > _LONGEST:
        return "?"
    import unicodedata  # noqa: PLC0415 - only for rejected values; keeps the one-shot CLI start fast

    return unicodedata.normalize("NFKC", text).translate(_LOOK_ALIKES).strip().lower()


def plain_character(character: str) -> str | None:
    """The ASCII character a look-alike stands for (a fullwidth digit, a script g, a Cyrillic m), or None."""
    import unicodedata  # noqa: PLC0415 - only for rejected values (see _normalised)

    plain = unicodedata.normalize("NFKC", character).translate(_LOOK_ALIKES)
    return plain if plain != character and plain.isascii() and plain.isprintable() else None


def format_size(size_bytes: int) -> str:
    """A size as Flink's documentation writes it: ``4g``, ``6166m``, ``512k`` or ``1000b``."""
    for unit, unit_bytes in (("t", TIB), ("g", GIB), ("m", MIB), ("k", KIB)):
        if size_bytes and size_bytes % unit_bytes == 0:
            return f"{size_bytes // unit_bytes}{unit}"
    return f"{size_bytes}b"


def meant_size(text: str) -> int | None:
    """The size in bytes ``text`` most likely means (``4Gi`` -> 4 GiB), or ``None``."""
    cleaned = _GROUPED.sub("", _normalised(text))
    match = _SIZE.fullmatch(cleaned)
    if match is None or match.group(3) not in _UNIT_BYTES:
        return None
    number, exponent, unit = match.groups()
    value = Fraction(number) * (Fraction(10) ** int(exponent or 0)) * _UNIT_BYTES[unit]
    if value.denominator != 1 and unit in ("", "b", "byte", "bytes"):
        return None  # a fraction of a byte means nothing
    size = int(value)  # whole bytes; a fractional byte of "0.3g" is dropped, as any size tool would
    return size if 0 <= size <= MAX_BYTES else None


def meant_integer(text: str) -> str | None:
    """An ``Integer.parseInt`` text for ``text`` (``1e2`` -> ``100``, ``0x10`` -> ``16``), or ``None``."""
    cleaned = _GROUPED.sub("", _normalised(text)).replace("_", "")
    for prefix, base in (("0x", 16), ("0o", 8), ("0b", 2)):
        if cleaned.startswith(prefix):
            try:
                return str(int(cleaned[2:], base))
            except ValueError:
                return None
    number = _number(cleaned)
    if number is None or number.denominator != 1 or abs(number) >= 2**31:
        return None
    return str(int(number))


def meant_decimal(text: str) -> str | None:
    """A ``Double.parseDouble`` text for ``text`` (``0,2`` -> ``0.2``, ``10%`` -> ``0.1``), or ``None``."""
    cleaned = _GROUPED.sub("", _normalised(text))
    percent = cleaned.endswith("%")
    cleaned = cleaned.removesuffix("%").strip()
    if re.fullmatch(r"[0-9]+,[0-9]+", cleaned):  # a decimal comma
        cleaned = cleaned.replace(",", ".")
    number = _number(cleaned)
    if number is None:
        return None
    if percent:
        number /= 100
    return _decimal_text(number)


def _number(text: str) -> Fraction | None:
    """A plain decimal number, allowing a trailing word (``3 cores``); no NaN, no infinity."""
    match = re.fullmatch(r"([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:e[+-]?[0-9]+)?)\s*[a-z]*", text)
    if match is None:
        return None
    try:
        return Fraction(match.group(1))
    except (ValueError, ZeroDivisionError):
        return None


def _decimal_text(number: Fraction) -> str | None:
    if number.denominator == 1:
        return f"{int(number)}.0" if abs(number) < 10**15 else None
    text = f"{float(number)!r}"
    return text if Fraction(text) == number else None
