"""The values a load produces and the one error it raises.

Kept apart from every stage so the reader, scanner, parser, composer, constructor and emitter can all
raise ``YamlError`` and speak of ``YamlValue`` without importing one another. ``YamlError`` stands for
any snakeyaml-engine exception (``YamlEngineException`` and its subclasses); ``YamlMap`` is the
``LinkedHashMap`` that ``StandardConstructor`` builds for a mapping, ``YamlSet`` its ``!!set``.
"""

from __future__ import annotations

from dataclasses import dataclass


class YamlError(Exception):
    """snakeyaml-engine would throw (or this port does not cover the construct)."""


@dataclass(frozen=True, slots=True)
class YamlMap:
    """A constructed YAML mapping, in document order (snakeyaml builds a ``LinkedHashMap``)."""

    pairs: tuple[tuple[YamlValue, YamlValue], ...]


@dataclass(frozen=True, slots=True)
class YamlSet:
    """A constructed ``!!set``, in document order (snakeyaml builds a ``LinkedHashSet`` of the keys)."""

    items: tuple[YamlValue, ...]


YamlValue = None | bool | int | float | str | bytes | list["YamlValue"] | YamlMap | YamlSet
