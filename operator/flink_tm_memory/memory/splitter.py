"""Flink's ``StructuredOptionsSplitter``: how list and map option strings are split.

List options (``external-resources: gpu;fpga``) and legacy map strings
(``taskmanager.memory.managed.consumer-weights: OPERATOR:70,PYTHON:30``) are split with single or double
quoting, a doubled quote as escape, and unquoted tokens trimmed. Errors carry Flink's exact texts.
"""

from __future__ import annotations

from flink_tm_memory.memory.constants import Named
from flink_tm_memory.memory.failures import ILLEGAL_ARGUMENT, JavaError
from flink_tm_memory.memory.javanum import java_trim
from flink_tm_memory.memory.records import FrozenRecord

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see memory/records.py)
if TYPE_CHECKING:
    from typing import ClassVar, Final


class _TokenType(Named):
    QUOTED: ClassVar[_TokenType]
    UNQUOTED: ClassVar[_TokenType]
    DELIMITER: ClassVar[_TokenType]


_TokenType.define_all(QUOTED="quoted", UNQUOTED="unquoted", DELIMITER="delimiter")


class _Token(FrozenRecord):
    __slots__ = ("position", "text", "type")

    def __init__(self, type: _TokenType, text: str, position: int) -> None:
        self.type: Final = type
        self.text: Final = text
        self.position: Final = position


def split_escaped(text: str, delimiter: str) -> list[str]:
    """``StructuredOptionsSplitter.splitEscaped``: the items of ``text`` separated by ``delimiter``."""
    tokens = _tokenize(text, delimiter)
    items: list[str] = []
    for index, token in enumerate(tokens):
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        if token.type is _TokenType.QUOTED:
            if following is not None and following.type is not _TokenType.DELIMITER:
                # Java counts positions in UTF-16 units: a character beyond U+FFFF counts twice.
                position = len(text[: following.position].encode("utf-16-le")) // 2 - 1
                raise JavaError(
                    ILLEGAL_ARGUMENT, f"Could not split string. Illegal quoting at position: {position}"
                )
            items.append(token.text)
        elif token.type is _TokenType.UNQUOTED:
            items.append(token.text)
        elif following is not None and following.type is _TokenType.DELIMITER:
            items.append("")
    return items


def _tokenize(text: str, delimiter: str) -> list[_Token]:
    tokens: list[_Token] = []
    cursor = 0
    while cursor < len(text):
        char = text[cursor]
        if char in "'\"":
            quoted, cursor_after = _consume_quoted(text, char, cursor)
            tokens.append(_Token(_TokenType.QUOTED, quoted, cursor))
        elif char == delimiter:
            tokens.append(_Token(_TokenType.DELIMITER, char, cursor))
            cursor_after = cursor + 1
        elif not _is_java_whitespace(char):
            end = text.find(delimiter, cursor)
            end = len(text) if end < 0 else end
            tokens.append(_Token(_TokenType.UNQUOTED, java_trim(text[cursor:end]), cursor))
            cursor_after = end
        else:
            cursor_after = cursor + 1
        cursor = cursor_after
    return tokens


def _consume_quoted(text: str, quote: str, start: int) -> tuple[str, int]:
    collected: list[str] = []
    index = start + 1
    while index < len(text):
        char = text[index]
        if char == quote:
            if index + 1 < len(text) and text[index + 1] == quote:
                collected.append(quote)
                index += 2
                continue
            return "".join(collected), index + 1
        collected.append(char)
        index += 1
    raise JavaError(ILLEGAL_ARGUMENT, "Could not split string. Quoting was not closed properly.")


def _is_java_whitespace(char: str) -> bool:
    """``Character.isWhitespace``: Unicode space separators except non-breaking ones, and controls."""
    if char in "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f":
        return True
    return char.isspace() and char not in "\u00a0\u2007\u202f" and char not in "\x85"
