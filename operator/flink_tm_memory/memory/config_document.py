"""A whole ``config.yaml`` read as Flink 1.19+ reads it: snakeyaml-engine, then Flink's flattening.

Why here, and why this way: Flink loads the file with the same snakeyaml-engine settings it uses for
list and map option values (``YamlParserUtils``), so the file goes through the same port
(``memory/flink_yaml``) and nothing else: a second YAML reader disagreed with Flink on tabs, U+0085 and
U+2028, null keys, anchors defined twice, tags and ``+.inf``. ``GlobalConfiguration.loadYAMLResource``
then flattens the loaded map (``flatten``): a nested map's keys are joined with ``.``, a list becomes
its flow-style dump (``YamlParserUtils.toYAMLString``), anything else is stored as loaded (Integer,
Long, BigInteger, Double, Boolean, String); a later key replaces an earlier one that flattens alike.
Only then are the values checked and stored.

A ``!!set`` is stored as the set and a ``!!binary`` as the byte array, which Flink reads as text with
``toString`` (``[a, b]``; a byte array prints its identity hash, which no text can match).

Flink refuses the whole file (``RuntimeException: Error parsing YAML configuration.``) when the load
fails, when the document is not a map, when a key is neither a string nor null (``ClassCastException``;
a null key becomes the text ``null``) and when a value is null (``Value must not be null.``). The
result then carries the ``problem`` in one line instead of entries, as the memory core reports user
errors: as values, never raised.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from flink_tm_memory.memory.configuration import ConfigValue
from flink_tm_memory.memory.flink_yaml import YamlError, YamlMap, YamlSet, YamlValue, dump, load
from flink_tm_memory.memory.javanum import java_double_to_string

NESTING_HEADROOM = 20_000
"""Python frames allowed while loading: Flink (snakeyaml-engine on a Java stack) reads collections
nested some thousands deep; deeper ones fail here with a message rather than a ``RecursionError``."""


@dataclass(frozen=True, slots=True)
class ConfigDocument:
    """What Flink stores for one ``config.yaml``, or why it cannot load the file."""

    entries: dict[str, ConfigValue] = field(default_factory=dict)
    problem: str | None = None
    """Why Flink refuses the file (one line), or ``None``."""
    too_deep: bool = False
    """The problem is nesting deeper than this reader goes (how deep Flink goes depends on its JVM's
    thread stack size, so whether Flink refuses the file too is not known)."""


class _RefusalError(Exception):
    """Internal: unwinds the flattening to the one place that turns it into ``ConfigDocument.problem``."""


def load_config_document(text: str) -> ConfigDocument:
    """What Flink stores for a ``config.yaml`` whose text (BOM and encoding handled) is ``text``."""
    try:
        with _recursion_headroom():
            document = load(text)
            if document is None:
                return ConfigDocument()
            if not isinstance(document, YamlMap):
                raise _RefusalError(f"the document is a {_java_class(document)}, not a map of options")
            flattened: dict[str, YamlValue] = {}
            _flatten(document, "", flattened)
            return ConfigDocument({key: _stored(key, value) for key, value in flattened.items()})
    except YamlError as error:
        return ConfigDocument(problem=f"not valid YAML to snakeyaml-engine: {error}")
    except _RefusalError as refusal:
        return ConfigDocument(problem=str(refusal))
    except RecursionError:
        return ConfigDocument(problem="collections are nested too deeply to read", too_deep=True)


def _flatten(mapping: YamlMap, prefix: str, into: dict[str, YamlValue]) -> None:
    for key, value in mapping.pairs:
        if key is not None and not isinstance(key, str):
            raise _RefusalError(f"a key is a {_java_class(key)}, not a string: {dump(key)}")
        full_key = prefix + ("null" if key is None else key)
        if isinstance(value, YamlMap):
            _flatten(value, full_key + ".", into)
            continue
        # A HashMap keeps one entry per key, the last one put; only that one must not be null.
        into.pop(full_key, None)
        into[full_key] = value


def _stored(key: str, value: YamlValue) -> ConfigValue:
    if value is None:
        raise _RefusalError(f"the value of {key!r} is null (Value must not be null.)")
    if isinstance(value, list | YamlMap):  # a map never gets here: _flatten went into it
        return dump(value)
    if isinstance(value, YamlSet):
        # Stored as the LinkedHashSet itself, which Flink turns into text with toString().
        return _java_to_string(value)
    if isinstance(value, bytes):
        return _java_to_string(value)
    return value


def _java_to_string(value: YamlValue) -> str:
    """``String.valueOf`` of what snakeyaml-engine constructed (collections print their items)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return java_double_to_string(value)
    if isinstance(value, int | str):
        return str(value)
    if isinstance(value, bytes):
        # A byte[] prints its identity ([B@<hash>), different on every run: no text can match it.
        return "[B@" + format(id(value) & 0x7FFFFFFF, "x")
    if isinstance(value, YamlMap):
        return "{" + ", ".join(f"{_java_to_string(k)}={_java_to_string(v)}" for k, v in value.pairs) + "}"
    items = value.items if isinstance(value, YamlSet) else value
    return "[" + ", ".join(_java_to_string(item) for item in items) + "]"


def _java_class(value: YamlValue) -> str:
    if isinstance(value, YamlMap):
        return "java.util.Map"
    if isinstance(value, list):
        return "java.util.ArrayList"
    if isinstance(value, YamlSet):
        return "java.util.LinkedHashSet"
    if isinstance(value, bool):
        return "java.lang.Boolean"
    if isinstance(value, int):
        if -(2**31) <= value < 2**31:
            return "java.lang.Integer"
        return "java.lang.Long" if -(2**63) <= value < 2**63 else "java.math.BigInteger"
    if isinstance(value, float):
        return "java.lang.Double"
    return "java.lang.String" if isinstance(value, str) else "byte[]"


@contextmanager
def _recursion_headroom() -> Iterator[None]:
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, NESTING_HEADROOM))
    try:
        yield
    finally:
        sys.setrecursionlimit(limit)
