"""Reads the text of block (``|``, ``>``), quoted (``'``, ``"``) and plain scalars.

Scalars are where a configuration value's meaning is decided (``OPERATOR: 70`` against
``OPERATOR:70``), and their folding, escaping and chomping rules are the bulk of the scanner, so they
live apart from the token bookkeeping in ``scanner``. Mirrors the ``scanBlockScalar*``,
``scanFlowScalar*`` and ``scanPlain*`` methods of snakeyaml-engine's ``ScannerImpl``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

from flink_tm_memory.memory.flink_yaml.characters import BLANK_OR_BREAK, NUL, NUL_OR_BREAK, SPACE_OR_BREAK
from flink_tm_memory.memory.flink_yaml.reader import Reader
from flink_tm_memory.memory.flink_yaml.tokens import Token
from flink_tm_memory.memory.flink_yaml.values import YamlError

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


class ScalarScanning:
    """``ScannerImpl``'s scanning of block, quoted and plain scalars (a mixin of ``Scanner``)."""

    # Provided by ``Scanner``, the class this mixin is part of.
    reader: Reader
    _scan_line_break: Callable[[], str]
    indent: int
    flow_level: int
    allow_simple_key: bool

    def _scan_block_scalar(self, *, literal: bool) -> Token:
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
        while reader.column == block_indent and reader.peek() != NUL:
            chunks.append(breaks)
            leading_non_space = reader.peek() not in " \t"
            length = 0
            while reader.peek(length) not in NUL_OR_BREAK:
                length += 1
            chunks.append(reader.take(length))
            line_break = self._scan_line_break()
            breaks = self._scan_block_scalar_breaks(block_indent)
            if reader.column != block_indent or reader.peek() == NUL:
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
        return Token("Scalar", "".join(chunks), style="|" if literal else ">")

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
        if reader.peek() not in SPACE_OR_BREAK:
            raise YamlError("expected chomping or indentation indicators")
        return chomping, increment

    def _scan_block_increment(self) -> int | None:
        char = self.reader.peek()
        if char == NUL or unicodedata.category(char) != "Nd":
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
            while reader.peek() not in NUL_OR_BREAK:
                reader.forward()
        if not self._scan_line_break() and reader.peek() != NUL:
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

    def _scan_flow_scalar(self, *, double: bool) -> Token:
        reader = self.reader
        quote = reader.peek()
        reader.forward()
        chunks: list[str] = []
        self._scan_flow_scalar_non_spaces(double, chunks)
        while reader.peek() != quote:
            self._scan_flow_scalar_spaces(chunks)
            self._scan_flow_scalar_non_spaces(double, chunks)
        reader.forward()
        return Token("Scalar", "".join(chunks), style='"' if double else "'")

    def _scan_flow_scalar_non_spaces(self, double: bool, chunks: list[str]) -> None:
        reader = self.reader
        while True:
            length = 0
            while reader.peek(length) not in BLANK_OR_BREAK and reader.peek(length) not in "'\"\\":
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
        while reader.peek(length) in " \t" and reader.peek(length) != NUL:
            length += 1
        whitespace = reader.take(length)
        if reader.peek() == NUL:
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
            if reader.prefix(3) in ("---", "...") and reader.peek(3) in BLANK_OR_BREAK:
                raise YamlError("found unexpected document separator")
            while reader.peek() in " \t" and reader.peek() != NUL:
                reader.forward()
            line_break = self._scan_line_break()
            if not line_break:
                return "".join(chunks)
            chunks.append(line_break)

    def _scan_plain(self) -> Token:
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
                    char in BLANK_OR_BREAK
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
        return Token("Scalar", "".join(chunks), plain=True)

    def _scan_plain_spaces(self) -> str:
        reader = self.reader
        length = 0
        while reader.peek(length) in " \t" and reader.peek(length) != NUL:
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


def _ends_plain_after_colon(following: str, in_flow: bool) -> bool:
    return following in BLANK_OR_BREAK or (in_flow and following in ",[]{}")


def _is_document_marker(prefix: str, following: str) -> bool:
    # snakeyaml's condition binds as: "---" or ("..." followed by a blank).
    return prefix == "---" or (prefix == "..." and following in BLANK_OR_BREAK)
