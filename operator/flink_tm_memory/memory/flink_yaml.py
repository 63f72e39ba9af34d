"""The YAML that Flink 1.19+ reads list and map option values with, before its legacy splitting.

Since the standard-YAML configuration (``config.yaml``), Flink reads a map option (such as
``taskmanager.memory.managed.consumer-weights``) or a list option (such as ``external-resources``) by
loading its text with snakeyaml-engine 2.6 (YAML 1.2 core schema, duplicate keys refused) and falls
back to the legacy ``K:V,K:V`` / ``a;b`` splitting when that fails or yields no map (list).
Whether the fallback happens, and what the weights
are when it does not, depends on snakeyaml's exact scanning rules: ``OPERATOR: 70`` is a map,
``OPERATOR:70`` a plain string, ``{OPERATOR:70}`` a map whose only key is ``OPERATOR:70``, ``OPERATOR: 0x10``
the weight 16, ``OPERATOR: 1e2`` the text ``100.0``. So this module ports snakeyaml-engine's scanner,
parser, composer and core-schema constructor (and the flow emitter Flink uses to turn non-string values
back into text), restricted to what a single configuration value can exercise.

``load`` returns the constructed value or raises ``YamlError`` for anything snakeyaml would reject;
Flink treats every such failure alike (it falls back), so no error text is kept. Constructs this port
does not reproduce (``!!set``, recursive aliases, ``!!binary`` inside collections) also raise
``YamlError``.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from flink_tm_memory.memory.failures import JavaError
from flink_tm_memory.memory.javanum import java_double_to_string, parse_java_double


class YamlError(Exception):
    """snakeyaml-engine would throw (or this port does not cover the construct)."""


@dataclass(frozen=True, slots=True)
class YamlMap:
    """A constructed YAML mapping, in document order (snakeyaml builds a ``LinkedHashMap``)."""

    pairs: tuple[tuple[YamlValue, YamlValue], ...]


YamlValue = None | bool | int | float | str | bytes | list["YamlValue"] | YamlMap

_NUL = "\0"
_BLANK_OR_BREAK = "\t \0\r\n"  # CharConstants.NULL_BL_T_LINEBR
_SPACE_OR_BREAK = " \0\r\n"  # CharConstants.NULL_BL_LINEBR
_NUL_OR_BREAK = "\0\r\n"
_ALPHA = frozenset("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-_")
_URI_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-_;/?:@&=+$.!~*'()%")
_URI_PREFIX_CHARS = _URI_CHARS | frozenset(",[]")
_ESCAPE_REPLACEMENTS = {
    "0": "\0",
    "a": "\x07",
    "b": "\b",
    "t": "\t",
    "n": "\n",
    "v": "\x0b",
    "f": "\f",
    "r": "\r",
    "e": "\x1b",
    " ": " ",
    '"': '"',
    "/": "/",
    "\\": "\\",
    "N": "\x85",
    "_": "\xa0",
    "L": "\u2028",
    "P": "\u2029",
}
_ESCAPE_CODES = {"x": 2, "u": 4, "U": 8}
_TAG_PREFIX = "tag:yaml.org,2002:"
_STR, _INT, _FLOAT, _BOOL, _NULL = (_TAG_PREFIX + name for name in ("str", "int", "float", "bool", "null"))
_MAP, _SEQ, _BINARY = (_TAG_PREFIX + name for name in ("map", "seq", "binary"))


def is_printable(code_point: int) -> bool:
    """snakeyaml's ``StreamReader.isPrintable``: what a YAML document may contain at all."""
    return (
        0x20 <= code_point <= 0x7E
        or code_point in (0x9, 0xA, 0xD, 0x85)
        or 0xA0 <= code_point <= 0xD7FF
        or 0xE000 <= code_point <= 0xFFFD
        or 0x10000 <= code_point <= 0x10FFFF
    )


def load(text: str) -> YamlValue:
    """``Load.loadFromString`` with Flink's settings: one document, its constructed value."""
    if not all(is_printable(ord(char)) for char in text):
        raise YamlError("special characters are not allowed")
    node = _Composer(_Parser(_Scanner(text))).single_node()
    return None if node is None else _Constructor().construct(node)


# --------------------------------------------------------------------------------------------- reader


class _Reader:
    """``StreamReader``: code points with Java's line and column bookkeeping."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.index = 0
        self.line = 0
        self.column = 0

    def peek(self, offset: int = 0) -> str:
        position = self.index + offset
        return self.text[position] if position < len(self.text) else _NUL

    def prefix(self, length: int) -> str:
        return self.text[self.index : self.index + length]

    def forward(self, length: int = 1) -> None:
        for _ in range(length):
            if self.index >= len(self.text):
                return
            char = self.text[self.index]
            self.index += 1
            # Only '\n' and a '\r' followed by something other than '\n' start a new line.
            if char == "\n" or (
                char == "\r" and self.index < len(self.text) and self.text[self.index] != "\n"
            ):
                self.line += 1
                self.column = 0
            elif char != "\ufeff":
                self.column += 1

    def take(self, length: int) -> str:
        chunk = self.prefix(length)
        self.forward(length)
        return chunk


# -------------------------------------------------------------------------------------------- scanner


@dataclass(slots=True)
class _Token:
    kind: str
    value: str = ""
    plain: bool = False
    style: str = ""
    handle: str | None = None
    directive: tuple[str, ...] = ()


@dataclass(slots=True)
class _SimpleKey:
    token_number: int
    required: bool
    index: int
    line: int
    column: int


class _Scanner:
    """``ScannerImpl`` without comment tokens (Flink does not parse comments)."""

    def __init__(self, text: str) -> None:
        self.reader = _Reader(text)
        self.tokens: list[_Token] = [_Token("StreamStart")]
        self.done = False
        self.flow_level = 0
        self.tokens_taken = 0
        self.indent = -1
        self.indents: list[int] = []
        self.allow_simple_key = True
        self.possible_simple_keys: dict[int, _SimpleKey] = {}

    # --- the parser's interface

    def check(self, *kinds: str) -> bool:
        while self._need_more_tokens():
            self._fetch_more_tokens()
        return bool(self.tokens) and (not kinds or self.tokens[0].kind in kinds)

    def peek(self) -> _Token:
        while self._need_more_tokens():
            self._fetch_more_tokens()
        return self.tokens[0]

    def next(self) -> _Token:
        self.tokens_taken += 1
        if not self.tokens:
            raise YamlError("no more tokens")
        return self.tokens.pop(0)

    # --- token production

    def _need_more_tokens(self) -> bool:
        if self.done:
            return False
        if not self.tokens:
            return True
        self._stale_possible_simple_keys()
        return self._next_possible_simple_key() == self.tokens_taken

    def _fetch_more_tokens(self) -> None:
        self._scan_to_next_token()
        self._stale_possible_simple_keys()
        self._unwind_indent(self.reader.column)
        char = self.reader.peek()
        fetcher = self._fetcher_for(char)
        if fetcher is not None:
            fetcher()
            return
        if self._check_plain():
            self._fetch_plain()
            return
        raise YamlError(f"found character {char!r} that cannot start any token")

    def _fetcher_for(self, char: str) -> Callable[[], None] | None:
        in_block = self.flow_level == 0
        fetchers: dict[str, tuple[Callable[[], bool], Callable[[], None]]] = {
            _NUL: (lambda: True, self._fetch_stream_end),
            "%": (lambda: self.reader.column == 0, self._fetch_directive),
            "[": (lambda: True, lambda: self._fetch_flow_collection_start("FlowSequenceStart")),
            "{": (lambda: True, lambda: self._fetch_flow_collection_start("FlowMappingStart")),
            "]": (lambda: True, lambda: self._fetch_flow_collection_end("FlowSequenceEnd")),
            "}": (lambda: True, lambda: self._fetch_flow_collection_end("FlowMappingEnd")),
            ",": (lambda: True, self._fetch_flow_entry),
            "?": (lambda: self.reader.peek(1) in _BLANK_OR_BREAK, self._fetch_key),
            ":": (lambda: not in_block or self.reader.peek(1) in _BLANK_OR_BREAK, self._fetch_value),
            "*": (lambda: True, self._fetch_alias),
            "&": (lambda: True, self._fetch_anchor),
            "!": (lambda: True, self._fetch_tag),
            "|": (lambda: in_block, lambda: self._fetch_block_scalar(literal=True)),
            ">": (lambda: in_block, lambda: self._fetch_block_scalar(literal=False)),
            "'": (lambda: True, lambda: self._fetch_flow_scalar(double=False)),
            '"': (lambda: True, lambda: self._fetch_flow_scalar(double=True)),
        }
        if char == "-":
            if self._check_document_indicator("---"):
                return lambda: self._fetch_document_indicator("DocumentStart")
            if self.reader.peek(1) in _BLANK_OR_BREAK:
                return self._fetch_block_entry
            return None
        if char == ".":
            if self._check_document_indicator("..."):
                return lambda: self._fetch_document_indicator("DocumentEnd")
            return None
        entry = fetchers.get(char)
        if entry is None or not entry[0]():
            return None
        return entry[1]

    # --- simple keys

    def _next_possible_simple_key(self) -> int:
        for key in self.possible_simple_keys.values():
            return key.token_number
        return -1

    def _stale_possible_simple_keys(self) -> None:
        for level, key in list(self.possible_simple_keys.items()):
            if key.line != self.reader.line or self.reader.index - key.index > 1024:
                if key.required:
                    raise YamlError("could not find expected ':'")
                del self.possible_simple_keys[level]

    def _save_possible_simple_key(self) -> None:
        required = self.flow_level == 0 and self.indent == self.reader.column
        if not self.allow_simple_key and required:
            raise YamlError("A simple key is required only if it is the first token in the current line")
        if self.allow_simple_key:
            self._remove_possible_simple_key()
            self.possible_simple_keys[self.flow_level] = _SimpleKey(
                self.tokens_taken + len(self.tokens),
                required,
                self.reader.index,
                self.reader.line,
                self.reader.column,
            )

    def _remove_possible_simple_key(self) -> None:
        key = self.possible_simple_keys.pop(self.flow_level, None)
        if key is not None and key.required:
            raise YamlError("could not find expected ':'")

    # --- indentation

    def _unwind_indent(self, column: int) -> None:
        if self.flow_level != 0:
            return
        while self.indent > column:
            self.indent = self.indents.pop()
            self.tokens.append(_Token("BlockEnd"))

    def _add_indent(self, column: int) -> bool:
        if self.indent < column:
            self.indents.append(self.indent)
            self.indent = column
            return True
        return False

    # --- fetchers

    def _fetch_stream_end(self) -> None:
        self._unwind_indent(-1)
        self._remove_possible_simple_key()
        self.allow_simple_key = False
        self.possible_simple_keys.clear()
        self.tokens.append(_Token("StreamEnd"))
        self.done = True

    def _fetch_directive(self) -> None:
        self._unwind_indent(-1)
        self._remove_possible_simple_key()
        self.allow_simple_key = False
        self.tokens.append(self._scan_directive())

    def _check_document_indicator(self, indicator: str) -> bool:
        return (
            self.reader.column == 0
            and self.reader.prefix(3) == indicator
            and self.reader.peek(3) in _BLANK_OR_BREAK
        )

    def _fetch_document_indicator(self, kind: str) -> None:
        self._unwind_indent(-1)
        self._remove_possible_simple_key()
        self.allow_simple_key = False
        self.reader.forward(3)
        self.tokens.append(_Token(kind))

    def _fetch_flow_collection_start(self, kind: str) -> None:
        self._save_possible_simple_key()
        self.flow_level += 1
        self.allow_simple_key = True
        self.reader.forward()
        self.tokens.append(_Token(kind))

    def _fetch_flow_collection_end(self, kind: str) -> None:
        self._remove_possible_simple_key()
        self.flow_level -= 1
        self.allow_simple_key = False
        self.reader.forward()
        self.tokens.append(_Token(kind))

    def _fetch_flow_entry(self) -> None:
        self.allow_simple_key = True
        self._remove_possible_simple_key()
        self.reader.forward()
        self.tokens.append(_Token("FlowEntry"))

    def _fetch_block_entry(self) -> None:
        if self.flow_level == 0:
            if not self.allow_simple_key:
                raise YamlError("sequence entries are not allowed here")
            if self._add_indent(self.reader.column):
                self.tokens.append(_Token("BlockSequenceStart"))
        self.allow_simple_key = True
        self._remove_possible_simple_key()
        self.reader.forward()
        self.tokens.append(_Token("BlockEntry"))

    def _fetch_key(self) -> None:
        if self.flow_level == 0:
            if not self.allow_simple_key:
                raise YamlError("mapping keys are not allowed here")
            if self._add_indent(self.reader.column):
                self.tokens.append(_Token("BlockMappingStart"))
        self.allow_simple_key = self.flow_level == 0
        self._remove_possible_simple_key()
        self.reader.forward()
        self.tokens.append(_Token("Key"))

    def _fetch_value(self) -> None:
        key = self.possible_simple_keys.pop(self.flow_level, None)
        if key is not None:
            position = key.token_number - self.tokens_taken
            self.tokens.insert(position, _Token("Key"))
            if self.flow_level == 0 and self._add_indent(key.column):
                self.tokens.insert(position, _Token("BlockMappingStart"))
            self.allow_simple_key = False
        else:
            if self.flow_level == 0 and not self.allow_simple_key:
                raise YamlError("mapping values are not allowed here")
            if self.flow_level == 0 and self._add_indent(self.reader.column):
                self.tokens.append(_Token("BlockMappingStart"))
            self.allow_simple_key = self.flow_level == 0
            self._remove_possible_simple_key()
        self.reader.forward()
        self.tokens.append(_Token("Value"))

    def _fetch_alias(self) -> None:
        self._save_possible_simple_key()
        self.allow_simple_key = False
        self.tokens.append(_Token("Alias", self._scan_anchor_name()))

    def _fetch_anchor(self) -> None:
        self._save_possible_simple_key()
        self.allow_simple_key = False
        self.tokens.append(_Token("Anchor", self._scan_anchor_name()))

    def _fetch_tag(self) -> None:
        self._save_possible_simple_key()
        self.allow_simple_key = False
        self.tokens.append(self._scan_tag())

    def _fetch_block_scalar(self, *, literal: bool) -> None:
        self.allow_simple_key = True
        self._remove_possible_simple_key()
        self.tokens.append(self._scan_block_scalar(literal=literal))

    def _fetch_flow_scalar(self, *, double: bool) -> None:
        self._save_possible_simple_key()
        self.allow_simple_key = False
        self.tokens.append(self._scan_flow_scalar(double=double))

    def _fetch_plain(self) -> None:
        self._save_possible_simple_key()
        self.allow_simple_key = False
        self.tokens.append(self._scan_plain())

    def _check_plain(self) -> bool:
        char = self.reader.peek()
        following = self.reader.peek(1)
        if char not in _BLANK_OR_BREAK and char not in "-?:,[]{}#&*!|>'\"%@`":
            return True
        if self.flow_level == 0:
            return following not in _BLANK_OR_BREAK and char in "-?:"
        return following not in _BLANK_OR_BREAK and following not in ",]" and char in "-?"

    # --- scanners

    def _scan_to_next_token(self) -> None:
        reader = self.reader
        if reader.index == 0 and reader.peek() == "\ufeff":
            reader.forward()
        while True:
            while reader.peek() == " ":
                reader.forward()
            if reader.peek() == "#":
                while reader.peek() not in _NUL_OR_BREAK:
                    reader.forward()
            if self._scan_line_break():
                if self.flow_level == 0:
                    self.allow_simple_key = True
            else:
                return

    def _scan_directive(self) -> _Token:
        reader = self.reader
        reader.forward()
        name = self._scan_while(lambda char: char in _ALPHA)
        if not name or reader.peek() not in _SPACE_OR_BREAK:
            raise YamlError("expected alphabetic or numeric character")
        if name == "YAML":
            value = self._scan_yaml_directive_value()
        elif name == "TAG":
            value = self._scan_tag_directive_value()
        else:
            value = ()
            while reader.peek() not in _NUL_OR_BREAK:
                reader.forward()
        while reader.peek() == " ":
            reader.forward()
        if reader.peek() == "#":
            while reader.peek() not in _NUL_OR_BREAK:
                reader.forward()
        if not self._scan_line_break() and reader.peek() != _NUL:
            raise YamlError("expected a comment or a line break")
        return _Token("Directive", name, directive=value)

    def _scan_yaml_directive_value(self) -> tuple[str, ...]:
        while self.reader.peek() == " ":
            self.reader.forward()
        major = self._scan_yaml_directive_number()
        if self.reader.peek() != ".":
            raise YamlError("expected a digit or '.'")
        self.reader.forward()
        minor = self._scan_yaml_directive_number()
        if self.reader.peek() not in _SPACE_OR_BREAK:
            raise YamlError("expected a digit or ' '")
        return (major, minor)

    def _scan_yaml_directive_number(self) -> str:
        number = self._scan_while(lambda char: unicodedata.category(char) == "Nd")
        if not number or len(number) > 3:
            raise YamlError("expected a valid version number")
        return str(int(number))

    def _scan_tag_directive_value(self) -> tuple[str, ...]:
        while self.reader.peek() == " ":
            self.reader.forward()
        handle = self._scan_tag_handle()
        if self.reader.peek() != " ":
            raise YamlError("expected ' '")
        while self.reader.peek() == " ":
            self.reader.forward()
        prefix = self._scan_tag_uri(_URI_PREFIX_CHARS)
        if self.reader.peek() not in _SPACE_OR_BREAK:
            raise YamlError("expected ' '")
        return (handle, prefix)

    def _scan_while(self, accept: Callable[[str], bool]) -> str:
        length = 0
        while self.reader.peek(length) != _NUL and accept(self.reader.peek(length)):
            length += 1
        return self.reader.take(length)

    def _scan_anchor_name(self) -> str:
        self.reader.forward()
        name = self._scan_while(lambda char: char not in _BLANK_OR_BREAK and char not in ",[]{}/.*&")
        if not name or (self.reader.peek() not in _BLANK_OR_BREAK and self.reader.peek() not in "?:,]}%@`"):
            raise YamlError("unexpected character in anchor or alias")
        return name

    def _scan_tag(self) -> _Token:
        reader = self.reader
        char = reader.peek(1)
        handle: str | None = None
        if char == "<":
            reader.forward(2)
            suffix = self._scan_tag_uri(_URI_PREFIX_CHARS)
            if reader.peek() != ">":
                raise YamlError("expected '>'")
            reader.forward()
        elif char in _BLANK_OR_BREAK:
            suffix = "!"
            reader.forward()
        else:
            length = 1
            use_handle = False
            while char not in _SPACE_OR_BREAK:
                if char == "!":
                    use_handle = True
                    break
                length += 1
                char = reader.peek(length)
            if use_handle:
                handle = self._scan_tag_handle()
            else:
                handle = "!"
                reader.forward()
            suffix = self._scan_tag_uri(_URI_CHARS)
        if reader.peek() not in _SPACE_OR_BREAK:
            raise YamlError("expected ' ' after a tag")
        return _Token("Tag", suffix, handle=handle)

    def _scan_tag_handle(self) -> str:
        reader = self.reader
        if reader.peek() != "!":
            raise YamlError("expected '!'")
        length = 1
        if reader.peek(length) != " ":
            while reader.peek(length) in _ALPHA:
                length += 1
            if reader.peek(length) != "!":
                raise YamlError("expected '!'")
            length += 1
        return reader.take(length)

    def _scan_tag_uri(self, allowed: frozenset[str]) -> str:
        reader = self.reader
        chunks: list[bytes | str] = []
        while reader.peek() in allowed:
            if reader.peek() == "%":
                chunks.append(self._scan_uri_escapes())
            else:
                chunks.append(reader.take(1))
        if not chunks:
            raise YamlError("expected URI")
        return "".join(chunk if isinstance(chunk, str) else _decode_utf8(chunk) for chunk in chunks)

    def _scan_uri_escapes(self) -> bytes:
        octets = bytearray()
        while self.reader.peek() == "%":
            self.reader.forward()
            digits = self.reader.prefix(2)
            if len(digits) != 2 or not all(char in "0123456789abcdefABCDEF" for char in digits):
                raise YamlError("expected URI escape sequence of 2 hexadecimal numbers")
            octets.append(int(digits, 16))
            self.reader.forward(2)
        return bytes(octets)

    def _scan_block_scalar(self, *, literal: bool) -> _Token:
        reader = self.reader
        reader.forward()
        chomping, increment = self._scan_block_scalar_indicators()
        self._scan_block_scalar_ignored_line()
        min_indent = max(self.indent + 1, 1)
        if increment is not None:
            block_indent = min_indent + increment - 1
            breaks = self._scan_block_scalar_breaks(block_indent)
        else:
            breaks, max_indent = self._scan_block_scalar_indentation()
            block_indent = max(min_indent, max_indent)
        if reader.column < block_indent and self.indent != reader.column:
            raise YamlError("the leading empty lines contain more spaces than the first non-empty line")
        chunks: list[str] = []
        line_break = ""
        while reader.column == block_indent and reader.peek() != _NUL:
            chunks.append(breaks)
            leading_non_space = reader.peek() not in " \t"
            length = 0
            while reader.peek(length) not in _NUL_OR_BREAK:
                length += 1
            chunks.append(reader.take(length))
            line_break = self._scan_line_break()
            breaks = self._scan_block_scalar_breaks(block_indent)
            if reader.column != block_indent or reader.peek() == _NUL:
                break
            if not literal and line_break == "\n" and leading_non_space and reader.peek() not in " \t":
                if not breaks:
                    chunks.append(" ")
            else:
                chunks.append(line_break)
        if chomping in ("clip", "keep"):
            chunks.append(line_break)
        if chomping == "keep":
            chunks.append(breaks)
        return _Token("Scalar", "".join(chunks), style="|" if literal else ">")

    def _scan_block_scalar_indicators(self) -> tuple[str, int | None]:
        reader = self.reader
        chomping = "clip"
        increment: int | None = None
        char = reader.peek()
        if char in "-+":
            chomping = "strip" if char == "-" else "keep"
            reader.forward()
            increment = self._scan_block_increment()
        else:
            increment = self._scan_block_increment()
            if increment is not None and reader.peek() in "-+":
                chomping = "strip" if reader.peek() == "-" else "keep"
                reader.forward()
        if reader.peek() not in _SPACE_OR_BREAK:
            raise YamlError("expected chomping or indentation indicators")
        return chomping, increment

    def _scan_block_increment(self) -> int | None:
        char = self.reader.peek()
        if char == _NUL or unicodedata.category(char) != "Nd":
            return None
        increment = unicodedata.digit(char)
        if increment == 0:
            raise YamlError("expected indentation indicator in the range 1-9, but found 0")
        self.reader.forward()
        return increment

    def _scan_block_scalar_ignored_line(self) -> None:
        reader = self.reader
        while reader.peek() == " ":
            reader.forward()
        if reader.peek() == "#":
            while reader.peek() not in _NUL_OR_BREAK:
                reader.forward()
        if not self._scan_line_break() and reader.peek() != _NUL:
            raise YamlError("expected a comment or a line break")

    def _scan_block_scalar_indentation(self) -> tuple[str, int]:
        reader = self.reader
        chunks: list[str] = []
        max_indent = 0
        while reader.peek() in " \r\n":
            if reader.peek() != " ":
                chunks.append(self._scan_line_break())
            else:
                reader.forward()
                max_indent = max(max_indent, reader.column)
        return "".join(chunks), max_indent

    def _scan_block_scalar_breaks(self, indent: int) -> str:
        reader = self.reader
        chunks: list[str] = []
        while reader.column < indent and reader.peek() == " ":
            reader.forward()
        while line_break := self._scan_line_break():
            chunks.append(line_break)
            while reader.column < indent and reader.peek() == " ":
                reader.forward()
        return "".join(chunks)

    def _scan_flow_scalar(self, *, double: bool) -> _Token:
        reader = self.reader
        quote = reader.peek()
        reader.forward()
        chunks: list[str] = []
        self._scan_flow_scalar_non_spaces(double, chunks)
        while reader.peek() != quote:
            self._scan_flow_scalar_spaces(chunks)
            self._scan_flow_scalar_non_spaces(double, chunks)
        reader.forward()
        return _Token("Scalar", "".join(chunks), style='"' if double else "'")

    def _scan_flow_scalar_non_spaces(self, double: bool, chunks: list[str]) -> None:
        reader = self.reader
        while True:
            length = 0
            while reader.peek(length) not in _BLANK_OR_BREAK and reader.peek(length) not in "'\"\\":
                length += 1
            if length:
                chunks.append(reader.take(length))
            char = reader.peek()
            if not double and char == "'" and reader.peek(1) == "'":
                chunks.append("'")
                reader.forward(2)
            elif (double and char == "'") or (not double and char in '"\\'):
                chunks.append(char)
                reader.forward()
            elif double and char == "\\":
                reader.forward()
                self._scan_escape(chunks)
            else:
                return

    def _scan_escape(self, chunks: list[str]) -> None:
        reader = self.reader
        char = reader.peek()
        if char in _ESCAPE_REPLACEMENTS:
            chunks.append(_ESCAPE_REPLACEMENTS[char])
            reader.forward()
        elif char in _ESCAPE_CODES:
            length = _ESCAPE_CODES[char]
            reader.forward()
            digits = reader.prefix(length)
            if len(digits) != length or not all(digit in "0123456789abcdefABCDEF" for digit in digits):
                raise YamlError("expected escape sequence of hexadecimal numbers")
            code_point = int(digits, 16)
            if code_point > 0x10FFFF:
                raise YamlError("found unknown escape character")
            chunks.append(chr(code_point))
            reader.forward(length)
        elif self._scan_line_break():
            chunks.append(self._scan_flow_scalar_breaks())
        else:
            raise YamlError("found unknown escape character")

    def _scan_flow_scalar_spaces(self, chunks: list[str]) -> None:
        reader = self.reader
        length = 0
        while reader.peek(length) in " \t" and reader.peek(length) != _NUL:
            length += 1
        whitespace = reader.take(length)
        if reader.peek() == _NUL:
            raise YamlError("found unexpected end of stream")
        line_break = self._scan_line_break()
        if not line_break:
            chunks.append(whitespace)
            return
        breaks = self._scan_flow_scalar_breaks()
        if line_break != "\n":
            chunks.append(line_break)
        elif not breaks:
            chunks.append(" ")
        chunks.append(breaks)

    def _scan_flow_scalar_breaks(self) -> str:
        reader = self.reader
        chunks: list[str] = []
        while True:
            if reader.prefix(3) in ("---", "...") and reader.peek(3) in _BLANK_OR_BREAK:
                raise YamlError("found unexpected document separator")
            while reader.peek() in " \t" and reader.peek() != _NUL:
                reader.forward()
            line_break = self._scan_line_break()
            if not line_break:
                return "".join(chunks)
            chunks.append(line_break)

    def _scan_plain(self) -> _Token:
        reader = self.reader
        chunks: list[str] = []
        plain_indent = self.indent + 1
        spaces = ""
        in_flow = self.flow_level != 0
        while reader.peek() != "#":
            length = 0
            while True:
                char = reader.peek(length)
                if (
                    char in _BLANK_OR_BREAK
                    or (char == ":" and _ends_plain_after_colon(reader.peek(length + 1), in_flow))
                    or (in_flow and char in ",[]{}")
                ):
                    break
                length += 1
            if length == 0:
                break
            self.allow_simple_key = False
            chunks.append(spaces)
            chunks.append(reader.take(length))
            spaces = self._scan_plain_spaces()
            if not spaces or reader.peek() == "#" or (not in_flow and reader.column < plain_indent):
                break
        return _Token("Scalar", "".join(chunks), plain=True)

    def _scan_plain_spaces(self) -> str:
        reader = self.reader
        length = 0
        while reader.peek(length) in " \t" and reader.peek(length) != _NUL:
            length += 1
        whitespace = reader.take(length)
        line_break = self._scan_line_break()
        if not line_break:
            return whitespace
        self.allow_simple_key = True
        if _is_document_marker(reader.prefix(3), reader.peek(3)):
            return ""
        breaks: list[str] = []
        while True:
            if reader.peek() == " ":
                reader.forward()
                continue
            next_break = self._scan_line_break()
            if not next_break:
                break
            breaks.append(next_break)
            if _is_document_marker(reader.prefix(3), reader.peek(3)):
                return ""
        if line_break != "\n":
            return line_break + "".join(breaks)
        return "".join(breaks) or " "

    def _scan_line_break(self) -> str:
        reader = self.reader
        char = reader.peek()
        if char in "\r\n\x85" and char != _NUL:
            reader.forward(2 if char == "\r" and reader.peek(1) == "\n" else 1)
            return "\n"
        if char in "\u2028\u2029":
            reader.forward()
            return char
        return ""


def _ends_plain_after_colon(following: str, in_flow: bool) -> bool:
    return following in _BLANK_OR_BREAK or (in_flow and following in ",[]{}")


def _is_document_marker(prefix: str, following: str) -> bool:
    # snakeyaml's condition binds as: "---" or ("..." followed by a blank).
    return prefix == "---" or (prefix == "..." and following in _BLANK_OR_BREAK)


def _decode_utf8(octets: bytes) -> str:
    try:
        return octets.decode("utf-8")
    except UnicodeDecodeError as error:
        raise YamlError("expected URI in UTF-8") from error


# --------------------------------------------------------------------------------------------- parser


@dataclass(slots=True)
class _Event:
    kind: str
    anchor: str | None = None
    tag: str | None = None
    implicit: tuple[bool, bool] = (True, False)
    value: str = ""
    style: str = ""


class _Parser:
    """``ParserImpl``'s state machine, producing the events the composer needs."""

    def __init__(self, scanner: _Scanner) -> None:
        self.scanner = scanner
        self.current: _Event | None = None
        self.state: Callable[[], _Event] | None = self._parse_stream_start
        self.states: list[Callable[[], _Event]] = []
        self.tag_handles: dict[str, str] = {"!": "!", "!!": _TAG_PREFIX}

    def check(self, kind: str) -> bool:
        return self.peek().kind == kind

    def peek(self) -> _Event:
        if self.current is None:
            if self.state is None:
                raise YamlError("no more events")
            self.current = self.state()
        return self.current

    def next(self) -> _Event:
        event = self.peek()
        self.current = None
        return event

    def _pop_state(self) -> None:
        self.state = self.states.pop()

    def _parse_stream_start(self) -> _Event:
        self.scanner.next()
        self.state = self._parse_implicit_document_start
        return _Event("StreamStart")

    def _parse_implicit_document_start(self) -> _Event:
        if self.scanner.check("Directive", "DocumentStart", "StreamEnd"):
            return self._parse_document_start()
        self.states.append(self._parse_document_end)
        self.state = self._parse_block_node
        return _Event("DocumentStart")

    def _parse_document_start(self) -> _Event:
        while self.scanner.check("DocumentEnd"):
            self.scanner.next()
        if self.scanner.check("StreamEnd"):
            self.scanner.next()
            if self.states:
                raise YamlError("unexpected end of stream")
            self.state = None
            return _Event("StreamEnd")
        self._process_directives()
        if not self.scanner.check("DocumentStart"):
            raise YamlError("expected '<document start>'")
        self.scanner.next()
        self.states.append(self._parse_document_end)
        self.state = self._parse_document_content
        return _Event("DocumentStart")

    def _process_directives(self) -> None:
        handles: dict[str, str] = {}
        seen_version = False
        while self.scanner.check("Directive"):
            token = self.scanner.next()
            if token.value == "YAML":
                if seen_version:
                    raise YamlError("found duplicate YAML directive")
                seen_version = True
                if token.directive[0] != "1":
                    raise YamlError("unsupported YAML version")
            elif token.value == "TAG":
                handle, prefix = token.directive
                if handle in handles:
                    raise YamlError("duplicate tag handle")
                handles[handle] = prefix
        self.tag_handles = {"!": "!", "!!": _TAG_PREFIX, **handles}

    def _parse_document_end(self) -> _Event:
        if self.scanner.check("DocumentEnd"):
            self.scanner.next()
        elif self.scanner.check("Directive"):
            raise YamlError("expected '<document end>' before directives")
        self.tag_handles = {}
        self.state = self._parse_document_start
        return _Event("DocumentEnd")

    def _parse_document_content(self) -> _Event:
        if self.scanner.check("Directive", "DocumentStart", "DocumentEnd", "StreamEnd"):
            self._pop_state()
            return _Event("Scalar")
        return self._parse_block_node()

    def _parse_block_node(self) -> _Event:
        return self._parse_node(block=True, indentless_sequence=False)

    def _parse_flow_node(self) -> _Event:
        return self._parse_node(block=False, indentless_sequence=False)

    def _parse_node(self, *, block: bool, indentless_sequence: bool) -> _Event:
        scanner = self.scanner
        if scanner.check("Alias"):
            self._pop_state()
            return _Event("Alias", anchor=scanner.next().value)
        anchor, tag = self._parse_properties()
        implicit = tag is None
        if indentless_sequence and scanner.check("BlockEntry"):
            self.state = self._parse_indentless_sequence_entry_key
            return _Event("SequenceStart", anchor, tag, (implicit, False))
        if scanner.check("Scalar"):
            token = scanner.next()
            if token.plain and tag is None:
                flags = (True, False)
            elif tag is None:
                flags = (False, True)
            else:
                flags = (False, False)
            self._pop_state()
            return _Event("Scalar", anchor, tag, flags, token.value, token.style)
        starts = {
            "FlowSequenceStart": ("SequenceStart", self._parse_flow_sequence_first_entry),
            "FlowMappingStart": ("MappingStart", self._parse_flow_mapping_first_key),
        }
        if block:
            starts["BlockSequenceStart"] = ("SequenceStart", self._parse_block_sequence_first_entry)
            starts["BlockMappingStart"] = ("MappingStart", self._parse_block_mapping_first_key)
        for token_kind, (event_kind, state) in starts.items():
            if scanner.check(token_kind):
                self.state = state
                return _Event(event_kind, anchor, tag, (implicit, False))
        if anchor is not None or tag is not None:
            self._pop_state()
            return _Event("Scalar", anchor, tag, (implicit, False))
        raise YamlError("expected the node content")

    def _parse_properties(self) -> tuple[str | None, str | None]:
        scanner = self.scanner
        anchor: str | None = None
        tag_token: _Token | None = None
        if scanner.check("Anchor"):
            anchor = scanner.next().value
            if scanner.check("Tag"):
                tag_token = scanner.next()
        elif scanner.check("Tag"):
            tag_token = scanner.next()
            if scanner.check("Anchor"):
                anchor = scanner.next().value
        if tag_token is None:
            return anchor, None
        if tag_token.handle is None:
            return anchor, tag_token.value
        if tag_token.handle not in self.tag_handles:
            raise YamlError("found undefined tag handle")
        return anchor, self.tag_handles[tag_token.handle] + tag_token.value

    def _parse_block_sequence_first_entry(self) -> _Event:
        self.scanner.next()
        return self._parse_block_sequence_entry_key()

    def _parse_block_sequence_entry_key(self) -> _Event:
        if self.scanner.check("BlockEntry"):
            self.scanner.next()
            if not self.scanner.check("BlockEntry", "BlockEnd"):
                self.states.append(self._parse_block_sequence_entry_key)
                return self._parse_block_node()
            self.state = self._parse_block_sequence_entry_key
            return _Event("Scalar")
        if not self.scanner.check("BlockEnd"):
            raise YamlError("while parsing a block collection expected <block end>")
        self.scanner.next()
        self._pop_state()
        return _Event("SequenceEnd")

    def _parse_indentless_sequence_entry_key(self) -> _Event:
        if self.scanner.check("BlockEntry"):
            self.scanner.next()
            if not self.scanner.check("BlockEntry", "Key", "Value", "BlockEnd"):
                self.states.append(self._parse_indentless_sequence_entry_key)
                return self._parse_block_node()
            self.state = self._parse_indentless_sequence_entry_key
            return _Event("Scalar")
        self._pop_state()
        return _Event("SequenceEnd")

    def _parse_block_mapping_first_key(self) -> _Event:
        self.scanner.next()
        return self._parse_block_mapping_key()

    def _parse_block_mapping_key(self) -> _Event:
        scanner = self.scanner
        if scanner.check("Key"):
            scanner.next()
            if not scanner.check("Key", "Value", "BlockEnd"):
                self.states.append(self._parse_block_mapping_value)
                return self._parse_node(block=True, indentless_sequence=True)
            self.state = self._parse_block_mapping_value
            return _Event("Scalar")
        if not scanner.check("BlockEnd"):
            raise YamlError("while parsing a block mapping expected <block end>")
        scanner.next()
        self._pop_state()
        return _Event("MappingEnd")

    def _parse_block_mapping_value(self) -> _Event:
        scanner = self.scanner
        if scanner.check("Value"):
            scanner.next()
            if not scanner.check("Key", "Value", "BlockEnd"):
                self.states.append(self._parse_block_mapping_key)
                return self._parse_node(block=True, indentless_sequence=True)
            self.state = self._parse_block_mapping_key
            return _Event("Scalar")
        if scanner.check("Scalar"):
            self.states.append(self._parse_block_mapping_key)
            return self._parse_node(block=True, indentless_sequence=True)
        self.state = self._parse_block_mapping_key
        return _Event("Scalar")

    def _parse_flow_sequence_first_entry(self) -> _Event:
        self.scanner.next()
        return self._parse_flow_sequence_entry(first=True)

    def _parse_flow_sequence_entry(self, *, first: bool = False) -> _Event:
        scanner = self.scanner
        if not scanner.check("FlowSequenceEnd"):
            if not first:
                if not scanner.check("FlowEntry"):
                    raise YamlError("while parsing a flow sequence expected ',' or ']'")
                scanner.next()
            if scanner.check("Key"):
                self.state = self._parse_flow_sequence_entry_mapping_key
                return _Event("MappingStart", implicit=(True, False))
            if not scanner.check("FlowSequenceEnd"):
                self.states.append(self._parse_flow_sequence_entry)
                return self._parse_flow_node()
        scanner.next()
        self._pop_state()
        return _Event("SequenceEnd")

    def _parse_flow_sequence_entry_mapping_key(self) -> _Event:
        self.scanner.next()
        if not self.scanner.check("Value", "FlowEntry", "FlowSequenceEnd"):
            self.states.append(self._parse_flow_sequence_entry_mapping_value)
            return self._parse_flow_node()
        self.state = self._parse_flow_sequence_entry_mapping_value
        return _Event("Scalar")

    def _parse_flow_sequence_entry_mapping_value(self) -> _Event:
        if self.scanner.check("Value"):
            self.scanner.next()
            if not self.scanner.check("FlowEntry", "FlowSequenceEnd"):
                self.states.append(self._parse_flow_sequence_entry_mapping_end)
                return self._parse_flow_node()
        self.state = self._parse_flow_sequence_entry_mapping_end
        return _Event("Scalar")

    def _parse_flow_sequence_entry_mapping_end(self) -> _Event:
        self.state = self._parse_flow_sequence_entry
        return _Event("MappingEnd")

    def _parse_flow_mapping_first_key(self) -> _Event:
        self.scanner.next()
        return self._parse_flow_mapping_key(first=True)

    def _parse_flow_mapping_key(self, *, first: bool = False) -> _Event:
        scanner = self.scanner
        if not scanner.check("FlowMappingEnd"):
            if not first:
                if not scanner.check("FlowEntry"):
                    raise YamlError("while parsing a flow mapping expected ',' or '}'")
                scanner.next()
            if scanner.check("Key"):
                scanner.next()
                if not scanner.check("Value", "FlowEntry", "FlowMappingEnd"):
                    self.states.append(self._parse_flow_mapping_value)
                    return self._parse_flow_node()
                self.state = self._parse_flow_mapping_value
                return _Event("Scalar")
            if not scanner.check("FlowMappingEnd"):
                self.states.append(self._parse_flow_mapping_empty_value)
                return self._parse_flow_node()
        scanner.next()
        self._pop_state()
        return _Event("MappingEnd")

    def _parse_flow_mapping_value(self) -> _Event:
        if self.scanner.check("Value"):
            self.scanner.next()
            if not self.scanner.check("FlowEntry", "FlowMappingEnd"):
                self.states.append(self._parse_flow_mapping_key)
                return self._parse_flow_node()
        self.state = self._parse_flow_mapping_key
        return _Event("Scalar")

    def _parse_flow_mapping_empty_value(self) -> _Event:
        self.state = self._parse_flow_mapping_key
        return _Event("Scalar")


# ------------------------------------------------------------------------------------------- composer


@dataclass(eq=False, slots=True)
class _Node:
    kind: str  # "scalar" | "sequence" | "mapping"
    tag: str
    value: str = ""
    items: list[_Node] = field(default_factory=list)
    pairs: list[tuple[_Node, _Node]] = field(default_factory=list)


class _Composer:
    """``Composer.getSingleNode``: exactly one document, anchors and aliases resolved."""

    def __init__(self, parser: _Parser) -> None:
        self.parser = parser
        self.anchors: dict[str, _Node] = {}
        self.open_nodes: set[int] = set()

    def single_node(self) -> _Node | None:
        self.parser.next()
        node: _Node | None = None
        if not self.parser.check("StreamEnd"):
            self.parser.next()
            node = self._compose_node()
            self.parser.next()
            self.anchors = {}
        if not self.parser.check("StreamEnd"):
            raise YamlError("expected a single document in the stream")
        self.parser.next()
        return node

    def _compose_node(self) -> _Node:
        event = self.parser.peek()
        if event.kind == "Alias":
            self.parser.next()
            assert event.anchor is not None
            if event.anchor not in self.anchors:
                raise YamlError("found undefined alias")
            node = self.anchors[event.anchor]
            if id(node) in self.open_nodes:
                raise YamlError("recursive structures are not reproduced")
            return node
        if event.kind == "Scalar":
            return self._compose_scalar()
        if event.kind == "SequenceStart":
            return self._compose_sequence()
        return self._compose_mapping()

    def _register(self, anchor: str | None, node: _Node) -> None:
        if anchor is not None:
            self.anchors[anchor] = node

    def _compose_scalar(self) -> _Node:
        event = self.parser.next()
        if event.tag is None or event.tag == "!":
            tag = resolve_scalar(event.value, implicit=event.implicit[0])
        else:
            tag = event.tag
        node = _Node("scalar", tag, value=event.value)
        self._register(event.anchor, node)
        return node

    def _compose_sequence(self) -> _Node:
        start = self.parser.next()
        node = _Node("sequence", _SEQ if start.tag in (None, "!") else str(start.tag))
        self._register(start.anchor, node)
        self.open_nodes.add(id(node))
        while not self.parser.check("SequenceEnd"):
            node.items.append(self._compose_node())
        self.parser.next()
        self.open_nodes.discard(id(node))
        return node

    def _compose_mapping(self) -> _Node:
        start = self.parser.next()
        node = _Node("mapping", _MAP if start.tag in (None, "!") else str(start.tag))
        self._register(start.anchor, node)
        self.open_nodes.add(id(node))
        while not self.parser.check("MappingEnd"):
            key = self._compose_node()
            node.pairs.append((key, self._compose_node()))
        self.parser.next()
        self.open_nodes.discard(id(node))
        return node


# ----------------------------------------------------------------------------- core schema: resolving

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
    **dict.fromkeys("tfTF", ((_BOOL, _CORE_BOOL),)),
    **dict.fromkeys("-+0123456789", ((_INT, _CORE_INT), (_FLOAT, _CORE_FLOAT))),
    ".": ((_FLOAT, _CORE_FLOAT),),
    "n": ((_NULL, _CORE_NULL),),
    "$": ((_ENV_TAG, _ENV_FORMAT),),
}
_ANY_FIRST_CHAR = ((_NULL, re.compile("")), (_NULL, _CORE_NULL))


def resolve_scalar(value: str, *, implicit: bool) -> str:
    """The tag snakeyaml's core-schema resolver gives a scalar (``BaseScalarResolver.resolve``)."""
    if not implicit:
        return _STR
    candidates = _BY_FIRST_CHAR.get(value[:1], ()) if value else _ANY_FIRST_CHAR[:1]
    for tag, pattern in (*candidates, *_ANY_FIRST_CHAR):
        if pattern.fullmatch(value):
            return tag
    return _STR


# ------------------------------------------------------------------------------------------ constructor


class _Constructor:
    """``StandardConstructor`` over the core schema, duplicate keys refused."""

    def __init__(self) -> None:
        self.constructed: dict[int, YamlValue] = {}

    def construct(self, node: _Node) -> YamlValue:
        if id(node) in self.constructed:
            return self.constructed[id(node)]
        if node.kind == "scalar":
            value = _construct_scalar(node)
        elif node.kind == "sequence":
            if node.tag != _SEQ:
                raise YamlError(f"no constructor for {node.tag} on a sequence")
            value = [self.construct(item) for item in node.items]
        else:
            value = self._construct_mapping(node)
        self.constructed[id(node)] = value
        return value

    def _construct_mapping(self, node: _Node) -> YamlMap:
        if node.tag != _MAP:
            raise YamlError(f"no constructor for {node.tag} on a mapping")
        pairs: list[tuple[YamlValue, YamlValue]] = []
        seen: set[object] = set()
        for key_node, value_node in node.pairs:
            key = self.construct(key_node)
            value = self.construct(value_node)
            identity = _java_equality_key(key)
            if identity in seen:
                raise YamlError("found duplicate key")
            seen.add(identity)
            pairs.append((key, value))
        return YamlMap(tuple(pairs))


def _construct_scalar(node: _Node) -> YamlValue:
    builders: dict[str, Callable[[str], YamlValue]] = {
        _STR: lambda text: text,
        _NULL: lambda _text: None,
        _BOOL: _construct_bool,
        _INT: _construct_int,
        _FLOAT: _construct_float,
        _BINARY: _construct_binary,
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


def _java_equality_key(value: YamlValue) -> object:
    """A hashable stand-in for Java ``equals`` of constructed keys (maps compare unordered)."""
    if isinstance(value, YamlMap):
        return ("map", frozenset((_java_equality_key(k), _java_equality_key(v)) for k, v in value.pairs))
    if isinstance(value, list):
        return ("list", tuple(_java_equality_key(item) for item in value))
    if isinstance(value, float):
        return ("float", "nan" if math.isnan(value) else value.hex())
    return (type(value).__name__, value)


# -------------------------------------------------------------------------------------------- emitter


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
        if not isinstance(value, list | YamlMap):
            return
        if id(value) in seen:
            if id(value) not in self.anchors:
                self.anchors[id(value)] = f"id{len(self.anchors) + 1:03d}"
            return
        seen.add(id(value))
        children = value if isinstance(value, list) else [item for pair in value.pairs for item in pair]
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
        if not isinstance(value, list | YamlMap):
            if isinstance(value, bytes):
                raise YamlError("binary values inside collections are not reproduced")
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
        self._write("{")
        for index, (key, item) in enumerate(value.pairs):
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


def _is_simple_key(key: YamlValue) -> bool:
    if isinstance(key, list | YamlMap):
        return not (key if isinstance(key, list) else key.pairs)
    if isinstance(key, bytes):
        return False
    text, _tag = _scalar_text(key)
    # The emitter counts the scalar's tag ("!!str", "!!int", ...) towards the 128-character limit.
    return len(text) + 5 < 128 and text != "" and "\n" not in text


def _scalar_text(value: bool | int | float | str | None) -> tuple[str, str]:
    if value is None:
        return "null", _NULL
    if isinstance(value, bool):
        return ("true" if value else "false"), _BOOL
    if isinstance(value, int):
        return str(value), _INT
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan", _FLOAT
        if math.isinf(value):
            return (".inf" if value > 0 else "-.inf"), _FLOAT
        return java_double_to_string(value), _FLOAT
    return value, _STR


def _emit_scalar(value: bool | int | float | str | None, *, flow_level: int, simple_key: bool) -> str:
    text, tag = _scalar_text(value)
    if tag != _STR:
        return text
    analysis = _analyze(text)
    if resolve_scalar(text, implicit=True) == _STR and not _MULTILINE.search(text):
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
    followed_by_whitespace = total == 1 or by_unit.get(1, "x") in _BLANK_OR_BREAK
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
