"""Results in the flink-oracle's JSON schema, so that our answers diff directly against Flink's.

Used by the conformance tests and by ``flink-tm-memory derive --jsonl``. The schema is the one the
oracle prints (``ok``, ``bytes``, ``cpuCores``, ``numSlots``, ``jvmParams``, ``dynamicConfigs``, or
``error`` with ``class``, ``message``, ``chain`` and ``classes``).
"""

from __future__ import annotations

import math

from flink_tm_memory.memory.engine import TaskManagerMemory
from flink_tm_memory.memory.failures import Problem

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see memory/records.py)
if TYPE_CHECKING:
    from typing import Any


def json_number(value: float) -> float | str:
    """Doubles as the oracle writes them: NaN and the infinities as strings."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def error_output(problem: Problem) -> dict[str, Any]:
    return {
        "ok": False,
        "error": {
            "class": problem.java_class,
            "message": problem.message,
            "chain": list(problem.chain),
            "classes": list(problem.classes),
        },
    }


def task_manager_output(result: TaskManagerMemory) -> dict[str, Any]:
    """One tm-mode result line (without ``id``)."""
    if result.layout is None:
        assert result.primary_problem is not None
        return error_output(result.primary_problem)
    layout = result.layout
    return {
        "ok": True,
        "bytes": layout.components(),
        "cpuCores": json_number(layout.cpu_cores),
        "numSlots": layout.num_slots,
        "jvmParams": layout.jvm_parameters(),
        "dynamicConfigs": layout.dynamic_configs(),
    }
