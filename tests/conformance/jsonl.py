"""Reading JSON Lines files of cases and vectors.

Lines end at ``\\n`` only: cases carry characters such as U+0085 or U+2028 on purpose, which
``str.splitlines`` would take for line ends.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def parse_jsonl(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.split("\n") if line.strip()]


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return parse_jsonl(path.read_text(encoding="utf-8"))
