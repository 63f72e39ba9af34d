"""The character classes every stage tests against, and what a document may contain at all.

Shared by the reader, both halves of the scanner, the loader and the emitter, so it lives on its own.
Mirrors snakeyaml-engine's ``CharConstants`` (the ``NULL_BL_T_LINEBR`` family; ``NUL`` stands for the
``'\\0'`` snakeyaml's reader returns past the end) and ``StreamReader.isPrintable``.
"""

from __future__ import annotations

NUL = "\0"
BLANK_OR_BREAK = "\t \0\r\n"  # CharConstants.NULL_BL_T_LINEBR
SPACE_OR_BREAK = " \0\r\n"  # CharConstants.NULL_BL_LINEBR
NUL_OR_BREAK = "\0\r\n"


def is_printable(code_point: int) -> bool:
    """snakeyaml's ``StreamReader.isPrintable``: what a YAML document may contain at all."""
    return (
        0x20 <= code_point <= 0x7E
        or code_point in (0x9, 0xA, 0xD, 0x85)
        or 0xA0 <= code_point <= 0xD7FF
        or 0xE000 <= code_point <= 0xFFFD
        or 0x10000 <= code_point <= 0x10FFFF
    )
