"""What ``BashJavaUtils GET_TM_RESOURCE_PARAMS`` prints, so the output can stand in for Flink's.

On success: Flink's own log lines of the derivation (fraction caps, ignored fractions, deprecated
keys, the 1.x legacy heap mapping) in log4j's ``%-5p %x - %m`` layout, the "Final TaskExecutor Memory
configuration" block, then the two ``BASH_JAVA_UTILS_EXEC_RESULT:`` lines the start scripts consume.
On failure: the same log lines, then the exception chain as the JVM prints it on stderr (without
stack frames). Not reproduced: the configuration-loading log lines, and the repetition of deprecation
warnings (Flink logs one per lookup).
"""

from __future__ import annotations

from flink_tm_memory.cli.formats.common import FLINK_LOGGED
from flink_tm_memory.memory.engine import TaskManagerMemory
from flink_tm_memory.memory.explain import Note, NoteCode, NoteLevel
from flink_tm_memory.memory.failures import Problem
from flink_tm_memory.memory.layout import MemoryLayout
from flink_tm_memory.memory.records import FrozenRecord
from flink_tm_memory.memory.sizes import format_human

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see memory/records.py)
if TYPE_CHECKING:
    from typing import Final

RESULT_PREFIX = "BASH_JAVA_UTILS_EXEC_RESULT:"
_LABEL_COLUMN = 33
# Flink looks up deprecated keys and maps the legacy heap before it derives anything.
_LOG_ORDER = {NoteCode.LEGACY_HEAP_MAPPED: 0, NoteCode.DEPRECATED_KEY: 1}


class FlinkOutput(FrozenRecord):
    """The two streams of the JVM: log and results on stdout, an uncaught exception on stderr."""

    __slots__ = ("stderr", "stdout")

    def __init__(self, stdout: str, stderr: str) -> None:
        self.stdout: Final = stdout
        self.stderr: Final = stderr


def render_flink_output(result: TaskManagerMemory) -> FlinkOutput:
    logs = [_log_line(note) for note in _flink_notes(result.notes)]
    if result.layout is None:
        assert result.primary_problem is not None
        return FlinkOutput(_text(logs), _text(exception_lines(result.primary_problem)))
    return FlinkOutput(_text([*logs, *_final_block(result.layout), *result_lines(result.layout)]), "")


def result_lines(layout: MemoryLayout) -> list[str]:
    return [RESULT_PREFIX + layout.jvm_parameters(), RESULT_PREFIX + layout.dynamic_configs()]


def exception_lines(problem: Problem) -> list[str]:
    """``Throwable.printStackTrace`` of the chain, frames left out."""
    lines = []
    for index, (java_class, message) in enumerate(zip(problem.classes, problem.chain, strict=True)):
        text = java_class if message is None else f"{java_class}: {message}"
        lines.append(('Exception in thread "main" ' if index == 0 else "Caused by: ") + text)
    return lines


def _flink_notes(notes: tuple[Note, ...]) -> list[Note]:
    logged = [note for note in notes if note.code in FLINK_LOGGED]
    return sorted(logged, key=lambda note: _LOG_ORDER.get(note.code, 2))


def _log_line(note: Note) -> str:
    level = "INFO" if note.level is NoteLevel.INFO else "WARN"
    return f"{level:<5} [] - {note.message}"


def _final_block(layout: MemoryLayout) -> list[str]:
    entries = (
        ("  Total Process Memory:", layout.total_process_bytes),
        ("    Total Flink Memory:", layout.total_flink_bytes),
        ("      Total JVM Heap Memory:", layout.jvm_heap_bytes),
        ("        Framework:", layout.framework_heap_bytes),
        ("        Task:", layout.task_heap_bytes),
        ("      Total Off-heap Memory:", layout.total_off_heap_bytes),
        ("        Managed:", layout.managed_bytes),
        ("        Total JVM Direct Memory:", layout.jvm_direct_bytes),
        ("          Framework:", layout.framework_off_heap_bytes),
        ("          Task:", layout.task_off_heap_bytes),
        ("          Network:", layout.network_bytes),
        ("    JVM Metaspace:", layout.jvm_metaspace_bytes),
        ("    JVM Overhead:", layout.jvm_overhead_bytes),
    )
    block = ["Final TaskExecutor Memory configuration:"]
    block += [f"{label:<{_LABEL_COLUMN}}{format_human(size)}" for label, size in entries]
    return [f"INFO  [] - {line}" for line in block]


def _text(lines: list[str]) -> str:
    return "".join(line + "\n" for line in lines)
