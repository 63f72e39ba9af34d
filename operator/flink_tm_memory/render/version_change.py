"""What an upgrade of ``spec.flinkVersion`` changes in the layout, said before the new layout is written.

Upgrading Flink is the moment a TaskManager's memory moves without anyone touching a memory option:
a legacy key Flink 2.0 no longer reads, ``config.yaml``'s standard YAML reading a value differently,
a configuration the new release refuses. When a spec differs from the last applied one
(``render.metadata.AppliedSpec``) only in ``flinkVersion``, and the two name different releases, the
two layouts are compared component by component with the reasons ``memory.comparison`` finds, as
``derive --compare-version`` shows them. The result is ``status.lastVersionChange`` and one Event
(``FlinkVersionChanged``: Normal, or Warning when the new release refuses the options), rendered in
the same reconciliation that writes the new layout, so the Event precedes the rollout it causes.

The record stays until the next version change: it is the answer to "what did the last upgrade do?".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from flink_tm_memory.api.v1alpha1 import VersionChange, VersionComponentChange
from flink_tm_memory.memory.comparison import VersionComparison, compare_versions
from flink_tm_memory.memory.sizes import format_human
from flink_tm_memory.render.metadata import AppliedSpec
from flink_tm_memory.render.plan import MemoryPlan, derive_memory_plan

VERSION_FIELD = "flinkVersion"
STATUS_FIELD = "lastVersionChange"
EVENT_REASON = "FlinkVersionChanged"


def render_version_change(
    current: MemoryPlan,
    raw_spec: Mapping[str, Any],
    applied: AppliedSpec | None,
    generation: int,
    previous_status: Mapping[str, Any],
) -> VersionChange | None:
    """The version change ``raw_spec`` makes to the applied spec, else the one recorded before (if any)."""
    kept = _recorded(previous_status)
    if applied is None or applied.generation >= generation or current.resolved is None:
        return kept
    if _without_version(applied.spec) != _without_version(raw_spec):
        return kept
    before = derive_memory_plan(applied.spec).resolved
    if before is None or before.version == current.resolved.version:
        return kept
    comparison = compare_versions(
        before.configuration,
        before.version,
        current.resolved.version,
        after_config=current.resolved.configuration,
    )
    return _change(comparison, before.version.name, current.resolved.version.name, generation)


def _change(comparison: VersionComparison, old: str, new: str, generation: int) -> VersionChange:
    changes = [
        VersionComponentChange(
            component=change.name,
            before=change.before,
            after=change.after,
            summary=f"{_short(change.before)} -> {_short(change.after)}",
        )
        for change in comparison.components
        if change.changed
    ]
    return VersionChange(
        from_version=old,
        to_version=new,
        generation=generation,
        same=comparison.same,
        changes=changes,
        reasons=list(comparison.reasons),
        message=_message(comparison, old, new, changes),
    )


def _message(comparison: VersionComparison, old: str, new: str, changes: list[VersionComponentChange]) -> str:
    head = f"Flink {old} -> {new}"
    if not comparison.after.ok:
        return (
            f"{head}: {comparison.reasons[-1]}."
            if comparison.reasons
            else f"{head}: the options are refused."
        )
    if comparison.same:
        return f"{head}: the layout stays the same to the byte."
    moved = ", ".join(f"{change.component} {change.summary}" for change in changes)
    count = f"{len(changes)} component{'s' if len(changes) != 1 else ''}"
    why = f"; why: {'; '.join(comparison.reasons)}" if comparison.reasons else ""
    return f"{head} changes {count}: {moved}{why}."


def _short(size: int | None) -> str:
    return "refused" if size is None else format_human(size).split(" (", 1)[0]


def _without_version(spec: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in spec.items() if key != VERSION_FIELD}


def _recorded(previous_status: Mapping[str, Any]) -> VersionChange | None:
    recorded = previous_status.get(STATUS_FIELD)
    if not isinstance(recorded, Mapping):
        return None
    try:
        return VersionChange.model_validate(recorded)
    except ValidationError:
        return None  # edited by hand into something unreadable: dropped, the next change writes anew
