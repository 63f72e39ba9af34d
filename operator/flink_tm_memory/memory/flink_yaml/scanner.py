"""Turns the characters of a value into tokens: which token comes next, and where keys and blocks start.

This is the part of snakeyaml-engine's ``ScannerImpl`` that decides token boundaries: the token queue
the parser pulls from, possible simple keys (a ``KEY`` token inserted once the ``:`` is seen),
block indentation, and the ``fetch*`` methods. Reading the text of a token is left to the mixins
``PropertyScanning`` (directives, anchors, aliases, tags) and ``ScalarScanning`` (block, quoted and
plain scalars), so each module stays readable; together they are ``ScannerImpl``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flink_tm_memory.memory.flink_yaml.characters import BLANK_OR_BREAK, NUL, NUL_OR_BREAK
from flink_tm_memory.memory.flink_yaml.property_scanning import PropertyScanning
from flink_tm_memory.memory.flink_yaml.reader import Reader
from flink_tm_memory.memory.flink_yaml.scalar_scanning import ScalarScanning
from flink_tm_memory.memory.flink_yaml.tokens import Token
from flink_tm_memory.memory.flink_yaml.values import YamlError


@dataclass(slots=True)
class _SimpleKey:
    token_number: int
    required: bool
    index: int
    line: int
    column: int


class Scanner(ScalarScanning, PropertyScanning):
    """``ScannerImpl`` without comment tokens (Flink does not parse comments)."""

    def __init__(self, text: str) -> None:
        self.reader = Reader(text)
        self.tokens: list[Token] = [Token("StreamStart")]
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

    def peek(self) -> Token:
        while self._need_more_tokens():
            self._fetch_more_tokens()
        return self.tokens[0]

    def next(self) -> Token:
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
            NUL: (lambda: True, self._fetch_stream_end),
            "%": (lambda: self.reader.column == 0, self._fetch_directive),
            "[": (lambda: True, lambda: self._fetch_flow_collection_start("FlowSequenceStart")),
            "{": (lambda: True, lambda: self._fetch_flow_collection_start("FlowMappingStart")),
            "]": (lambda: True, lambda: self._fetch_flow_collection_end("FlowSequenceEnd")),
            "}": (lambda: True, lambda: self._fetch_flow_collection_end("FlowMappingEnd")),
            ",": (lambda: True, self._fetch_flow_entry),
            "?": (lambda: self.reader.peek(1) in BLANK_OR_BREAK, self._fetch_key),
            ":": (lambda: not in_block or self.reader.peek(1) in BLANK_OR_BREAK, self._fetch_value),
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
            if self.reader.peek(1) in BLANK_OR_BREAK:
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
        # Keys are saved in reading order (a level's new key replaces its old one at the end), so the
        # stale ones are a prefix: stopping at the first fresh key gives snakeyaml's result without its
        # cost per token of every open flow level (quadratic in a deeply nested line).
        while self.possible_simple_keys:
            level, key = next(iter(self.possible_simple_keys.items()))
            if key.line == self.reader.line and self.reader.index - key.index <= 1024:
                return
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
            self.tokens.append(Token("BlockEnd"))

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
        self.tokens.append(Token("StreamEnd"))
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
            and self.reader.peek(3) in BLANK_OR_BREAK
        )

    def _fetch_document_indicator(self, kind: str) -> None:
        self._unwind_indent(-1)
        self._remove_possible_simple_key()
        self.allow_simple_key = False
        self.reader.forward(3)
        self.tokens.append(Token(kind))

    def _fetch_flow_collection_start(self, kind: str) -> None:
        self._save_possible_simple_key()
        self.flow_level += 1
        self.allow_simple_key = True
        self.reader.forward()
        self.tokens.append(Token(kind))

    def _fetch_flow_collection_end(self, kind: str) -> None:
        self._remove_possible_simple_key()
        self.flow_level -= 1
        self.allow_simple_key = False
        self.reader.forward()
        self.tokens.append(Token(kind))

    def _fetch_flow_entry(self) -> None:
        self.allow_simple_key = True
        self._remove_possible_simple_key()
        self.reader.forward()
        self.tokens.append(Token("FlowEntry"))

    def _fetch_block_entry(self) -> None:
        if self.flow_level == 0:
            if not self.allow_simple_key:
                raise YamlError("sequence entries are not allowed here")
            if self._add_indent(self.reader.column):
                self.tokens.append(Token("BlockSequenceStart"))
        self.allow_simple_key = True
        self._remove_possible_simple_key()
        self.reader.forward()
        self.tokens.append(Token("BlockEntry"))

    def _fetch_key(self) -> None:
        if self.flow_level == 0:
            if not self.allow_simple_key:
                raise YamlError("mapping keys are not allowed here")
            if self._add_indent(self.reader.column):
                self.tokens.append(Token("BlockMappingStart"))
        self.allow_simple_key = self.flow_level == 0
        self._remove_possible_simple_key()
        self.reader.forward()
        self.tokens.append(Token("Key"))

    def _fetch_value(self) -> None:
        key = self.possible_simple_keys.pop(self.flow_level, None)
        if key is not None:
            position = key.token_number - self.tokens_taken
            self.tokens.insert(position, Token("Key"))
            if self.flow_level == 0 and self._add_indent(key.column):
                self.tokens.insert(position, Token("BlockMappingStart"))
            self.allow_simple_key = False
        else:
            if self.flow_level == 0 and not self.allow_simple_key:
                raise YamlError("mapping values are not allowed here")
            if self.flow_level == 0 and self._add_indent(self.reader.column):
                self.tokens.append(Token("BlockMappingStart"))
            self.allow_simple_key = self.flow_level == 0
            self._remove_possible_simple_key()
        self.reader.forward()
        self.tokens.append(Token("Value"))

    def _fetch_alias(self) -> None:
        self._save_possible_simple_key()
        self.allow_simple_key = False
        self.tokens.append(Token("Alias", self._scan_anchor_name()))

    def _fetch_anchor(self) -> None:
        self._save_possible_simple_key()
        self.allow_simple_key = False
        self.tokens.append(Token("Anchor", self._scan_anchor_name()))

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
        if char not in BLANK_OR_BREAK and char not in "-?:,[]{}#&*!|>'\"%@`":
            return True
        if self.flow_level == 0:
            return following not in BLANK_OR_BREAK and char in "-?:"
        return following not in BLANK_OR_BREAK and following not in ",]" and char in "-?"

    # --- what lies between tokens (the mixins read the tokens themselves and share _scan_line_break)

    def _scan_to_next_token(self) -> None:
        reader = self.reader
        if reader.index == 0 and reader.peek() == "\ufeff":
            reader.forward()
        while True:
            while reader.peek() == " ":
                reader.forward()
            if reader.peek() == "#":
                while reader.peek() not in NUL_OR_BREAK:
                    reader.forward()
            if self._scan_line_break():
                if self.flow_level == 0:
                    self.allow_simple_key = True
            else:
                return

    def _scan_line_break(self) -> str:
        reader = self.reader
        char = reader.peek()
        if char in "\r\n\x85" and char != NUL:
            reader.forward(2 if char == "\r" and reader.peek(1) == "\n" else 1)
            return "\n"
        if char in "\u2028\u2029":
            reader.forward()
            return char
        return ""
