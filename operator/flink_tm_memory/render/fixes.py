"""The fixes of a rejected spec, in the spec's terms (``status.conflicts[].fixes``, denials, Events).

The engine (``memory/fixes.py``) proposes changes of Flink options. A spec writes most of them in
``flinkConfiguration``, but the process size may come from ``resources.memory``, a Kubernetes
quantity: a change of it is then said, and sized, the Kubernetes way (``raise spec.resources.memory
from 4Gi to 8463Mi``). A Flink value with a Kubernetes unit (``4Gi``) gets the hint that
``resources.memory`` takes it as it is. The spec's own conflicts (a Kubernetes field and a Flink option
that disagree, an unusable limit factor) are fixed by removing the Flink option.
"""

from __future__ import annotations

import re

from flink_tm_memory.api.resolve import ResolvedSpec, SpecProblem, flink_field
from flink_tm_memory.api.v1alpha1 import ConflictFix, FlinkTaskManagerMemorySpec
from flink_tm_memory.memory import options as opt
from flink_tm_memory.memory.configuration import java_string
from flink_tm_memory.memory.fixes import Fix, propose_fixes

MEMORY_FIELD = "spec.resources.memory"
_KUBERNETES_BINARY = re.compile(r"\s*[0-9]+\s*[KMGT]i\s*")
_FLINK_SIZE = re.compile(r"([0-9]+)([kmgt]?)b?")
_TO_KUBERNETES = {"k": "Ki", "m": "Mi", "g": "Gi", "t": "Ti", "": ""}


def render_fixes(spec: FlinkTaskManagerMemorySpec, resolved: ResolvedSpec) -> list[ConflictFix]:
    """The engine's fixes for the resolved configuration, each pointing at the spec fields to change."""
    return [
        _in_spec_terms(fix, spec, resolved) for fix in propose_fixes(resolved.configuration, resolved.version)
    ]


def render_changes_fix(
    changes: dict[str, str], summary: str, spec: FlinkTaskManagerMemorySpec, resolved: ResolvedSpec
) -> ConflictFix:
    """Options to set (a sizing answer, say) as a fix in the spec's terms."""
    return _in_spec_terms(Fix(tuple(changes.items()), (), summary), spec, resolved)


def _in_spec_terms(fix: Fix, spec: FlinkTaskManagerMemorySpec, resolved: ResolvedSpec) -> ConflictFix:
    keys = [key for key, _ in fix.set] + list(fix.unset)
    summary = fix.summary
    process = opt.PROCESS_SIZE.key
    if resolved.field_for(process) == MEMORY_FIELD:
        summary = _kubernetes_summary(summary, spec, resolved)
    elif process in dict(fix.set) and process in spec.flink_configuration:
        written = java_string(spec.flink_configuration[process])
        if _KUBERNETES_BINARY.fullmatch(written):
            summary += f"; or use {MEMORY_FIELD}: {written.strip()}"
    return ConflictFix.model_validate(
        {
            "set": dict(fix.set),
            "unset": list(fix.unset),
            "fields": list(dict.fromkeys(resolved.field_for(key) for key in keys)),
            "summary": summary,
        }
    )


def _kubernetes_summary(summary: str, spec: FlinkTaskManagerMemorySpec, resolved: ResolvedSpec) -> str:
    """The process size's part of a summary said of ``resources.memory``, in a Kubernetes quantity."""
    process = opt.PROCESS_SIZE.key
    folded = java_string(resolved.configuration[process])
    written = str(spec.resources.memory)
    summary = summary.replace(f"{process} from {folded} to ", f"{MEMORY_FIELD} from {written} to ")
    summary = re.sub(
        rf"({re.escape(MEMORY_FIELD)} from \S+ to )(\S+)",
        lambda match: match[1] + _quantity(match[2]),
        summary,
    )
    return summary.replace(process, MEMORY_FIELD)


def _quantity(flink_size: str) -> str:
    match = _FLINK_SIZE.fullmatch(flink_size)
    return f"{match[1]}{_TO_KUBERNETES[match[2]]}" if match else flink_size


def render_spec_problem_fixes(problem: SpecProblem) -> list[ConflictFix]:
    """A disagreement between a spec field and a Flink option: remove the option, the field decides."""
    options = [key for key in problem.keys if flink_field(key) in problem.fields]
    if len(options) != 1:
        return []
    key = options[0]
    others = [field for field in problem.fields if field != flink_field(key)]
    why = f"{others[0]} sets it" if others else "the limit is then the request (factor 1)"
    return [
        ConflictFix.model_validate(
            {"unset": [key], "fields": [flink_field(key)], "summary": f"remove {flink_field(key)}: {why}"}
        )
    ]
