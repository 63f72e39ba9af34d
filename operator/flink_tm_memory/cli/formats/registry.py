"""The output formats of ``derive``, one entry each: the ``--format`` choices are this table's keys.

Each writer imports its renderer when called, so the one-shot command pays only for the format it
writes. A format exists only as an entry here: there is no list of names to keep in step with a chain
of branches (where a name without its branch once printed SVG).
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see memory/records.py)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import TextIO

    from flink_tm_memory.cli.inputs import ConfigInput
    from flink_tm_memory.memory.engine import TaskManagerMemory

    Writer = Callable[[TaskManagerMemory, ConfigInput, TextIO], None]


def _table(result: TaskManagerMemory, source: ConfigInput, out: TextIO) -> None:
    from flink_tm_memory.cli.formats.table import Terminal, render_table

    out.write(render_table(result, source, Terminal.for_stream(out)))


def _structured(as_json: bool) -> Writer:
    def write(result: TaskManagerMemory, source: ConfigInput, out: TextIO) -> None:
        from flink_tm_memory.cli.formats.structured import render_json, render_yaml, result_document

        document = result_document(result, source)
        out.write(render_json(document) if as_json else render_yaml(document))

    return write


def _flink(result: TaskManagerMemory, source: ConfigInput, out: TextIO) -> None:
    from flink_tm_memory.cli.formats.flink_log import render_flink_output

    flink = render_flink_output(result)
    out.write(flink.stdout)
    out.flush()
    sys.stderr.write(flink.stderr)


def _svg(result: TaskManagerMemory, source: ConfigInput, out: TextIO) -> None:
    from flink_tm_memory.cli.formats.svg import render_svg

    out.write(render_svg(result, source))


DERIVE_FORMATS: dict[str, Writer] = {
    "table": _table,
    "yaml": _structured(as_json=False),
    "json": _structured(as_json=True),
    "flink": _flink,
    "svg": _svg,
}
"""``--format`` name -> writer, in the order ``--help`` lists them; ``table`` is the default."""
