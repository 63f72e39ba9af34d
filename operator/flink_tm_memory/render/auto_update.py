"""Whether ``updateMode`` Initial or Auto applies a recommendation now, and the floors it must respect.

The rules, in order (the first that holds back wins, and the status says which):

1. Only Initial and Auto apply anything; only a target within ``minProcess``/``maxProcess``.
2. Only from a fresh poll: while the JobManager cannot be read, the peaks may be stale.
3. At most one change per ``minChangeInterval``.
4. Only a material change: the layout in effect misses an observed peak plus the margin (a raise is
   always material), or the process size moves by at least ``changeThreshold``.

An OOM kill (``status.oomKills``, written by the OOMKilled attribution) adds floors, which the target
meets because they are part of its needs:

- within ``minChangeInterval`` after ``oomKills.lastTime`` nothing is lowered: every component's
  floor is its size in the layout in effect;
- when ``oomKills.fix`` is newer than the last automatic change, the layout its
  ``flinkConfiguration`` gives (over the layout in effect) is a floor for every component; a change
  made with that floor records the kill (``oomKillTime``), and the floor stays for later changes
  until a newer kill brings a newer fix (else the next recommendation would undo the fix).

``OomKills`` reads ``status.oomKills`` through its model (``OomKillsStatus``), once per poll; a
malformed one sets no floor and says why (``Floors.problem``), it never fails the poll.

An OOM kill's fix does not wait for metrics (``decide_oom_fix``): while the fix is pending (newer
than the last automatic change) and the usage rules apply nothing (the JobManager cannot be read,
the window is too short, no complete sample yet), the fix alone is applied: the smallest layout that
meets its floors, within ``minProcess``/``maxProcess``, at most once per ``minChangeInterval``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from pydantic import TypeAdapter, ValidationError

from flink_tm_memory.api.durations import format_duration
from flink_tm_memory.api.v1alpha1 import OomKillsStatus
from flink_tm_memory.memory.layout import MemoryLayout
from flink_tm_memory.memory.sizes import format_human
from flink_tm_memory.render.plan import derive_memory_plan
from flink_tm_memory.render.recommendation import (
    COMPONENTS,
    NotSizedError,
    Sized,
    UsageSettings,
    applied_options,
    effective_raw_spec,
    size_layout,
)

_TIME = TypeAdapter(datetime)


@dataclass(frozen=True, slots=True)
class OomKills:
    """What the OOMKilled attribution recorded: when the last kill was, and the fix standing."""

    last_time: datetime | None
    fix_options: dict[str, str]
    fix_resources: dict[str, Any] = field(default_factory=dict)
    """The fix's container changes (``spec.resources`` fields), when the spec sizes through them."""
    fix_time: datetime | None = None
    """When the kill whose fix stands was (a later kill of an older layout's pod keeps it)."""
    problem: str = ""
    """Why ``status.oomKills`` could not be read (empty: it could, or there is none)."""

    @property
    def has_fix(self) -> bool:
        return bool(self.fix_options or self.fix_resources)

    @classmethod
    def read(cls, status: Mapping[str, Any] | None) -> OomKills:
        """``status.oomKills`` through its model, parsed once; a malformed one is a problem, not a crash."""
        raw = (status or {}).get("oomKills")
        if raw is None:
            return cls(None, {})
        try:
            kills = OomKillsStatus.model_validate(raw)
        except ValidationError as error:
            return cls(None, {}, problem=f"status.oomKills cannot be read ({_first_error(error)})")
        fix = kills.fix
        if fix is None:
            return cls(kills.last_time, {})
        resources = fix.resources.to_manifest() if fix.resources is not None else {}
        fix_time = kills.fix_time or kills.last_time  # a status written before fixTime existed
        return cls(kills.last_time, dict(fix.flink_configuration), resources, fix_time=fix_time)


def _first_error(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"{where}: {first['msg']}" if where else str(first["msg"])


@dataclass(frozen=True, slots=True)
class Floors:
    """Needs the target must meet beyond the observed ones, why, and the OOM kill whose fix they hold."""

    needs: dict[str, int]
    why: str
    oom_kill_time: datetime | None = None
    """The kill whose fix the floors hold (None: they hold no fix)."""
    pending: bool = False
    """Whether that fix is newer than the last automatic change: it is yet to be applied."""
    problem: str = ""
    """Why ``status.oomKills`` set no floor although it is there (malformed)."""


def oom_floors(
    raw_spec: Mapping[str, Any],
    status: Mapping[str, Any] | None,
    current: MemoryLayout,
    settings: UsageSettings,
    now: datetime,
) -> Floors:
    """The floors an OOM kill sets (none without one)."""
    kills = OomKills.read(status)
    if kills.last_time is None:
        return Floors({}, "", problem=kills.problem)
    fix_time: datetime | None = None
    needs: dict[str, int] = {}
    reasons = []
    last_change = _last_change(status)
    pending = False
    carried = kills.fix_time is not None and _current_field(status, "oomKillTime") == kills.fix_time
    newer = kills.fix_time is not None and (last_change is None or kills.fix_time > last_change)
    if kills.has_fix and kills.fix_time is not None and (newer or carried):
        merged = _merged(effective_raw_spec(raw_spec, status), kills.fix_options, kills.fix_resources)
        fixed = derive_memory_plan(merged)
        if fixed.layout is not None:
            needs = {name: size for name, size in fixed.layout.components().items() if name in COMPONENTS}
            reasons.append(f"the OOM kill's fix at {kills.fix_time:%Y-%m-%dT%H:%M:%SZ}")
            fix_time = kills.fix_time
            pending = newer and not carried
    if now - kills.last_time < timedelta(seconds=settings.min_change_interval):
        for name, size in current.components().items():
            if name in COMPONENTS:
                needs[name] = max(needs.get(name, 0), size)
        reasons.append(
            f"nothing is lowered within {format_duration(settings.min_change_interval)} of the OOM kill at "
            f"{kills.last_time:%Y-%m-%dT%H:%M:%SZ}"
        )
    return Floors(needs, "; ".join(reasons), fix_time, pending)


def _merged(
    raw_spec: Mapping[str, Any], options: Mapping[str, str], resources: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The spec in effect with a fix's options (and container changes) set over its own."""
    spec = dict(raw_spec)
    configuration = {**(raw_spec.get("flinkConfiguration") or {}), **options}
    if "memory" in (resources or {}):  # the fix's container memory is its process size
        configuration.pop("taskmanager.memory.process.size", None)
    spec["flinkConfiguration"] = configuration
    merged_resources = {**(raw_spec.get("resources") or {}), **(resources or {})}
    if "taskmanager.memory.process.size" in options:
        merged_resources.pop("memory", None)
    if merged_resources or "resources" in raw_spec:
        spec["resources"] = merged_resources
    return spec


def _last_change(status: Mapping[str, Any] | None) -> datetime | None:
    return _current_field(status, "time")


def _current_field(status: Mapping[str, Any] | None, name: str) -> datetime | None:
    current = ((status or {}).get("autoUpdates") or {}).get("current") or {}
    try:
        return _TIME.validate_python(current[name]) if current.get(name) else None
    except ValidationError:
        return None


@dataclass(frozen=True, slots=True)
class Decision:
    apply: bool
    reason: str


def decide(
    *,
    target_options: Mapping[str, str] | None,
    target: MemoryLayout | None,
    needs: Mapping[str, int],
    current: MemoryLayout,
    status: Mapping[str, Any] | None,
    settings: UsageSettings,
    fresh: bool,
    now: datetime,
) -> Decision:
    """Whether to apply ``target`` (over the layout ``current`` in effect) now, and why (not)."""
    if target is None or target_options is None:
        return Decision(False, "no target within minProcess and maxProcess to apply")
    if applied_options(status) == dict(target_options):
        return Decision(False, "the target is already in effect")
    if not fresh:
        return Decision(False, "held: the last poll of the JobManager failed, the peaks may be stale")
    last = _last_change(status)
    if last is not None and now - last < timedelta(seconds=settings.min_change_interval):
        return Decision(
            False,
            f"held: the last automatic change was at {last:%Y-%m-%dT%H:%M:%SZ}, less than "
            f"{format_duration(settings.min_change_interval)} ago",
        )
    components = current.components()
    short = [name for name, need in needs.items() if components.get(name, 0) < need]
    before, after = current.total_process_bytes, target.total_process_bytes
    if short:
        return Decision(True, f"{', '.join(short)} below the observed peak plus the margin")
    change = Decimal(abs(after - before)) / Decimal(max(before, 1))
    if change < settings.change_threshold:
        return Decision(
            False,
            f"held: the process size would move by {change * 100:.1f}%, less than "
            f"{(settings.change_threshold * 100).normalize():f}%",
        )
    word = "raised" if after > before else "lowered"
    human = format_human(after).split(" (", 1)[0]
    return Decision(True, f"process size {word} to {human} ({change * 100:.1f}%) to fit the observed peaks")


@dataclass(frozen=True, slots=True)
class OomFixDecision:
    """Whether an OOM kill's fix is applied on its own now, the layout it gives, and why (not)."""

    target: Sized | None
    decision: Decision


def decide_oom_fix(
    *,
    raw_spec: Mapping[str, Any],
    floors: Floors,
    current: MemoryLayout,
    status: Mapping[str, Any] | None,
    settings: UsageSettings,
    now: datetime,
    usage: str,
) -> OomFixDecision | None:
    """An OOM kill's pending fix, applied without a recommendation from usage (None: no fix pending).

    ``usage`` is why the usage rules applied nothing (a failed poll, a window too short, ...). The
    target is the smallest layout over the user's options that meets every floor (the fix's layout,
    and within ``minChangeInterval`` of the kill the layout in effect), so nothing is lowered; it is
    held by ``maxProcess`` and by the interval since the last automatic change like any change, and
    raised to ``minProcess``. No freshness rule: the fix rests on the kill, not on the peaks.
    """
    if not floors.pending or floors.oom_kill_time is None:
        return None
    kill = f"{floors.oom_kill_time:%Y-%m-%dT%H:%M:%SZ}"
    try:
        target = size_layout(raw_spec, floors.needs, current)
        total = target.layout.total_process_bytes
        if settings.max_process is not None and total > settings.max_process:
            return OomFixDecision(
                None,
                Decision(
                    False,
                    f"the fix of the OOM kill at {kill} needs {_human(total)}, above maxProcess "
                    f"({_human(settings.max_process)}): not applied",
                ),
            )
        if settings.min_process is not None and total < settings.min_process:
            target = size_layout(raw_spec, floors.needs, current, settings.min_process)
    except NotSizedError as error:
        return OomFixDecision(
            None, Decision(False, f"the fix of the OOM kill at {kill} cannot be laid out: {error}")
        )
    if applied_options(status) == target.options:
        return OomFixDecision(
            None, Decision(False, f"the fix of the OOM kill at {kill} is already in effect")
        )
    last = _last_change(status)
    if last is not None and now - last < timedelta(seconds=settings.min_change_interval):
        return OomFixDecision(
            None,
            Decision(
                False,
                f"the fix of the OOM kill at {kill} held: the last automatic change was at "
                f"{last:%Y-%m-%dT%H:%M:%SZ}, less than {format_duration(settings.min_change_interval)} ago",
            ),
        )
    before, after = current.components(), target.layout.components()
    raised = [
        f"{name} {_human(before[name])} -> {_human(after[name])}"
        for name in COMPONENTS
        if after.get(name, 0) > before.get(name, 0)
    ]
    return OomFixDecision(
        target,
        Decision(
            True,
            f"the fix of the OOM kill at {kill} ({', '.join(raised) or 'the layout it gives'}), "
            f"applied without waiting for usage ({usage})",
        ),
    )


def _human(size: int) -> str:
    return format_human(size).split(" (", 1)[0]
