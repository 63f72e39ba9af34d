"""From observed peaks to a recommended layout: needs, then the inverse sizing of ``spec.sizing``.

The peaks (``render.usage_window``) plus the margin become needs of Flink's components, and
``memory.sizing.size_for_needs`` (the one solver, also behind ``spec.sizing.needs``) finds the
smallest process size in whole MiB whose layout meets them, for the resource's Flink version. Each
component answers to what measures it:

- **Task heap**: ``Status.JVM.Memory.Heap.Used`` is framework and task heap together; the heap needs
  the peak plus the margin, the task heap that minus the framework heap.
- **Managed memory**: ``Status.Flink.Memory.Managed.Used`` plus the margin, pinned as
  ``taskmanager.memory.managed.size`` (unused managed memory is then given back; RocksDB reserves its
  whole share, so its peak is that share).
- **Task off-heap**: ``Status.JVM.Memory.Direct.MemoryUsed`` counts every direct buffer, and Flink's
  ``NetworkBufferPool`` allocates all of its buffers as direct memory when it starts (its constructor
  calls ``allocateUnpooledOffHeapMemory`` for each, in 1.17 as in 2.2); direct memory beyond the
  network memory and the framework off-heap is the job's, raised to the peak plus the margin.
- **Network**: kept as it is, pinned (``network.min`` = ``max``). What a job needs of network buffers
  follows from its topology and parallelism (too few and the job fails to start), not from use;
  ``Status.Shuffle.Netty.UsedMemory`` is reported but never lowers it.
- **JVM metaspace**: ``Status.JVM.Memory.Metaspace.Used`` plus the margin, raised when above the
  option, never lowered (a metaspace below what the JVM loaded is how the Flink autoscaler's memory
  tuning produced TaskManagers that could not start).
- Framework heap and off-heap and the JVM overhead are not measured: they keep what the options make
  of them (an OOM kill's fix raises the overhead: see floors).

``floors`` are needs from elsewhere (an OOM kill's fix, or the layout in effect while a component
must not be lowered); each need is the larger of the two. Lower bound: the peaks with no margin;
upper bound: twice the margin. Every layout is checked by deriving the spec with it, as the
reconciler will (``derive_memory_plan``): a recommendation Flink or the spec's own rules would refuse
is never made; if one cannot be made the state says why.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from flink_tm_memory.api.durations import format_duration, parse_duration, parse_percent
from flink_tm_memory.api.quantity import parse_memory_quantity
from flink_tm_memory.api.v1alpha1 import (
    ComponentMove,
    FlinkTaskManagerMemorySpec,
    Recommendations,
    RecommendationStatus,
    RecommendedLayout,
    UsagePeaks,
)
from flink_tm_memory.memory import options as opt
from flink_tm_memory.memory.layout import MemoryLayout
from flink_tm_memory.memory.meant import format_size
from flink_tm_memory.memory.sizes import MIB, format_human
from flink_tm_memory.memory.sizing import NEED_NAMES, UnmeetableNeedsError, size_for_needs
from flink_tm_memory.render.plan import derive_memory_plan

RECOMMENDED = "Recommended"
WINDOW_TOO_SHORT = "WindowTooShort"
NO_USAGE = "NoUsage"
UNMEETABLE = "Unmeetable"
INVALID_SPEC = "InvalidSpec"

DEFAULT_WINDOW = 86400
DEFAULT_POLL = 60
DEFAULT_MARGIN = Decimal("0.15")
DEFAULT_CHANGE_INTERVAL = 3600
DEFAULT_THRESHOLD = Decimal("0.10")

SIZE_KEYS = (opt.PROCESS_SIZE.key, opt.FLINK_SIZE.key, opt.LEGACY_HEAP_SIZE.key, opt.LEGACY_HEAP_MB.key)
"""Options that fix the TaskManager's size: a recommendation replaces them with its process size."""
COMPONENTS = NEED_NAMES
"""The components a recommendation sizes: every one a job can need (``memory.sizing``)."""


@dataclass(frozen=True, slots=True)
class UsageSettings:
    """``spec.recommendations`` read, with the defaults filled in."""

    window: int
    min_observation: int
    poll_interval: int
    margin: Decimal
    min_process: int | None
    max_process: int | None
    min_change_interval: int
    change_threshold: Decimal

    @classmethod
    def of(cls, given: Recommendations) -> UsageSettings:
        window = parse_duration(given.window) if given.window is not None else DEFAULT_WINDOW
        return cls(
            window=window,
            min_observation=parse_duration(given.min_observation)
            if given.min_observation is not None
            else window,
            poll_interval=parse_duration(given.poll_interval)
            if given.poll_interval is not None
            else DEFAULT_POLL,
            margin=parse_percent(given.margin) if given.margin is not None else DEFAULT_MARGIN,
            min_process=_bytes(given.min_process),
            max_process=_bytes(given.max_process),
            min_change_interval=parse_duration(given.min_change_interval)
            if given.min_change_interval is not None
            else DEFAULT_CHANGE_INTERVAL,
            change_threshold=parse_percent(given.change_threshold)
            if given.change_threshold is not None
            else DEFAULT_THRESHOLD,
        )


def _bytes(quantity: int | str | None) -> int | None:
    return parse_memory_quantity(quantity).rounded_up if quantity is not None else None


# ---------------------------------------------------------------------------------------- overlay


def with_options(raw_spec: Mapping[str, Any], options: Mapping[str, str]) -> dict[str, Any]:
    """``raw_spec`` with a recommendation's ``options`` in place of whatever sized the TaskManager.

    The size-fixing options, ``resources.memory`` and ``sizing.needs`` give way (they would
    contradict the recommended process size); every other option stays.
    """
    spec: dict[str, Any] = json.loads(json.dumps(dict(raw_spec)))
    configuration = {
        key: value for key, value in (spec.get("flinkConfiguration") or {}).items() if key not in SIZE_KEYS
    }
    configuration.update(options)
    spec["flinkConfiguration"] = configuration
    resources = dict(spec.get("resources") or {})
    resources.pop("memory", None)
    spec["resources"] = resources
    spec.pop("sizing", None)
    return spec


def applied_options(status: Mapping[str, Any] | None) -> dict[str, str] | None:
    """The options of the recommendation in effect (``status.autoUpdates.current.set``), if any."""
    current = ((status or {}).get("autoUpdates") or {}).get("current") or {}
    options = current.get("set")
    if not isinstance(options, Mapping) or not options:
        return None
    return {str(key): str(value) for key, value in options.items()}


def effective_raw_spec(raw_spec: Mapping[str, Any], status: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """The spec to derive and write: with Initial or Auto, the user's with the applied recommendation."""
    mode = raw_spec.get("updateMode")
    if mode not in ("Initial", "Auto"):
        return raw_spec
    options = applied_options(status)
    return with_options(raw_spec, options) if options is not None else raw_spec


# ---------------------------------------------------------------------------------------- needs


def _mib_up(size: int | Decimal) -> int:
    return math.ceil(Decimal(size) / MIB) * MIB


def observed_needs(peaks: UsagePeaks, margin: Decimal, layout: MemoryLayout) -> dict[str, int]:
    """Bytes of each measured component the peaks plus ``margin`` need, in whole MiB, rounded up."""
    factor = 1 + margin
    heap = _mib_up(peaks.heap * factor)
    off_heap = _mib_up(max(peaks.direct - layout.network_bytes, 0) * factor)
    return {
        "taskHeap": max(heap - layout.framework_heap_bytes, 0),
        "managed": _mib_up(peaks.managed * factor),
        "taskOffHeap": max(off_heap - layout.framework_off_heap_bytes, 0),
        "jvmMetaspace": _mib_up(peaks.metaspace * factor),
    }


@dataclass(frozen=True, slots=True)
class Sized:
    """One recommended layout: the options over the spec and Flink's layout with them."""

    options: dict[str, str]
    layout: MemoryLayout

    def status(self) -> RecommendedLayout:
        total = self.layout.total_process_bytes
        return RecommendedLayout.model_validate(
            {"process": format_human(total).split(" (", 1)[0], "processBytes": total, "set": self.options}
        )


class NotSizedError(Exception):
    """No layout meets the needs (the message says why)."""


def size_layout(
    raw_spec: Mapping[str, Any],
    needs: Mapping[str, int],
    current: MemoryLayout,
    process: int | None = None,
) -> Sized:
    """The smallest layout over the user's options meeting ``needs`` (or of ``process`` bytes, if given).

    The answer is derived as the reconciler would derive it; one it would refuse raises.
    """
    key = json.dumps(raw_spec, sort_keys=True, default=str)
    return _size_layout(key, tuple(sorted(needs.items())), current.network_bytes, process)


@lru_cache(maxsize=4096)
def _size_layout(
    raw_key: str, needs: tuple[tuple[str, int], ...], network: int, process: int | None
) -> Sized:
    # Cached: every poll of every resource asks again, and the answer changes only with a new peak.
    raw_spec = json.loads(raw_key)
    wanted = dict(needs)
    pins = {
        opt.MANAGED_SIZE.key: format_size(wanted.get("managed", 0)),
        opt.NETWORK_MIN.key: format_size(network),
        opt.NETWORK_MAX.key: format_size(network),
    }
    if "jvmOverhead" in wanted:
        # Only a floor asks for overhead (an OOM kill's fix; it has no metric): pinned to it, as the fix
        # pins it, rather than reached through the overhead fraction by a process size many times larger.
        overhead = format_size(wanted["jvmOverhead"])
        pins |= {opt.OVERHEAD_MIN.key: overhead, opt.OVERHEAD_MAX.key: overhead}
    base = derive_memory_plan(with_options(raw_spec, pins))
    if base.resolved is None:
        raise NotSizedError("the spec cannot be read")
    configuration = {key: value for key, value in base.resolved.configuration.items() if key not in SIZE_KEYS}
    try:
        answer = size_for_needs(configuration, wanted, base.resolved.version)
    except (UnmeetableNeedsError, ValueError) as error:
        raise NotSizedError(str(error)) from None
    options = {**pins, **answer.changes}
    if process is not None:
        options[opt.PROCESS_SIZE.key] = format_size(_mib_up(process))
    plan = derive_memory_plan(with_options(raw_spec, options))
    if plan.layout is None:
        first = plan.conflicts[0].message if plan.conflicts else "no layout"
        raise NotSizedError(f"Flink refuses the layout: {first}")
    components = plan.layout.components()
    short = [name for name, need in wanted.items() if components[name] < need]
    if short:
        raise NotSizedError(f"the layout misses the needs of {', '.join(short)}")
    return Sized(options, plan.layout)


# ---------------------------------------------------------------------------------------- recommendation


@dataclass(frozen=True, slots=True)
class Recommendation:
    """The status to show, and the layout Initial and Auto may apply (None: nothing to apply)."""

    status: RecommendationStatus
    target: Sized | None
    needs: dict[str, int]


def recommend(
    raw_spec: Mapping[str, Any],
    current: MemoryLayout | None,
    peaks: UsagePeaks | None,
    settings: UsageSettings,
    *,
    observed_since: datetime | None,
    now: datetime,
    floors: Mapping[str, int] | None = None,
    floor_why: str = "",
) -> Recommendation:
    """The recommendation for ``raw_spec`` (the user's spec) whose layout in effect is ``current``."""
    if current is None:
        return _none(INVALID_SPEC, "the spec has no valid layout to start from", observed_since)
    if peaks is None or observed_since is None:
        return _none(NO_USAGE, "no complete sample of the TaskManagers' memory metrics yet", observed_since)
    observed = int((now - observed_since).total_seconds())
    if observed < settings.min_observation:
        wait = format_duration(settings.min_observation - observed)
        return _none(
            WINDOW_TOO_SHORT,
            f"observed for {format_duration(max(observed, 0))} of the {format_duration(settings.min_observation)} "
            f"needed: recommending in {wait}",
            observed_since,
        )
    needs = observed_needs(peaks, settings.margin, current)
    for name, floor in (floors or {}).items():
        needs[name] = max(needs.get(name, 0), floor)
    try:
        uncapped = size_layout(raw_spec, needs, current)
        lower = size_layout(raw_spec, observed_needs(peaks, Decimal(0), current), current)
        upper = size_layout(raw_spec, observed_needs(peaks, settings.margin * 2, current), current)
    except NotSizedError as error:
        return _none(
            UNMEETABLE, f"no layout meets the observed peaks plus the margin: {error}", observed_since
        )
    target, bound_note = _bounded(raw_spec, needs, current, uncapped, settings)
    moves = _moves(
        current,
        target=(target or uncapped).layout,
        peaks=peaks,
        needs=needs,
        floors=floors or {},
        floor_why=floor_why,
    )
    message = (
        f"{format_human(uncapped.layout.total_process_bytes).split(' (', 1)[0]} meets the peaks of the last "
        f"{format_duration(min(observed, settings.window))} plus {_percent(settings.margin)}"
        + (f"; {bound_note}" if bound_note else "")
    )
    status = RecommendationStatus.model_validate(
        {
            "state": RECOMMENDED,
            "message": message,
            "observedSince": observed_since,
            "target": target.status() if target is not None else None,
            "uncappedTarget": uncapped.status(),
            "lowerBound": lower.status(),
            "upperBound": upper.status(),
            "components": moves,
        }
    )
    return Recommendation(status, target, needs)


def _bounded(
    raw_spec: Mapping[str, Any],
    needs: Mapping[str, int],
    current: MemoryLayout,
    uncapped: Sized,
    settings: UsageSettings,
) -> tuple[Sized | None, str]:
    total = uncapped.layout.total_process_bytes
    if settings.max_process is not None and total > settings.max_process:
        return None, f"above maxProcess ({format_human(settings.max_process).split(' (', 1)[0]}): not applied"
    if settings.min_process is not None and total < settings.min_process:
        try:
            return size_layout(raw_spec, needs, current, settings.min_process), "raised to minProcess"
        except NotSizedError as error:
            return None, f"minProcess cannot be laid out: {error}"
    return uncapped, ""


def _percent(fraction: Decimal) -> str:
    return f"{(fraction * 100).normalize():f}%"


_MEASURED = {
    "taskHeap": ("heap", "the JVM heap's peak use"),
    "managed": ("managed", "managed memory's peak use"),
    "taskOffHeap": ("direct", "direct memory's peak use beyond network and framework off-heap"),
    "jvmMetaspace": ("metaspace", "metaspace's peak use"),
    "network": ("network", ""),
}


def _moves(
    current: MemoryLayout,
    *,
    target: MemoryLayout,
    peaks: UsagePeaks,
    needs: Mapping[str, int],
    floors: Mapping[str, int],
    floor_why: str,
) -> list[ComponentMove]:
    before, after = current.components(), target.components()
    moves = []
    for name in COMPONENTS:
        measured = _MEASURED.get(name)
        observed = getattr(peaks, measured[0]) if measured is not None else None
        moves.append(
            ComponentMove(
                component=name,
                current_bytes=before[name],
                target_bytes=after[name],
                observed_bytes=observed,
                need_bytes=needs.get(name),
                why=_why(
                    name,
                    before[name],
                    after[name],
                    need=needs.get(name),
                    floor=floors.get(name),
                    floor_why=floor_why,
                ),
            )
        )
    return moves


def _why(name: str, before: int, after: int, *, need: int | None, floor: int | None, floor_why: str) -> str:
    direction = "raised to" if after > before else "lowered to" if after < before else "kept at"
    size = format_human(after).split(" (", 1)[0]
    if floor is not None and need is not None and floor >= need and floor > 0:
        return f"{direction} {size}: {floor_why or 'a floor'}"
    if name == "network":
        return f"{direction} {size}: network buffers follow the job's topology, not its use"
    if name == "jvmMetaspace" and need is not None:
        if after > need:
            return f"{direction} {size}: at least the observed use plus the margin, never lowered"
        return f"{direction} {size}: the observed use plus the margin"
    if name in _MEASURED and need is not None:
        return f"{direction} {size}: {_MEASURED[name][1]} plus the margin needs {format_human(need).split(' (', 1)[0]}"
    return f"{direction} {size}: not measured, as the options make it"


def _none(state: str, message: str, observed_since: datetime | None) -> Recommendation:
    status = RecommendationStatus(state=state, message=message, observed_since=observed_since)
    return Recommendation(status, None, {})


def in_effect(raw_spec: Mapping[str, Any], status: Mapping[str, Any] | None) -> MemoryLayout | None:
    """The layout the resource's spec (with the recommendation applied, in Initial or Auto) derives."""
    return derive_memory_plan(effective_raw_spec(raw_spec, status)).layout


def read_settings(raw_spec: Mapping[str, Any]) -> UsageSettings | None:
    """``spec.recommendations`` read, or None when absent or invalid (the reconciler reports why)."""
    try:
        spec = FlinkTaskManagerMemorySpec.model_validate(raw_spec)
    except ValueError:
        return None
    return UsageSettings.of(spec.recommendations) if spec.recommendations is not None else None
