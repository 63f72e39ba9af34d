"""What the human-readable formats share: Flink's memory model as a tree of rows, and short sizes.

The tree is the one of Flink's "detailed TaskManager memory model" and of BashJavaUtils' "Final
TaskExecutor Memory configuration" log: total process memory holds total Flink memory (JVM heap:
framework and task heap; off-heap: managed and JVM direct: framework off-heap, task off-heap,
network), JVM metaspace and JVM overhead.
"""

from __future__ import annotations

from flink_tm_memory.memory.constants import Named
from flink_tm_memory.memory.explain import NoteCode
from flink_tm_memory.memory.failures import Problem
from flink_tm_memory.memory.layout import MemoryLayout
from flink_tm_memory.memory.records import FrozenRecord
from flink_tm_memory.memory.sizes import format_human

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see memory/records.py)
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import ClassVar, Final

    from flink_tm_memory.memory.configuration import ConfigValue
    from flink_tm_memory.memory.engine import TaskManagerMemory
    from flink_tm_memory.memory.fixes import Fix


class Group(Named):
    """The kind of memory a row is, which decides its colour."""

    TOTAL: ClassVar[Group]
    HEAP: ClassVar[Group]
    MANAGED: ClassVar[Group]
    DIRECT: ClassVar[Group]
    METASPACE: ClassVar[Group]
    OVERHEAD: ClassVar[Group]


Group.define_all(
    TOTAL="total", HEAP="heap", MANAGED="managed", DIRECT="direct", METASPACE="metaspace", OVERHEAD="overhead"
)


class Row(FrozenRecord):
    """One line of the memory tree; ``component`` names it in the trace, if it is one of Flink's ten."""

    __slots__ = ("component", "depth", "group", "label", "size_bytes")

    def __init__(
        self, label: str, depth: int, size_bytes: int, group: Group, component: str | None = None
    ) -> None:
        self.label: Final = label
        self.depth: Final = depth
        self.size_bytes: Final = size_bytes
        self.group: Final = group
        self.component: Final = component

    @property
    def is_leaf(self) -> bool:
        return self.group is not Group.TOTAL


def memory_rows(layout: MemoryLayout) -> list[Row]:
    """The tree in Flink's log order, totals before their parts."""
    return [
        Row("Total Process Memory", 0, layout.total_process_bytes, Group.TOTAL, "totalProcess"),
        Row("Total Flink Memory", 1, layout.total_flink_bytes, Group.TOTAL, "totalFlink"),
        Row("JVM Heap", 2, layout.jvm_heap_bytes, Group.TOTAL),
        Row("Framework Heap", 3, layout.framework_heap_bytes, Group.HEAP, "frameworkHeap"),
        Row("Task Heap", 3, layout.task_heap_bytes, Group.HEAP, "taskHeap"),
        Row("Off-Heap", 2, layout.total_off_heap_bytes, Group.TOTAL),
        Row("Managed", 3, layout.managed_bytes, Group.MANAGED, "managed"),
        Row("JVM Direct", 3, layout.jvm_direct_bytes, Group.TOTAL),
        Row("Framework Off-Heap", 4, layout.framework_off_heap_bytes, Group.DIRECT, "frameworkOffHeap"),
        Row("Task Off-Heap", 4, layout.task_off_heap_bytes, Group.DIRECT, "taskOffHeap"),
        Row("Network", 4, layout.network_bytes, Group.DIRECT, "network"),
        Row("JVM Metaspace", 1, layout.jvm_metaspace_bytes, Group.METASPACE, "jvmMetaspace"),
        Row("JVM Overhead", 1, layout.jvm_overhead_bytes, Group.OVERHEAD, "jvmOverhead"),
    ]


COMPONENT_LABELS: dict[str, str] = {
    "frameworkHeap": "Framework Heap",
    "taskHeap": "Task Heap",
    "frameworkOffHeap": "Framework Off-Heap",
    "taskOffHeap": "Task Off-Heap",
    "network": "Network",
    "managed": "Managed",
    "jvmMetaspace": "JVM Metaspace",
    "jvmOverhead": "JVM Overhead",
    "totalFlink": "Total Flink Memory",
    "totalProcess": "Total Process Memory",
}
"""Human names of Flink's component names (``taskHeap`` -> ``Task Heap``)."""

FLINK_LOGGED = frozenset(
    {
        NoteCode.CAPPED_TO_MIN,
        NoteCode.CAPPED_TO_MAX,
        NoteCode.NETWORK_FRACTION_IGNORED,
        NoteCode.OVERHEAD_FRACTION_IGNORED,
        NoteCode.DEPRECATED_KEY,
        NoteCode.LEGACY_HEAP_MAPPED,
    }
)
"""Notes that are Flink's own log lines; the others are this tool's advice."""


def short_size(size_bytes: int) -> str:
    """Flink's human-readable size without the exact count: ``1.688gb``, ``0 bytes``."""
    return format_human(size_bytes).split(" (", 1)[0]


def share(part_bytes: int, whole_bytes: int) -> float:
    return part_bytes / whole_bytes if whole_bytes else 0.0


def causes_below(problem: Problem, shown: str) -> list[str]:
    """The chain's messages below the one ``shown``, leaving out those that only repeat the one above.

    Flink's outermost message repeats its cause after a prefix ("TaskManager memory configuration
    failed: ..."), and a message-less throwable is named by its class.
    """
    chain = [
        message if message is not None else java_class
        for java_class, message in zip(problem.classes, problem.chain, strict=True)
    ]
    start = chain.index(shown) + 1 if shown in chain else 1
    causes: list[str] = []
    previous = shown
    for text in chain[start:]:
        if not previous.endswith(text):
            causes.append(text)
        previous = text
    return causes


def fixes_for(result: TaskManagerMemory, entries: Mapping[str, ConfigValue]) -> tuple[Fix, ...]:
    """The fixes of a rejected configuration (none for an accepted one), searched only when needed."""
    if result.ok:
        return ()
    from flink_tm_memory.memory.fixes import propose_fixes

    return propose_fixes(entries, result.version)


def fix_document(fix: Fix) -> dict[str, object]:
    """A fix as ``derive --jsonl`` and ``--format json`` write it: keys and values as strings."""
    return {"set": dict(fix.set), "unset": list(fix.unset), "summary": fix.summary}
