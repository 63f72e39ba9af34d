"""The whole result as data (``--format json`` / ``yaml``), for scripts and for the operator's users.

Unlike the oracle schema of ``--jsonl`` (Flink's answer only), this carries everything the engine
knows: components in bytes and in Flink's human form, the derived JVM totals, both start strings,
every problem, the fixes of a rejected configuration, the notes, the explain trace and where the
configuration came from.
"""

from __future__ import annotations

import json

from flink_tm_memory.cli.formats.common import FLINK_LOGGED, fix_document, fixes_for
from flink_tm_memory.cli.inputs import ConfigInput
from flink_tm_memory.memory.configuration import ConfigValue
from flink_tm_memory.memory.engine import TaskManagerMemory
from flink_tm_memory.memory.failures import Problem
from flink_tm_memory.memory.layout import MemoryLayout
from flink_tm_memory.memory.oracle_format import json_number
from flink_tm_memory.memory.sizes import format_human

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see memory/records.py)
if TYPE_CHECKING:
    from typing import Any


def result_document(result: TaskManagerMemory, source: ConfigInput) -> dict[str, Any]:
    layout = result.layout
    return {
        "flinkVersion": result.version.name,
        "ok": result.ok,
        "configuration": _configuration(source),
        "components": _components(layout) if layout else None,
        "jvmParameters": layout.jvm_parameters() if layout else None,
        "dynamicConfigs": layout.dynamic_configs() if layout else None,
        "cpuCores": json_number(layout.cpu_cores) if layout else None,
        "numSlots": layout.num_slots if layout else None,
        "problems": [_problem(problem) for problem in result.problems],
        "fixes": [fix_document(fix) for fix in fixes_for(result, source.entries)],
        "notes": [
            {
                "level": note.level.value,
                "code": note.code.value,
                "source": "flink" if note.code in FLINK_LOGGED else "advice",
                "message": note.message,
                "keys": list(note.keys),
            }
            for note in result.notes
        ],
        "trace": [
            {
                "component": step.component,
                "origin": step.origin.value,
                "rule": step.rule,
                "keys": list(step.keys),
            }
            for step in result.trace
        ],
    }


def render_json(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def render_yaml(document: dict[str, Any]) -> str:
    import yaml  # only here: most runs never write YAML, and the import costs as much as a derivation

    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=1_000_000)


def _configuration(source: ConfigInput) -> dict[str, Any]:
    return {
        "shippedDefault": source.is_shipped_default,
        "file": source.file.path if source.file else None,
        "parser": source.file.parser.value if source.file else None,
        "dynamic": dict(source.dynamic),
        "entries": {key: _plain(value) for key, value in source.entries.items()},
        "warnings": list(source.warnings),
    }


def _plain(value: ConfigValue) -> ConfigValue:
    # A YAML .nan or .inf would make the JSON invalid; the oracle writes them as strings too.
    return json_number(value) if isinstance(value, float) else value


def _components(layout: MemoryLayout) -> dict[str, dict[str, Any]]:
    sizes = {
        **layout.components(),
        "jvmHeap": layout.jvm_heap_bytes,
        "jvmDirect": layout.jvm_direct_bytes,
        "totalOffHeap": layout.total_off_heap_bytes,
    }
    return {name: {"bytes": size, "human": format_human(size)} for name, size in sizes.items()}


def _problem(problem: Problem) -> dict[str, Any]:
    return {
        "reason": problem.reason.value,
        "primary": problem.primary,
        "message": problem.message,
        "chain": list(problem.chain),
        "classes": list(problem.classes),
        "keys": list(problem.keys),
    }
