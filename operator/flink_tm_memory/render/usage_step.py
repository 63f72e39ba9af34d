"""One poll of one resource, decided: the status the usage loop writes, its Events, and whether to reconcile.

Pure: the loop (``control.usage``) reads the resource and the JobManager and hands both here, with
the time. What happens:

1. The sample (or why there is none) becomes ``status.usage.lastPoll``. A JobManager of another
   Flink release than the resource's (``status.usage.lastPoll.reason: VersionMismatch``) is not
   sampled: its metrics and memory model are not the ones the layout is derived for.
2. A sample is folded into the window (``render.usage_window``); the window's peaks, with the
   margin, make the recommendation (``render.recommendation``), including the floors an OOM kill
   sets (``render.auto_update``).
3. With ``updateMode`` Initial or Auto, the recommendation's target is applied if the rules allow
   (``render.auto_update.decide``): ``status.autoUpdates.current`` names the options, the reconciler
   derives the spec with them, and an Event says why. The previous change goes to a bounded history.
   When they apply nothing (a failed poll, a window too short, no sample yet), an OOM kill's pending
   fix is applied on its own (``render.auto_update.decide_oom_fix``): it does not wait for metrics.
4. The status is written only when something beyond the poll's time and counts changed (the peaks,
   an outcome, the recommendation), or every ``STATUS_REFRESH`` seconds: a steady job costs the API
   server a write every five minutes, not one per poll.
5. An Event when the recommended process size moves by the change threshold or more (or a first
   recommendation appears), never on a poll that changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from flink_tm_memory.api.v1alpha1 import (
    MAX_AUTO_HISTORY,
    AutoUpdate,
    AutoUpdates,
    RecommendationStatus,
    UsagePeaks,
    UsagePoll,
    UsageStatus,
)
from flink_tm_memory.memory.layout import MemoryLayout
from flink_tm_memory.memory.sizes import format_human
from flink_tm_memory.memory.versions import UnsupportedVersionError, parse_flink_version
from flink_tm_memory.render.auto_update import Floors, decide, decide_oom_fix, oom_floors
from flink_tm_memory.render.events import NORMAL, WARNING, EventSpec
from flink_tm_memory.render.plan import clip, derive_memory_plan
from flink_tm_memory.render.recommendation import (
    RECOMMENDED,
    Recommendation,
    UsageSettings,
    effective_raw_spec,
    read_settings,
    recommend,
)
from flink_tm_memory.render.usage_window import add_sample, observed_since, prune, window_peaks

SAMPLED = "Sampled"
VERSION_MISMATCH = "VersionMismatch"
FIELDS = ("usage", "recommendation", "autoUpdates")
STATUS_REFRESH = 300
"""Seconds after which a poll writes the status even if nothing but its time and counts changed."""


@dataclass(frozen=True, slots=True)
class Sample:
    """One poll of a JobManager: the peaks by name (``heap``, ...) in bytes, or why there are none."""

    reason: str
    message: str
    peaks: dict[str, int] | None = None
    task_managers: int | None = None
    flink_version: str | None = None

    @property
    def ok(self) -> bool:
        return self.peaks is not None


@dataclass(frozen=True, slots=True)
class UsageStep:
    """What one poll changes: the status patch, the Events, and whether the reconciler must run."""

    patch: dict[str, Any]
    events: list[EventSpec] = field(default_factory=list)
    reconcile: bool = False
    settings: UsageSettings | None = None
    sampled: bool = False


def job_manager_url(raw_spec: Mapping[str, Any], namespace: str) -> str | None:
    """Where the resource's JobManager answers: its URL, or its Service's cluster-local name."""
    endpoint = (raw_spec.get("recommendations") or {}).get("jobManager") or {}
    if endpoint.get("url"):
        return str(endpoint["url"])
    if endpoint.get("service"):
        return f"http://{endpoint['service']}.{namespace}.svc:{endpoint.get('port') or 8081}"
    return None


def usage_step(body: Mapping[str, Any], sample: Sample, now: datetime) -> UsageStep:
    """The outcome of ``sample``, taken at ``now``, for the resource ``body`` (as read before the poll)."""
    raw_spec: Mapping[str, Any] = body.get("spec") or {}
    previous: Mapping[str, Any] = body.get("status") or {}
    settings = read_settings(raw_spec)
    if settings is None:
        return UsageStep({})
    plan = derive_memory_plan(effective_raw_spec(raw_spec, previous))
    version = plan.resolved.version if plan.resolved is not None else None
    reason, message = sample.reason, sample.message
    if sample.ok and version is not None and sample.flink_version is not None:
        mismatch = _version_mismatch(sample.flink_version, version.name)
        if mismatch is not None:
            reason, message = VERSION_MISMATCH, mismatch
    sampled = sample.ok and reason == SAMPLED
    usage = _previous_usage(previous)
    since: datetime | None
    if sampled:
        assert sample.peaks is not None
        buckets = add_sample(usage.buckets, UsagePeaks.model_validate(sample.peaks), now, settings.window)
        since = usage.since or now
    else:
        buckets = prune(usage.buckets, now, settings.window)
        since = usage.since
    if not buckets:
        since = None
    peaks = window_peaks(buckets)
    poll = UsagePoll(
        time=now,
        reason=reason,
        message=clip(message, 1024),
        task_managers=sample.task_managers,
        flink_version=clip(sample.flink_version, 64) if sample.flink_version else None,
    )
    new_usage = UsageStatus(since=since, last_poll=poll, buckets=buckets, peaks=peaks)
    current = plan.layout
    observed = observed_since(buckets, since, now, settings.window)
    floors = oom_floors(raw_spec, previous, current, settings, now) if current is not None else None
    recommendation = recommend(
        raw_spec,
        current,
        peaks,
        settings,
        observed_since=observed,
        now=now,
        floors=floors.needs if floors is not None else None,
        floor_why=floors.why if floors is not None else "",
    )
    desired: dict[str, Any] = {
        "usage": new_usage.to_manifest(),
        "recommendation": recommendation.status.to_manifest(),
    }
    events = _recommendation_events(previous.get("recommendation"), recommendation.status, settings)
    if not sampled and reason != (usage.last_poll.reason if usage.last_poll is not None else SAMPLED):
        events.append(EventSpec(WARNING, reason, f"Usage not sampled: {clip(message, 900)}"))
    reconcile = False
    if plan.update_mode.follows_usage and current is not None:
        updates, event = _auto_update(
            plan.update_mode.value,
            raw_spec,
            recommendation,
            current,
            previous,
            settings=settings,
            now=now,
            sampled=sampled,
            floors=floors,
            poll_failure=None if sampled else f"the last poll failed, {reason}: {clip(message, 200)}",
        )
        desired["autoUpdates"] = updates.to_manifest()
        if event is not None:
            events.append(event)
            reconcile = True
    if _only_routine(previous, desired, now):
        return UsageStep({}, events, reconcile, settings, sampled)
    patch = {name: value for name, value in desired.items() if previous.get(name) != value}
    return UsageStep(patch, events, reconcile, settings, sampled)


def _only_routine(previous: Mapping[str, Any], desired: Mapping[str, Any], now: datetime) -> bool:
    """Whether this poll changed only what every poll changes, and the status was refreshed lately.

    A poll that finds the same peaks, the same outcome and the same recommendation would otherwise
    write the status every time (its time, a sample count, a message that counts minutes): at 1 000
    resources polled every 30 s that is 30 writes a second to the API server for nothing.
    """
    try:
        last = UsageStatus.model_validate(previous.get("usage") or {}).last_poll
    except ValidationError:
        return False
    if last is None or (now - last.time).total_seconds() >= STATUS_REFRESH:
        return False
    return all(_steady(previous.get(name), name) == _steady(desired.get(name), name) for name in FIELDS)


def _steady(value: Any, name: str) -> Any:
    """``value`` without what changes on every poll: poll times, sample counts, messages that count time."""
    if not isinstance(value, Mapping):
        return value
    kept = dict(value)
    if name == "usage":
        kept["lastPoll"] = {k: v for k, v in (kept.get("lastPoll") or {}).items() if k != "time"}
        kept["buckets"] = [
            {k: v for k, v in bucket.items() if k != "samples"} for bucket in kept.get("buckets") or []
        ]
    elif name == "recommendation":
        kept.pop("message", None)
    return kept


def _auto_update(
    mode: str,
    raw_spec: Mapping[str, Any],
    recommendation: Recommendation,
    current: MemoryLayout,
    previous: Mapping[str, Any],
    *,
    settings: UsageSettings,
    now: datetime,
    sampled: bool,
    floors: Floors | None,
    poll_failure: str | None,
) -> tuple[AutoUpdates, EventSpec | None]:
    """``status.autoUpdates`` after this poll, and the Event of a change applied now (None: none).

    The recommendation from usage first; when it applies nothing, an OOM kill's pending fix alone.
    """
    target = recommendation.target
    decision = decide(
        target_options=target.options if target is not None else None,
        target=target.layout if target is not None else None,
        needs=recommendation.needs,
        current=current,
        status=previous,
        settings=settings,
        fresh=sampled,
        now=now,
    )
    oom_kill_time = floors.oom_kill_time if floors is not None else None
    if not decision.apply and floors is not None:
        usage = poll_failure or (
            decision.reason if target is not None else recommendation.status.message or decision.reason
        )
        oom = decide_oom_fix(
            raw_spec=raw_spec,
            floors=floors,
            current=current,
            status=previous,
            settings=settings,
            now=now,
            usage=clip(usage, 300),
        )
        if oom is not None:
            target, decision = oom.target, oom.decision
    reason = decision.reason
    if floors is not None and floors.problem:
        reason = f"{reason}; {floors.problem}: no OOM floor"
    updates = _previous_updates(previous)
    if not decision.apply or target is None:
        return AutoUpdates(current=updates.current, history=updates.history, decision=reason), None
    change = AutoUpdate.model_validate(
        {
            "time": now,
            "reason": reason,
            "fromProcessBytes": current.total_process_bytes,
            "processBytes": target.layout.total_process_bytes,
            "set": target.options,
            "oomKillTime": oom_kill_time,
        }
    )
    history = [updates.current, *updates.history] if updates.current is not None else updates.history
    before = format_human(current.total_process_bytes).split(" (", 1)[0]
    after = format_human(target.layout.total_process_bytes).split(" (", 1)[0]
    event = EventSpec(
        NORMAL, "AutoUpdated", clip(f"updateMode {mode}: process memory {before} -> {after}: {reason}", 900)
    )
    return AutoUpdates(current=change, history=history[:MAX_AUTO_HISTORY], decision=reason), event


def _version_mismatch(reported: str, expected: str) -> str | None:
    try:
        running = parse_flink_version(reported).name
    except UnsupportedVersionError:
        return f"the JobManager runs Flink {clip(reported, 64)!r}, not {expected} as the resource says"
    if running != expected:
        return f"the JobManager runs Flink {running}, not {expected} as the resource says: not sampled"
    return None


def _previous_usage(status: Mapping[str, Any]) -> UsageStatus:
    try:
        return UsageStatus.model_validate(status.get("usage") or {})
    except ValidationError:
        return UsageStatus()  # a status edited by hand: the window starts again


def _previous_updates(status: Mapping[str, Any]) -> AutoUpdates:
    try:
        return AutoUpdates.model_validate(status.get("autoUpdates") or {})
    except ValidationError:
        return AutoUpdates()


def _recommendation_events(
    previous: Any, current: RecommendationStatus, settings: UsageSettings
) -> list[EventSpec]:
    if current.state != RECOMMENDED or current.uncapped_target is None:
        return []
    after = current.uncapped_target.process_bytes
    before: int | None = None
    if isinstance(previous, Mapping) and previous.get("state") == RECOMMENDED:
        uncapped = previous.get("uncappedTarget") or {}
        before = uncapped.get("processBytes") if isinstance(uncapped.get("processBytes"), int) else None
    if before is not None and Decimal(abs(after - before)) < settings.change_threshold * max(before, 1):
        return []
    return [EventSpec(NORMAL, "Recommended", clip(current.message, 900))]
