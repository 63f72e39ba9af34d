"""The tokens the scanner hands the parser.

One dataclass stands for all of snakeyaml-engine's ``Token`` subclasses (``ScalarToken``,
``TagToken``, ``DirectiveToken``, ...), told apart by ``kind``. It lives on its own because the scanner,
its two scanning mixins and the parser all use it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class Token:
    kind: str
    value: str = ""
    plain: bool = False
    style: str = ""
    handle: str | None = None
    directive: tuple[str, ...] = ()
