"""Flink's TaskManager memory model, reimplemented to the byte (pure, standard library only).

This layer knows nothing of Kubernetes: it takes a Flink configuration and a Flink release and
returns values (a layout, problems, notes, a trace). It does not log and does not raise for user errors.
"""

from flink_tm_memory.memory.engine import TaskManagerMemory, derive_task_manager_memory
from flink_tm_memory.memory.explain import ComponentTrace, Note, NoteCode, NoteLevel, Origin
from flink_tm_memory.memory.failures import Problem, Reason
from flink_tm_memory.memory.layout import COMPONENT_NAMES, MemoryLayout
from flink_tm_memory.memory.versions import (
    DEFAULT_VERSION,
    SUPPORTED_VERSIONS,
    FlinkVersion,
    UnsupportedVersionError,
    parse_flink_version,
)

__all__ = [
    "COMPONENT_NAMES",
    "DEFAULT_VERSION",
    "SUPPORTED_VERSIONS",
    "ComponentTrace",
    "FlinkVersion",
    "MemoryLayout",
    "Note",
    "NoteCode",
    "NoteLevel",
    "Origin",
    "Problem",
    "Reason",
    "TaskManagerMemory",
    "UnsupportedVersionError",
    "derive_task_manager_memory",
    "parse_flink_version",
]
