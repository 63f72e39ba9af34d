"""Which tag a plain scalar gets: bool, int, float, null, an environment variable, else str.

This is what makes ``70`` a number and ``0x10`` sixteen. Used by the composer (loading) and the emitter
(whether a string may be written plain). Mirrors snakeyaml-engine's ``CoreScalarResolver`` (YAML 1.2
core schema) and ``BaseScalarResolver.resolve``.
"""

from __future__ import annotations

import re

from flink_tm_memory.memory.flink_yaml.nodes import BOOL, FLOAT, INT, NULL, STR

_CORE_BOOL = re.compile(r"true|True|TRUE|false|False|FALSE")
_CORE_INT = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
_CORE_FLOAT = re.compile(
    r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)"
)
_CORE_NULL = re.compile(r"~|null|Null|NULL| ")
_ENV_FORMAT = re.compile(r"\$\{\s*(?:(\w+)(?:(:?[-?])(\w+)?)?)\s*\}", re.ASCII)
_ENV_TAG = "!ENV_VARIABLE"
# Resolvers registered for a first character, in registration order (CoreScalarResolver).
_BY_FIRST_CHAR: dict[str, tuple[tuple[str, re.Pattern[str]], ...]] = {
    **dict.fromkeys("tfTF", ((BOOL, _CORE_BOOL),)),
    **dict.fromkeys("-+0123456789", ((INT, _CORE_INT), (FLOAT, _CORE_FLOAT))),
    ".": ((FLOAT, _CORE_FLOAT),),
    "n": ((NULL, _CORE_NULL),),
    "$": ((_ENV_TAG, _ENV_FORMAT),),
}
_ANY_FIRST_CHAR = ((NULL, re.compile("")), (NULL, _CORE_NULL))


def resolve_scalar(value: str, *, implicit: bool) -> str:
    """The tag snakeyaml's core-schema resolver gives a scalar (``BaseScalarResolver.resolve``)."""
    if not implicit:
        return STR
    candidates = _BY_FIRST_CHAR.get(value[:1], ()) if value else _ANY_FIRST_CHAR[:1]
    for tag, pattern in (*candidates, *_ANY_FIRST_CHAR):
        if pattern.fullmatch(value):
            return tag
    return STR
