"""Code points of a configuration value, with snakeyaml's line and column bookkeeping.

The scanner decides simple keys and indentation by line and column, so they must advance exactly as
Java's do (``\\r\\n`` is one line break, a BOM takes no column). Mirrors snakeyaml-engine's
``StreamReader`` (the text is already in memory, so there is no buffering).
"""

from __future__ import annotations

from flink_tm_memory.memory.flink_yaml.characters import NUL


class Reader:
    """``StreamReader``: code points with Java's line and column bookkeeping."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.index = 0
        self.line = 0
        self.column = 0

    def peek(self, offset: int = 0) -> str:
        position = self.index + offset
        return self.text[position] if position < len(self.text) else NUL

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
