"""Reads the text of directives, anchors, aliases and tags.

These share snakeyaml's tag handle and URI scanning (a ``%TAG`` directive names a handle and a prefix),
so they sit together, apart from the token bookkeeping in ``scanner`` and the scalars in
``scalar_scanning``. Mirrors the ``scanDirective``, ``scanAnchor``, ``scanTag``, ``scanTagHandle``,
``scanTagUri`` and ``scanUriEscapes`` methods of snakeyaml-engine's ``ScannerImpl``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

from flink_tm_memory.memory.flink_yaml.characters import BLANK_OR_BREAK, NUL, NUL_OR_BREAK, SPACE_OR_BREAK
from flink_tm_memory.memory.flink_yaml.reader import Reader
from flink_tm_memory.memory.flink_yaml.tokens import Token
from flink_tm_memory.memory.flink_yaml.values import YamlError

_ALPHA = frozenset("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-_")
_URI_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-_;/?:@&=+$.!~*'()%")
_URI_PREFIX_CHARS = _URI_CHARS | frozenset(",[]")


class PropertyScanning:
    """``ScannerImpl``'s scanning of directives, anchors, aliases and tags (a mixin of ``Scanner``)."""

    # Provided by ``Scanner``, the class this mixin is part of.
    reader: Reader
    _scan_line_break: Callable[[], str]

    def _scan_directive(self) -> Token:
        reader = self.reader
        reader.forward()
        name = self._scan_while(lambda char: char in _ALPHA)
        if not name or reader.peek() not in SPACE_OR_BREAK:
            raise YamlError("expected alphabetic or numeric character")
        if name == "YAML":
            value = self._scan_yaml_directive_value()
        elif name == "TAG":
            value = self._scan_tag_directive_value()
        else:
            value = ()
            while reader.peek() not in NUL_OR_BREAK:
                reader.forward()
        while reader.peek() == " ":
            reader.forward()
        if reader.peek() == "#":
            while reader.peek() not in NUL_OR_BREAK:
                reader.forward()
        if not self._scan_line_break() and reader.peek() != NUL:
            raise YamlError("expected a comment or a line break")
        return Token("Directive", name, directive=value)

    def _scan_yaml_directive_value(self) -> tuple[str, ...]:
        while self.reader.peek() == " ":
            self.reader.forward()
        major = self._scan_yaml_directive_number()
        if self.reader.peek() != ".":
            raise YamlError("expected a digit or '.'")
        self.reader.forward()
        minor = self._scan_yaml_directive_number()
        if self.reader.peek() not in SPACE_OR_BREAK:
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
        if self.reader.peek() not in SPACE_OR_BREAK:
            raise YamlError("expected ' '")
        return (handle, prefix)

    def _scan_while(self, accept: Callable[[str], bool]) -> str:
        length = 0
        while self.reader.peek(length) != NUL and accept(self.reader.peek(length)):
            length += 1
        return self.reader.take(length)

    def _scan_anchor_name(self) -> str:
        self.reader.forward()
        name = self._scan_while(lambda char: char not in BLANK_OR_BREAK and char not in ",[]{}/.*&")
        if not name or (self.reader.peek() not in BLANK_OR_BREAK and self.reader.peek() not in "?:,]}%@`"):
            raise YamlError("unexpected character in anchor or alias")
        return name

    def _scan_tag(self) -> Token:
        reader = self.reader
        char = reader.peek(1)
        handle: str | None = None
        if char == "<":
            reader.forward(2)
            suffix = self._scan_tag_uri(_URI_PREFIX_CHARS)
            if reader.peek() != ">":
                raise YamlError("expected '>'")
            reader.forward()
        elif char in BLANK_OR_BREAK:
            suffix = "!"
            reader.forward()
        else:
            length = 1
            use_handle = False
            while char not in SPACE_OR_BREAK:
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
        if reader.peek() not in SPACE_OR_BREAK:
            raise YamlError("expected ' ' after a tag")
        return Token("Tag", suffix, handle=handle)

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


def _decode_utf8(octets: bytes) -> str:
    try:
        return octets.decode("utf-8")
    except UnicodeDecodeError as error:
        raise YamlError("expected URI in UTF-8") from error
