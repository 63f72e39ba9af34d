"""Turns the node graph into Python values: Java's number parsing, base64, duplicate keys refused.

The weights Flink ends up with depend on these rules (``1e2`` is the float ``100.0``, ``0o17`` is
fifteen, digits of any script count). Mirrors snakeyaml-engine's ``StandardConstructor`` over the core
schema (``ConstructYamlCoreInt``, ``ConstructYamlCoreFloat``, ``ConstructYamlBinary``, ...), with
``LoadSettings.allowDuplicateKeys`` false as Flink sets it.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
import unicodedata
from collections.abc import Callable

from flink_tm_memory.memory.failures import JavaError
from flink_tm_memory.memory.flink_yaml.nodes import BINARY, BOOL, FLOAT, INT, MAP, NULL, SEQ, SET, STR, Node
from flink_tm_memory.memory.flink_yaml.values import YamlError, YamlMap, YamlSet, YamlValue
from flink_tm_memory.memory.javanum import parse_java_double


class Constructor:
    """``StandardConstructor`` over the core schema, duplicate keys refused."""

    def __init__(self) -> None:
        self.constructed: dict[int, YamlValue] = {}

    def construct(self, node: Node) -> YamlValue:
        if id(node) in self.constructed:
            return self.constructed[id(node)]
        if node.kind == "scalar":
            value = _construct_scalar(node)
        elif node.kind == "sequence":
            if node.tag != SEQ:
                raise YamlError(f"could not determine a constructor for the tag {node.tag}")
            value = [self.construct(item) for item in node.items]
        else:
            value = self._construct_mapping(node)
        self.constructed[id(node)] = value
        return value

    def _construct_mapping(self, node: Node) -> YamlMap | YamlSet:
        if node.tag == SET:
            # ConstructYamlSet: the keys, duplicates refused as in any mapping; the values are ignored.
            return YamlSet(tuple(key for key, _value in self._construct_pairs(node)))
        if node.tag != MAP:
            raise YamlError(f"could not determine a constructor for the tag {node.tag}")
        return YamlMap(self._construct_pairs(node))

    def _construct_pairs(self, node: Node) -> tuple[tuple[YamlValue, YamlValue], ...]:
        pairs: list[tuple[YamlValue, YamlValue]] = []
        seen: set[object] = set()
        for key_node, value_node in node.pairs:
            key = self.construct(key_node)
            value = self.construct(value_node)
            identity = _java_equality_key(key)
            if identity in seen:
                raise YamlError(f"found duplicate key {_key_text(key, key_node)}")
            seen.add(identity)
            pairs.append((key, value))
        return tuple(pairs)


def _construct_scalar(node: Node) -> YamlValue:
    builders: dict[str, Callable[[str], YamlValue]] = {
        STR: lambda text: text,
        NULL: lambda _text: None,
        BOOL: _construct_bool,
        INT: _construct_int,
        FLOAT: _construct_float,
        BINARY: _construct_binary,
    }
    builder = builders.get(node.tag)
    if builder is None:
        raise YamlError(f"could not determine a constructor for the tag {node.tag}")
    return builder(node.value)


def _construct_bool(text: str) -> bool | None:
    return {"true": True, "false": False}.get(text.lower())


def _construct_int(text: str) -> int:
    """``ConstructYamlCoreInt.createIntNumber``: sign, then 0x/0o prefixes, Java's radix parsing."""
    if not text:
        raise YamlError("found empty value")
    sign = ""
    if text[0] == "-":
        sign, text = "-", text[1:]
    elif text[0] == "+":
        text = text[1:]
    if text == "0":
        return 0
    radix = 10
    if text.startswith("0x"):
        text, radix = text[2:], 16
    elif text.startswith("0o"):
        text, radix = text[2:], 8
    return _java_radix_parse(sign + text, radix)


def _java_radix_parse(text: str, radix: int) -> int:
    """``Integer/Long/BigInteger.valueOf(text, radix)``: one optional sign, digits of any script."""
    negative = text[:1] == "-"
    body = text[1:] if text[:1] in "+-" and text else text
    if not body:
        raise YamlError("not a number")
    value = 0
    for char in body:
        digit = _java_digit(char, radix)
        if digit < 0:
            raise YamlError("not a number")
        value = value * radix + digit
    return -value if negative else value


def _java_digit(char: str, radix: int) -> int:
    if "a" <= char.lower() <= "z" and char.isascii():
        digit = ord(char.lower()) - ord("a") + 10
    else:
        digit = unicodedata.decimal(char, -1) if ord(char) <= 0xFFFF else -1
    return digit if 0 <= digit < radix else -1


def _construct_float(text: str) -> float:
    """``ConstructYamlCoreFloat``: lower-cased, .inf/-.inf/.nan, else a sign and ``Double.valueOf``."""
    text = text.lower()
    special = {".inf": math.inf, "-.inf": -math.inf, ".nan": math.nan}.get(text)
    if special is not None:
        return special
    if not text:
        raise YamlError("found empty value")
    sign = -1.0 if text[0] == "-" else 1.0
    if text[0] in "+-":
        text = text[1:]
    try:
        return parse_java_double(text) * sign
    except JavaError as error:
        raise YamlError("not a double") from error


def _construct_binary(text: str) -> bytes:
    try:
        return base64.b64decode(re.sub(r"[ \t\n\x0b\f\r]", "", text), validate=True)
    except (ValueError, binascii.Error) as error:
        raise YamlError("invalid base64") from error


def _key_text(key: YamlValue, node: Node) -> str:
    """How snakeyaml-engine names a duplicate key: the constructed key's ``toString``, where it is simple."""
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, int | str):
        return str(key)
    return node.value if node.kind == "scalar" else ""


def _java_equality_key(value: YamlValue) -> object:
    """A hashable stand-in for Java ``equals`` of constructed keys (maps compare unordered)."""
    if isinstance(value, YamlMap):
        return ("map", frozenset((_java_equality_key(k), _java_equality_key(v)) for k, v in value.pairs))
    if isinstance(value, YamlSet):
        return ("set", frozenset(_java_equality_key(item) for item in value.items))
    if isinstance(value, list):
        return ("list", tuple(_java_equality_key(item) for item in value))
    if isinstance(value, float):
        return ("float", "nan" if math.isnan(value) else value.hex())
    return (type(value).__name__, value)
