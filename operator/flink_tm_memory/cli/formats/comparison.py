"""``derive --compare-version``: the same options under two releases, component by component, and why.

A table (sizes as Flink prints them, the change in bytes) followed by the reasons, or a ``comparison``
document for yaml/json that carries both layouts in bytes.
"""

from __future__ import annotations

from typing import Any

from flink_tm_memory.cli.formats.common import COMPONENT_LABELS, short_size
from flink_tm_memory.memory.comparison import ComponentChange, VersionComparison


def render_comparison_table(comparison: VersionComparison) -> str:
    old, new = comparison.before.version, comparison.after.version
    width = max(len(label) for label in COMPONENT_LABELS.values())
    lines = [
        f"The same options under Flink {old} and Flink {new}",
        "",
        f"{'':<{width}}  {old.name:>12}  {new.name:>12}  change",
    ]
    for change in comparison.components:
        lines.append(
            f"{COMPONENT_LABELS[change.name]:<{width}}  {_size(change.before):>12}  {_size(change.after):>12}  "
            f"{_delta(change)}".rstrip()
        )
    lines += ["", "Why:" if comparison.reasons else "Why: nothing either release reads differently."]
    lines += [f"  - {reason}" for reason in comparison.reasons]
    if comparison.same:
        lines.append(f"The layouts are the same to the byte: upgrading to {new} changes no memory size.")
    return "\n".join(lines) + "\n"


def comparison_document(comparison: VersionComparison) -> dict[str, Any]:
    return {
        "flinkVersion": comparison.after.version.name,
        "ok": comparison.after.ok,
        "same": comparison.same,
        "components": {
            change.name: {"before": change.before, "after": change.after, "change": _difference(change)}
            for change in comparison.components
        },
        "reasons": list(comparison.reasons),
        "problem": comparison.after.primary_problem.message if comparison.after.primary_problem else None,
    }


def _size(size: int | None) -> str:
    return "rejected" if size is None else short_size(size)


def _difference(change: ComponentChange) -> int | None:
    if change.before is None or change.after is None:
        return None
    return change.after - change.before


def _delta(change: ComponentChange) -> str:
    difference = _difference(change)
    if not difference:
        return ""
    sign = "+" if difference > 0 else "-"
    return f"{sign}{short_size(abs(difference))} ({sign}{abs(difference)} bytes)"
