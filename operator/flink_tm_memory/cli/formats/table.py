"""The default output: a breakdown a person can read at a glance in a terminal.

Every component and total with Flink's human size, exact bytes, share of the process and a
proportional bar; then the JVM flags, CPU and slots; then notes and a compact explain trace. A
rejected configuration shows Flink's message first, then every independent problem with the keys to
change. Colour is decided by the caller (only on a TTY without ``NO_COLOR``).
"""

from __future__ import annotations

import os

from flink_tm_memory.cli.formats.common import (
    COMPONENT_LABELS,
    Group,
    Row,
    causes_below,
    fixes_for,
    memory_rows,
    share,
    short_size,
)
from flink_tm_memory.cli.inputs import ConfigInput
from flink_tm_memory.memory.engine import TaskManagerMemory
from flink_tm_memory.memory.explain import ComponentTrace, Note, NoteLevel
from flink_tm_memory.memory.failures import Problem
from flink_tm_memory.memory.javanum import java_double_to_string
from flink_tm_memory.memory.layout import MemoryLayout
from flink_tm_memory.memory.records import FrozenRecord

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see memory/records.py)
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from typing import Final, TextIO

    from flink_tm_memory.memory.fixes import Fix

_ANSI = {
    "bold": "1",
    "dim": "2",
    "red": "31",
    "yellow": "33",
    "cyan": "36",
    "green": "32",
    Group.TOTAL: "2",
    Group.HEAP: "33",
    Group.MANAGED: "32",
    Group.DIRECT: "34",
    Group.METASPACE: "35",
    Group.OVERHEAD: "90",
}
_EIGHTHS = " ▏▎▍▌▋▊▉"
_LABEL_WIDTH = 26


class Terminal(FrozenRecord):
    """What the output may use: colour, non-ASCII glyphs, and a width to wrap at (``None``: no wrapping)."""

    __slots__ = ("colour", "unicode", "width")

    def __init__(self, colour: bool = False, unicode: bool = True, width: int | None = None) -> None:
        self.colour: Final = colour
        self.unicode: Final = unicode
        self.width: Final = width

    @classmethod
    def for_stream(cls, out: TextIO) -> Terminal:
        """Colour only on a TTY and without ``NO_COLOR``; wrap at the TTY's width; ASCII if need be."""
        tty = out.isatty()
        return cls(
            colour=tty and "NO_COLOR" not in os.environ,
            unicode=_can_encode(out, "█▏▎▍▌▋▊▉✗•"),
            width=_columns(out) if tty else None,
        )

    def paint(self, text: str, style: str) -> str:
        return f"\x1b[{_ANSI[style]}m{text}\x1b[0m" if self.colour and text else text

    def bar(self, fraction: float, cells: int) -> str:
        if not self.unicode:
            return "#" * round(fraction * cells)
        eighths = round(fraction * cells * 8)
        return "█" * (eighths // 8) + (_EIGHTHS[eighths % 8] if eighths % 8 else "")

    def wrap(self, text: str, indent: str, hanging: str) -> list[str]:
        if self.width is None:
            return [indent + text]
        import textwrap  # only a terminal needs wrapping: not loaded when the output is piped or saved

        return textwrap.wrap(
            text, self.width, initial_indent=indent, subsequent_indent=hanging, break_on_hyphens=False
        ) or [indent]


def _can_encode(out: TextIO, text: str) -> bool:
    try:
        text.encode(out.encoding or "utf-8")
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def _columns(out: TextIO) -> int:
    """``COLUMNS``, else the terminal's width; a terminal that reports no size (0) counts as 100 wide."""
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(out.fileno()).columns
        except (OSError, ValueError):
            columns = 0
    return max(columns, 40) if columns > 0 else 100


def render_table(result: TaskManagerMemory, source: ConfigInput, terminal: Terminal) -> str:
    lines = [
        terminal.paint(f"Flink {result.version} TaskManager memory", "bold"),
        *terminal.wrap(f"Configuration: {source.describe()}", "", "  "),
        "",
    ]
    if result.layout is not None:
        lines += _breakdown(result, result.layout, terminal)
        lines += ["", *_jvm_and_cpu(result.layout, terminal)]
    else:
        lines += _rejection(result, terminal)
        lines += _fixes(fixes_for(result, source.entries), terminal)
    lines += _notes(result.notes, source.warnings, terminal)
    lines += _explain(result.trace, terminal)
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------- a derived layout


def _breakdown(result: TaskManagerMemory, layout: MemoryLayout, terminal: Terminal) -> list[str]:
    rows = memory_rows(layout)
    origins = {trace.component: trace.origin.value.lower() for trace in result.trace}
    size_width = max(len(short_size(row.size_bytes)) for row in rows)
    bytes_width = max(len(str(row.size_bytes)) for row in rows)
    fixed = _LABEL_WIDTH + size_width + bytes_width + 7 + 12 + 8
    cells = max(10, min(40, (terminal.width or 100) - fixed))
    header = f"{'':<{_LABEL_WIDTH}}  {'size':>{size_width}}  {'bytes':>{bytes_width}}   share  {'origin':<11}"
    lines = [terminal.paint(header.rstrip(), "dim")]
    for row in rows:
        fraction = share(row.size_bytes, layout.total_process_bytes)
        label = f"{'  ' * row.depth}{row.label}"
        text = (
            f"{label:<{_LABEL_WIDTH}}  {short_size(row.size_bytes):>{size_width}}  "
            f"{row.size_bytes:>{bytes_width}}  {fraction:>6.1%}  {origins.get(row.component or '', ''):<11}"
        )
        lines.append(
            _styled_row(row, text, terminal) + " " + terminal.paint(terminal.bar(fraction, cells), row.group)
        )
    return lines


def _styled_row(row: Row, text: str, terminal: Terminal) -> str:
    return terminal.paint(text, "bold") if row.depth == 0 else text


def _jvm_and_cpu(layout: MemoryLayout, terminal: Terminal) -> list[str]:
    lines = [
        f"{_field('JVM flags', terminal)} {layout.jvm_parameters()}",
        f"{_field('CPU cores', terminal)} {java_double_to_string(layout.cpu_cores)}",
        f"{_field('Task slots', terminal)} {layout.num_slots}",
    ]
    if layout.num_slots > 1:
        per_slot = ", ".join(
            f"{name} {short_size(size // layout.num_slots)}"
            for name, size in (
                ("task heap", layout.task_heap_bytes),
                ("task off-heap", layout.task_off_heap_bytes),
                ("managed", layout.managed_bytes),
                ("network", layout.network_bytes),
            )
        )
        lines.append(f"{_field('Per slot', terminal)} {per_slot}")
    return lines


def _field(label: str, terminal: Terminal) -> str:
    return terminal.paint(label.ljust(11), "bold")


# ---------------------------------------------------------------------- a rejected configuration


def _rejection(result: TaskManagerMemory, terminal: Terminal) -> list[str]:
    primary = result.primary_problem
    assert primary is not None
    mark = "✗" if terminal.unicode else "x"
    lines = [terminal.paint(f"{mark} Flink {result.version} rejects this configuration:", "red")]
    lines += _problem_lines(primary, terminal, first=primary.headline or primary.java_class, indent="  ")
    others = [problem for problem in result.problems if problem is not primary]
    if others:
        lines += [
            "",
            terminal.paint(
                f"{len(others)} more {'problem' if len(others) == 1 else 'problems'} "
                "(Flink reports one at a time, each once the previous one is fixed):",
                "bold",
            ),
        ]
        bullet = "•" if terminal.unicode else "-"
        for problem in others:
            lines += _problem_lines(
                problem, terminal, first=problem.message or problem.java_class, indent="  ", bullet=bullet
            )
    return lines


def _problem_lines(
    problem: Problem, terminal: Terminal, *, first: str, indent: str, bullet: str = ""
) -> list[str]:
    lead = f"{indent}{bullet} " if bullet else indent
    hanging = " " * len(lead)
    lines = terminal.wrap(first, lead, hanging)
    for cause in causes_below(problem, first):
        lines += terminal.wrap(f"caused by: {cause}", hanging + "  ", hanging + "    ")
    if problem.keys:
        keys = terminal.wrap(f"keys: {', '.join(problem.keys)}", hanging + "  ", hanging + "    ")
        lines += [terminal.paint(line, "cyan") for line in keys]
    return lines


def _fixes(fixes: Sequence[Fix], terminal: Terminal) -> list[str]:
    if not fixes:
        return []
    lines = [
        "",
        terminal.paint("How to fix (each alone makes Flink accept it; the first changes least):", "bold"),
    ]
    for number, fix in enumerate(fixes, 1):
        lead = f"  {number}. "
        lines += [terminal.paint(line, "green") for line in terminal.wrap(fix.summary, lead, " " * len(lead))]
    return lines


# ---------------------------------------------------------------------- notes and the explain trace


def _notes(notes: Sequence[Note], file_warnings: Iterable[str], terminal: Terminal) -> list[str]:
    entries = [("warning", warning) for warning in file_warnings]
    entries += [("info" if note.level is NoteLevel.INFO else "warning", note.message) for note in notes]
    if not entries:
        return []
    lines = ["", terminal.paint("Notes", "bold")]
    for level, message in entries:
        tag = terminal.paint(f"{level:<8}", "cyan" if level == "info" else "yellow")
        lines += terminal.wrap(message, f"  {tag} ", " " * 11)
    return lines


def _explain(trace: Sequence[ComponentTrace], terminal: Terminal) -> list[str]:
    if not trace:
        return []
    lines = ["", terminal.paint("Explain", "bold")]
    for step in trace:
        unmentioned = [key for key in step.keys if key not in step.rule]
        rule = step.rule + (f" ({', '.join(unmentioned)})" if unmentioned else "")
        label = f"{COMPONENT_LABELS.get(step.component, step.component):<21}"
        lines += terminal.wrap(rule, f"  {label} ", " " * 24)
    return lines
