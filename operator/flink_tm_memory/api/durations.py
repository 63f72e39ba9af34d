"""Durations and percentages as the spec writes them: ``24h``, ``1h30m``, ``90s``; ``15%``, ``+15%``.

Durations are Go's (``time.ParseDuration``) restricted to whole seconds and the units a person
writes for a recommendation's window or interval: ``d`` (24 h, which Go lacks but a window of days
needs), ``h``, ``m`` and ``s``, in that order, each at most once. Percentages are a decimal number
with an optional ``+`` and a ``%``. Both are read here once, by the spec's validators and by the
loop that uses them, so what the webhook accepts is exactly what the loop reads.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_PERCENT = re.compile(r"^\+?(\d+(?:\.\d+)?)%$")
MAX_DURATION_SECONDS = 365 * 86400
"""A year: longer windows or intervals are mistakes, and the arithmetic stays small."""


def parse_duration(text: str) -> int:
    """Seconds in ``text`` (``24h``, ``1h30m``, ``45s``, ``7d``); ``ValueError`` naming what is wrong."""
    match = _DURATION.match(text.strip()) if text.strip() else None
    if match is None or not any(match.groups()):
        raise ValueError(f"{text!r} is not a duration: write e.g. 24h, 1h30m, 90s or 7d")
    days, hours, minutes, seconds = (int(part) if part else 0 for part in match.groups())
    total = ((days * 24 + hours) * 60 + minutes) * 60 + seconds
    if total > MAX_DURATION_SECONDS:
        raise ValueError(f"{text!r} is longer than a year")
    return total


def format_duration(seconds: int) -> str:
    """The shortest spelling ``parse_duration`` reads back: ``1h30m``, ``45s``, ``0s``."""
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"


def parse_percent(text: str) -> Decimal:
    """The fraction ``text`` (``15%``, ``+15%``, ``2.5%``) says, e.g. ``Decimal('0.15')``."""
    match = _PERCENT.match(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a percentage: write e.g. 15% or +15%")
    try:
        return Decimal(match.group(1)) / 100
    except InvalidOperation:  # pragma: no cover - the pattern admits only decimal digits
        raise ValueError(f"{text!r} is not a percentage") from None
