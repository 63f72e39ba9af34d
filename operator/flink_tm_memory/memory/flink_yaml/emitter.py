"""Turns a loaded value back into the text Flink gives an item of a list or map option.

Flink reads ``{OPERATOR: [1, 2]}`` as a map whose value is the text ``[1, 2]``: it dumps every non-string
value with snakeyaml in flow style. Mirrors snakeyaml-engine's ``StandardRepresenter`` and ``Emitter``
(``analyzeScalar``, ``chooseScalarStyle``, ``writeDoubleQuoted``) for flow style without line splitting,
as Flink's ``YamlParserUtils.toYAMLString`` configures them, and ``ConfigurationUtils.convertToString``.
"""

from __future__ import annotations

import base64
import itertools
import math
import re
from dataclasses import dataclass

from flink_tm_memory.memory.flink_yaml.characters import BLANK_OR_BREAK, is_printable
from flink_tm_memory.memory.flink_yaml.nodes import BOOL, FLOAT, INT, NULL, STR
from flink_tm_memory.memory.flink_yaml.resolver import resolve_scalar
from flink_tm_memory.memory.flink_yaml.values import YamlError, YamlMap, YamlSet, YamlValue
from flink_tm_memory.memory.javanum import java_double_to_string


def dump(value: YamlValue) -> str:
    """``YamlParserUtils.toYAMLString``: the flow-style dump Flink uses for non-string values."""
    if isinstance(value, bytes):
        return "!!binary |-\n  " + base64.b64encode(value).decode("ascii")
    return _FlowEmitter(value).render(value)


_MULTILINE = re.compile("[\n\x85\u2028\u2029]")
_DOUBLE_QUOTE_ESCAPES = {
    "\0": "0",
    "\x07": "a",
    "\b": "b",
    "\t": "t",
    "\n": "n",
    "\x0b": "v",
    "\f": "f",
    "\r": "r",
    "\x1b": "e",
    '"': '"',
    "\\": "\\",
    "\x85": "N",
    "\xa0": "_",
    "\u2028": "L",
    "\u2029": "P",
}


class _FlowEmitter:
    """snakeyaml-engine's representer and emitter for flow style without line splitting.

    The emitter still breaks the line before a complex key's ':' once the column passes the best
    width (80): that check, unlike the others, ignores ``splitLines``. Columns count UTF-16 units.
    """

    _BEST_WIDTH = 80
    _BEST_INDENT = 2

    def __init__(self, root: YamlValue) -> None:
        self.anchors: dict[int, str] = {}
        self.emitted: set[int] = set()
        self.parts: list[str] = []
        self.column = 0
        self._assign_anchors(root, set())

    def _assign_anchors(self, value: YamlValue, seen: set[int]) -> None:
        if not isinstance(value, list | YamlMap | YamlSet):
            return
        if id(value) in seen:
            if id(value) not in self.anchors:
                self.anchors[id(value)] = f"id{len(self.anchors) + 1:03d}"
            return
        seen.add(id(value))
        children = value if isinstance(value, list) else _pairs_items(value)
        for child in children:
            self._assign_anchors(child, seen)

    def render(self, value: YamlValue) -> str:
        self._emit(value, flow_level=0, simple_key=False)
        return "".join(self.parts)

    def _write(self, text: str) -> None:
        self.parts.append(text)
        _head, newline, tail = text.rpartition("\n")
        self.column = (0 if newline else self.column) + len(tail.encode("utf-16-le")) // 2

    def _emit(self, value: YamlValue, *, flow_level: int, simple_key: bool) -> None:
        if not isinstance(value, list | YamlMap | YamlSet):
            if isinstance(value, bytes):
                # In flow context the literal block of a top-level dump is not allowed: double quotes.
                self._write('!!binary "' + base64.b64encode(value).decode("ascii") + '"')
                return
            self._write(_emit_scalar(value, flow_level=flow_level, simple_key=simple_key))
            return
        anchor = self.anchors.get(id(value))
        if anchor is not None and id(value) in self.emitted:
            self._write("*" + anchor)
            return
        self.emitted.add(id(value))
        if anchor is not None:
            self._write(f"&{anchor} ")
        if isinstance(value, list):
            self._write("[")
            for index, item in enumerate(value):
                self._write(", " if index else "")
                self._emit(item, flow_level=flow_level + 1, simple_key=False)
            self._write("]")
            return
        # A set is represented as a mapping of its items to null, tagged (StandardRepresenter).
        self._write("!!set {" if isinstance(value, YamlSet) else "{")
        for index, (key, item) in enumerate(_pairs(value)):
            self._write(", " if index else "")
            self._emit_pair(key, item, flow_level + 1)
        self._write("}")

    def _emit_pair(self, key: YamlValue, value: YamlValue, flow_level: int) -> None:
        if _is_simple_key(key):
            self._emit(key, flow_level=flow_level, simple_key=True)
            self._write(": ")
        else:
            self._write("? ")
            self._emit(key, flow_level=flow_level, simple_key=False)
            if self.column > self._BEST_WIDTH:
                self._write("\n" + " " * (self._BEST_INDENT * flow_level) + ": ")
            else:
                self._write(" : ")
        self._emit(value, flow_level=flow_level, simple_key=False)


def _pairs(value: YamlMap | YamlSet) -> tuple[tuple[YamlValue, YamlValue], ...]:
    return value.pairs if isinstance(value, YamlMap) else tuple((item, None) for item in value.items)


def _pairs_items(value: YamlMap | YamlSet) -> list[YamlValue]:
    return [item for pair in _pairs(value) for item in pair]


def _is_simple_key(key: YamlValue) -> bool:
    if isinstance(key, list | YamlMap | YamlSet):
        return not (key if isinstance(key, list) else _pairs(key))
    if isinstance(key, bytes):
        return False
    text, _tag = _scalar_text(key)
    # The emitter counts the scalar's tag ("!!str", "!!int", ...) towards the 128-character limit.
    return len(text) + 5 < 128 and text != "" and "\n" not in text


def _scalar_text(value: bool | int | float | str | None) -> tuple[str, str]:
    if value is None:
        return "null", NULL
    if isinstance(value, bool):
        return ("true" if value else "false"), BOOL
    if isinstance(value, int):
        return str(value), INT
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan", FLOAT
        if math.isinf(value):
            return (".inf" if value > 0 else "-.inf"), FLOAT
        return java_double_to_string(value), FLOAT
    return value, STR


def _emit_scalar(value: bool | int | float | str | None, *, flow_level: int, simple_key: bool) -> str:
    text, tag = _scalar_text(value)
    if tag != STR:
        return text
    analysis = _analyze(text)
    if resolve_scalar(text, implicit=True) == STR and not _MULTILINE.search(text):
        plain_allowed = analysis.flow_plain if flow_level else analysis.block_plain
        if plain_allowed and not (simple_key and (text == "" or analysis.multiline)):
            return text
    if not _MULTILINE.search(text) and analysis.single_quoted and not (simple_key and analysis.multiline):
        return "'" + text.replace("'", "''") + "'"
    return _double_quoted(text)


@dataclass(frozen=True, slots=True)
class _Analysis:
    multiline: bool
    flow_plain: bool
    block_plain: bool
    single_quoted: bool


def _analyze(text: str) -> _Analysis:
    """``Emitter.analyzeScalar``: which scalar styles can carry ``text``."""
    if not text:
        return _Analysis(multiline=False, flow_plain=False, block_plain=True, single_quoted=True)
    flow_indicators, block_indicators = _indicators(text)
    line_breaks = "\n" in text
    plain = text[0] not in " \n" and text[-1] not in " \n"
    single = not ("\n " in text or " \n" in text or any(_is_special(char) for char in text))
    plain = plain and single
    return _Analysis(
        multiline=line_breaks,
        flow_plain=plain and not line_breaks and not flow_indicators,
        block_plain=plain and not block_indicators,
        single_quoted=single,
    )


def _is_special(char: str) -> bool:
    """Neither printable ASCII nor a line feed nor printable Unicode: only double quotes can carry it."""
    if char == "\n" or "\x20" <= char <= "\x7e":
        return False
    return not (
        char == "\x85" or "\xa0" <= char <= "\ud7ff" or "\ue000" <= char <= "\ufffd" or ord(char) >= 0x10000
    )


def _indicators(text: str) -> tuple[bool, bool]:
    """Whether ``text`` holds flow / block indicators, with Java's look-ahead over UTF-16 indices."""
    flow = block = text.startswith(("---", "..."))
    starts = list(itertools.accumulate((_utf16_length(char) for char in text), initial=0))
    by_unit = dict(zip(starts, text, strict=False))
    total = starts[-1]
    preceded_by_whitespace = True
    # A supplementary first character leaves its low surrogate at index 1, which is no blank.
    followed_by_whitespace = total == 1 or by_unit.get(1, "x") in BLANK_OR_BREAK
    for index, char in enumerate(text):
        if index == 0:
            leading = char in "#,[]{}&*!|>'\"%@`" or (char == "-" and followed_by_whitespace)
            flow = flow or leading or char in "?:"
            block = block or leading or (char in "?:" and followed_by_whitespace)
        else:
            flow = flow or char in ",?[]{}:" or (char == "#" and preceded_by_whitespace)
            block = (
                block or (char == ":" and followed_by_whitespace) or (char == "#" and preceded_by_whitespace)
            )
        is_break = char == "\n"
        preceded_by_whitespace = char in "\0 \t" or is_break
        followed_by_whitespace = True
        after = starts[index + 1]
        if after + 1 < total:
            following = after + _utf16_length(by_unit[after])
            if following < total:
                followed_by_whitespace = by_unit[following] in "\0 \t" or is_break
    return flow, block


def _utf16_length(char: str) -> int:
    return 2 if ord(char) > 0xFFFF else 1


def _double_quoted(text: str) -> str:
    out: list[str] = []
    for char in text:
        if char not in '"\\\x85\u2028\u2029\ufeff' and "\x20" <= char <= "\x7e":
            out.append(char)
        elif char in _DOUBLE_QUOTE_ESCAPES:
            out.append("\\" + _DOUBLE_QUOTE_ESCAPES[char])
        elif is_printable(ord(char)):
            out.append(char)
        elif ord(char) <= 0xFF:
            out.append(f"\\x{ord(char):02x}")
        elif ord(char) > 0xFFFF:
            out.append(f"\\U{ord(char):08x}")
        else:
            out.append(f"\\u{ord(char):04x}")
    return '"' + "".join(out) + '"'


def option_text(value: YamlValue) -> str:
    """``ConfigurationUtils.convertToString`` in standard-YAML mode (a ``null`` item throws there)."""
    if value is None:
        raise YamlError("null item in a list or map option")
    if isinstance(value, str):
        return value
    return dump(value)
