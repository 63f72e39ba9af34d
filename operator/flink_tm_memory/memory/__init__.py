"""Flink's TaskManager memory model, reimplemented to the byte (pure, standard library only).

This layer knows nothing of Kubernetes: it takes a Flink configuration and a Flink release and
returns values (a layout, problems, notes, a trace). It does not log and does not raise for user errors.
"""

from __future__ import annotations

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
    "Fix",
    "FlinkVersion",
    "LocalExecution",
    "ManagedMemorySplit",
    "ManagedMemoryUseCase",
    "ManagedMemoryWeights",
    "MemoryLayout",
    "Note",
    "NoteCode",
    "NoteLevel",
    "Origin",
    "Problem",
    "Reason",
    "TaskManagerMemory",
    "UnsupportedVersionError",
    "derive_local_execution",
    "derive_managed_memory_weights",
    "derive_task_manager_memory",
    "parse_flink_version",
    "propose_fixes",
    "split_managed_memory",
]

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see memory/records.py)
if TYPE_CHECKING:
    from typing import Any

    from flink_tm_memory.memory.fixes import Fix, propose_fixes
    from flink_tm_memory.memory.local import LocalExecution, derive_local_execution
    from flink_tm_memory.memory.weights import (
        ManagedMemorySplit,
        ManagedMemoryUseCase,
        ManagedMemoryWeights,
        derive_managed_memory_weights,
        split_managed_memory,
    )

# Local execution, consumer weights and fixes load on first use: the one-shot TaskManager path never needs them.
_LAZY = {
    "Fix": "fixes",
    "propose_fixes": "fixes",
    "LocalExecution": "local",
    "derive_local_execution": "local",
    "ManagedMemorySplit": "weights",
    "ManagedMemoryUseCase": "weights",
    "ManagedMemoryWeights": "weights",
    "derive_managed_memory_weights": "weights",
    "split_managed_memory": "weights",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module  # noqa: PLC0415 - only on first use of a lazy name

        return getattr(import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
