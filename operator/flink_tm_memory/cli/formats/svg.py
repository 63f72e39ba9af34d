"""Flink's "detailed TaskManager memory model" diagram, drawn with this configuration's numbers.

The eight components are stacked top to bottom in the order of Flink's documentation picture, each
as tall as its share of the total process memory (parts too small to label are enlarged, and the
picture says so). Brackets on the left show the totals, brackets on the right the JVM's view and the
flag that bounds each part. The file is a standalone SVG: no scripts, fonts or external resources;
every block carries a tooltip with its exact byte count and how it was derived.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

from flink_tm_memory.cli.formats.common import causes_below, fixes_for, share, short_size
from flink_tm_memory.cli.inputs import ConfigInput
from flink_tm_memory.memory.engine import TaskManagerMemory
from flink_tm_memory.memory.explain import ComponentTrace
from flink_tm_memory.memory.javanum import java_double_to_string
from flink_tm_memory.memory.layout import MemoryLayout

WIDTH = 1100
_STACK_TOP = 118
_STACK_HEIGHT = 560
_LEFT_OUTER = 32
_LEFT_INNER = 236
_STACK_LEFT = 440
_STACK_WIDTH = 340
_RIGHT_INNER = _STACK_LEFT + _STACK_WIDTH + 22
_RIGHT_OUTER = _RIGHT_INNER + 252
_MIN_BLOCK = 28
_EMPTY_BLOCK = 18
_FONT = "-apple-system, 'Segoe UI', 'Helvetica Neue', Helvetica, Arial, sans-serif"
_MONO = "ui-monospace, 'SFMono-Regular', Menlo, Consolas, 'DejaVu Sans Mono', monospace"
_INK = "#1f2933"
_MUTED = "#616e7c"


@dataclass(frozen=True, slots=True)
class _Part:
    label: str
    component: str
    size_bytes: int
    fill: str
    purpose: str


@dataclass(frozen=True, slots=True)
class _Block:
    part: _Part
    top: float
    height: float


def render_svg(result: TaskManagerMemory, source: ConfigInput) -> str:
    if result.layout is None:
        return _rejection(result, source)
    layout = result.layout
    blocks = _stack(_parts(layout))
    height = _STACK_TOP + _STACK_HEIGHT + 96
    jvm_view, width = _right_brackets(layout, blocks)
    body = [
        *_header(result, layout, source),
        *_left_brackets(layout, blocks),
        *jvm_view,
        *[element for block in blocks for element in _block(block, layout, result.trace)],
        *_footer(layout, blocks, _STACK_TOP + _STACK_HEIGHT),
    ]
    title = f"Flink {result.version} TaskManager memory: {short_size(layout.total_process_bytes)} total process memory"
    return _document(title, width, height, body)


# ---------------------------------------------------------------------- geometry


def _parts(layout: MemoryLayout) -> list[_Part]:
    return [
        _Part(
            "Framework Heap", "frameworkHeap", layout.framework_heap_bytes, "#f2a65a", "heap for Flink itself"
        ),
        _Part(
            "Task Heap",
            "taskHeap",
            layout.task_heap_bytes,
            "#f7c77e",
            "heap for your operators and user code",
        ),
        _Part(
            "Managed Memory",
            "managed",
            layout.managed_bytes,
            "#8cc5a3",
            "native memory: RocksDB, sorting, hash tables, Python",
        ),
        _Part(
            "Framework Off-Heap",
            "frameworkOffHeap",
            layout.framework_off_heap_bytes,
            "#6fa8dc",
            "direct memory for Flink itself",
        ),
        _Part(
            "Task Off-Heap",
            "taskOffHeap",
            layout.task_off_heap_bytes,
            "#9fc5e8",
            "direct memory for your operators",
        ),
        _Part(
            "Network", "network", layout.network_bytes, "#4a86c8", "buffers for data exchange between tasks"
        ),
        _Part("JVM Metaspace", "jvmMetaspace", layout.jvm_metaspace_bytes, "#b4a7d6", "class metadata"),
        _Part(
            "JVM Overhead",
            "jvmOverhead",
            layout.jvm_overhead_bytes,
            "#c9cdd2",
            "thread stacks, code cache, GC and other native memory",
        ),
    ]


def _stack(parts: Sequence[_Part]) -> list[_Block]:
    """Heights proportional to size, except that no labelled block is shorter than its label."""
    floors = {part.component: _MIN_BLOCK if part.size_bytes else _EMPTY_BLOCK for part in parts}
    fixed: set[str] = {part.component for part in parts if not part.size_bytes}
    while True:
        free = [part for part in parts if part.component not in fixed]
        room = _STACK_HEIGHT - sum(floors[name] for name in fixed)
        total = sum(part.size_bytes for part in free)
        heights = {part.component: room * part.size_bytes / total for part in free} if total else {}
        too_small = {name for name, height in heights.items() if height < floors[name]}
        if not too_small:
            break
        fixed |= too_small
    top = float(_STACK_TOP)
    blocks = []
    for part in parts:
        height = heights.get(part.component, floors[part.component])
        blocks.append(_Block(part, top, height))
        top += height
    return blocks


def _enlarged(blocks: Sequence[_Block], layout: MemoryLayout) -> bool:
    return any(
        block.part.size_bytes
        and block.height > _STACK_HEIGHT * share(block.part.size_bytes, layout.total_process_bytes) + 0.5
        for block in blocks
    )


# ---------------------------------------------------------------------- drawing


def _cores(cores: float) -> str:
    """Whole cores as a count (``1``, ``4``), fractions as Flink prints them (``2.5``)."""
    return str(int(cores)) if cores.is_integer() else java_double_to_string(cores)


def _header(result: TaskManagerMemory, layout: MemoryLayout, source: ConfigInput) -> list[str]:
    slots = f"{layout.num_slots} task slot{'s' if layout.num_slots != 1 else ''}"
    cores = f"{_cores(layout.cpu_cores)} CPU core{'' if layout.cpu_cores == 1 else 's'}"
    configuration = _clip(f"Configuration: {source.describe()}", 150)
    return [
        _text(32, 44, f"Flink {result.version} TaskManager memory", size=24, weight="700"),
        _text(
            32,
            72,
            f"{short_size(layout.total_process_bytes)} total process memory ({layout.total_process_bytes} bytes)"
            f" · {slots} · {cores}",
            size=15,
        ),
        _text(32, 94, configuration, size=12, fill=_MUTED),
    ]


def _left_brackets(layout: MemoryLayout, blocks: Sequence[_Block]) -> list[str]:
    process = _Span("Total Process Memory", layout.total_process_bytes, None, blocks[0], blocks[-1])
    flink = _Span("Total Flink Memory", layout.total_flink_bytes, None, blocks[0], blocks[5])
    return [
        _bracket_line(_LEFT_OUTER, process, opening=1),
        *_label(_LEFT_OUTER + 14, process.top, process),
        _bracket_line(_LEFT_INNER, flink, opening=1),
        *_label(_LEFT_INNER + 14, flink.top, flink),
    ]


def _right_brackets(layout: MemoryLayout, blocks: Sequence[_Block]) -> tuple[list[str], int]:
    """The JVM's view of the stack, and the width the picture needs for it."""
    heap_flags = f"-Xmx{layout.jvm_heap_bytes} -Xms{layout.jvm_heap_bytes}"
    direct_flag = f"-XX:MaxDirectMemorySize={layout.jvm_direct_bytes}"
    metaspace_flag = f"-XX:MaxMetaspaceSize={layout.jvm_metaspace_bytes}"
    column = [
        _Span("JVM Heap", layout.jvm_heap_bytes, heap_flags, blocks[0], blocks[1]),
        _Span("JVM Direct Memory", layout.jvm_direct_bytes, direct_flag, blocks[3], blocks[5]),
        _Span("JVM Metaspace", layout.jvm_metaspace_bytes, metaspace_flag, blocks[6], blocks[6]),
    ]
    elements: list[str] = []
    next_free = 0.0
    for span in column:
        elements.append(_bracket_line(_RIGHT_INNER, span, opening=-1))
        label = _label(_RIGHT_INNER + 14, max(span.top, next_free), span)
        next_free = max(span.top, next_free) + _label_height(span)
        elements += label
    off_heap = _Span("Off-Heap Memory", layout.total_off_heap_bytes, None, blocks[2], blocks[5])
    elements.append(_bracket_line(_RIGHT_OUTER, off_heap, opening=-1))
    if blocks[2].height >= _label_height(off_heap) + 4:  # beside its line, in the rows of managed memory
        return elements + _label(_RIGHT_OUTER - 12, off_heap.top, off_heap, anchor="end"), WIDTH
    return elements + _label(_RIGHT_OUTER + 14, off_heap.top, off_heap), WIDTH + 170


@dataclass(frozen=True, slots=True)
class _Span:
    """A bracketed run of blocks: a total, or what one JVM flag bounds."""

    label: str
    size_bytes: int
    flag: str | None
    first: _Block
    last: _Block

    @property
    def top(self) -> float:
        return self.first.top + 2

    @property
    def bottom(self) -> float:
        return self.last.top + self.last.height - 2

    @property
    def compact(self) -> bool:
        return self.bottom - self.top < 60


def _bracket_line(x: float, span: _Span, *, opening: int) -> str:
    """A square bracket along ``span``; ``opening`` +1 faces right, -1 faces left (towards the blocks)."""
    tick = 8 * opening
    path = f"M{x + tick:.1f},{span.top:.1f} H{x:.1f} V{span.bottom:.1f} H{x + tick:.1f}"
    return f'<path d="{path}" fill="none" stroke="#52606d" stroke-width="1.5"/>'


def _label_height(span: _Span) -> float:
    if span.compact:
        return 34 if span.flag else 20
    return 72 if span.flag else 56


def _label(x: float, top: float, span: _Span, *, anchor: str = "start") -> list[str]:
    size = short_size(span.size_bytes)
    if span.compact:
        lines = [_text(x, top + 14, f"{span.label}  {size}", size=13, weight="700", anchor=anchor)]
        if span.flag:
            lines.append(_text(x, top + 29, span.flag, size=11, fill=_MUTED, family=_MONO, anchor=anchor))
        return lines
    lines = [
        _text(x, top + 16, span.label, size=14, weight="700", anchor=anchor),
        _text(x, top + 34, size, size=14, anchor=anchor),
        _text(x, top + 50, f"{span.size_bytes} bytes", size=11, fill=_MUTED, anchor=anchor),
    ]
    if span.flag:
        lines.append(_text(x, top + 66, span.flag, size=11, fill=_MUTED, family=_MONO, anchor=anchor))
    return lines


def _block(block: _Block, layout: MemoryLayout, trace: Sequence[ComponentTrace]) -> list[str]:
    part = block.part
    x, y, height = _STACK_LEFT, block.top, block.height
    how = next((step for step in trace if step.component == part.component), None)
    tooltip = f"{part.label}: {part.size_bytes} bytes, {part.purpose}" + (
        f". {how.origin.value}: {how.rule}" if how else ""
    )
    if not part.size_bytes:
        return [
            f"<g><title>{_escape(tooltip)}</title>",
            f'<rect x="{x}" y="{y + 2:.1f}" width="{_STACK_WIDTH}" height="{height - 4:.1f}" rx="3" '
            'fill="#ffffff" stroke="#9aa5b1" stroke-dasharray="4 3"/>',
            _text(x + 12, y + height / 2 + 4, f"{part.label}: 0 bytes", size=11, fill=_MUTED),
            "</g>",
        ]
    lines = 3 if height >= 66 else 2 if height >= 46 else 1
    first = y + height / 2 - (lines - 1) * 9 + 5
    percent = f"{share(part.size_bytes, layout.total_process_bytes):.1%}"
    elements = [
        f"<g><title>{_escape(tooltip)}</title>",
        f'<rect x="{x}" y="{y:.1f}" width="{_STACK_WIDTH}" height="{height:.1f}" fill="{part.fill}" '
        'stroke="#ffffff" stroke-width="2"/>',
        _text(x + 12, first, part.label, size=14, weight="700"),
        _text(
            x + _STACK_WIDTH - 12,
            first,
            short_size(part.size_bytes),
            size=14,
            anchor="end",
            suffix=f' <tspan fill="#3e4c59" font-size="12">· {percent}</tspan>',
        ),
    ]
    if lines >= 2:
        origin = f"{how.origin.value.lower()} · " if how else ""
        elements.append(
            _text(x + 12, first + 18, f"{origin}{part.size_bytes} bytes", size=11, fill="#323f4b")
        )
    if lines == 3:
        elements.append(_text(x + 12, first + 34, part.purpose, size=11, fill="#323f4b", style="italic"))
    return [*elements, "</g>"]


def _footer(layout: MemoryLayout, blocks: Sequence[_Block], stack_bottom: float) -> list[str]:
    note = "Heights are proportional to size"
    if _enlarged(blocks, layout):
        note += "; parts too small to label are drawn taller"
    return [
        _text(32, stack_bottom + 40, "JVM flags", size=12, weight="700"),
        _text(110, stack_bottom + 40, layout.jvm_parameters(), size=12, family=_MONO),
        _text(
            32,
            stack_bottom + 64,
            f"{note}. Sizes as Flink prints them; hover a block for its derivation.",
            size=11,
            fill=_MUTED,
        ),
    ]


def _rejection(result: TaskManagerMemory, source: ConfigInput) -> str:
    problems = result.problems
    body = [
        _text(
            32,
            44,
            f"Flink {result.version} rejects this TaskManager memory configuration",
            size=22,
            weight="700",
            fill="#b42318",
        ),
        _text(32, 68, _clip(f"Configuration: {source.describe()}", 150), size=12, fill=_MUTED),
    ]
    y = 104.0
    for number, problem in enumerate(problems, 1):
        message = problem.headline if problem.primary else (problem.message or problem.java_class)
        weight = "700" if problem.primary else "400"
        for index, line in enumerate(textwrap.wrap(message, 120) or [""]):
            body.append(
                _text(
                    32 if index == 0 else 52,
                    y,
                    f"{number}. {line}" if index == 0 else line,
                    size=13,
                    weight=weight,
                )
            )
            y += 19
        for cause in causes_below(problem, message):
            for index, line in enumerate(textwrap.wrap(f"caused by: {cause}", 124)):
                body.append(_text(52 if index == 0 else 72, y, line, size=12, fill=_MUTED))
                y += 17
        if problem.keys:
            body.append(
                _text(52, y, "keys: " + ", ".join(problem.keys), size=12, fill="#1d5fa8", family=_MONO)
            )
            y += 19
        y += 12
    fixes = fixes_for(result, source.entries)
    if fixes:
        body.append(_text(32, y + 8, "How to fix", size=16, weight="700", fill="#067647"))
        y += 34
        for number, fix in enumerate(fixes, 1):
            for index, line in enumerate(textwrap.wrap(fix.summary, 120) or [""]):
                text = f"{number}. {line}" if index == 0 else line
                body.append(_text(32 if index == 0 else 52, y, text, size=13, fill="#067647"))
                y += 19
            y += 4
    return _document(f"Flink {result.version} rejects this configuration", WIDTH, int(y + 20), body)


def _document(title: str, width: int, height: int, body: Sequence[str]) -> str:
    return "\n".join(
        [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" font-family="{_escape(_FONT)}">',
            f"<title>{_escape(title)}</title>",
            f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
            *body,
            "</svg>",
            "",
        ]
    )


def _text(
    x: float,
    y: float,
    content: str,
    *,
    size: int,
    weight: str = "400",
    fill: str = _INK,
    anchor: str = "start",
    family: str | None = None,
    style: str | None = None,
    suffix: str = "",
) -> str:
    """One line of text; ``suffix`` is trusted markup (a styled ``tspan``) appended after it."""
    font = f' font-family="{_escape(family)}"' if family else ""
    font += f' font-style="{style}"' if style else ""
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" font-weight="{weight}" fill="{fill}" '
        f'text-anchor="{anchor}"{font}>{_escape(content)}{suffix}</text>'
    )


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
