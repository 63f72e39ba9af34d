"""Reconciling one FlinkTaskManagerMemory: parse, derive, render, apply, then status, Events and logs.

The same reconciliation serves every trigger (created, updated, resumed after a restart, the drift
loop): it is idempotent, so running it when nothing changed writes nothing at all, neither to the
cluster nor to the status.

A spec with conflicts is never written. The layout kept (and repaired, should someone edit the
ConfigMap) is then the one of the last applied spec, which is recorded in an annotation of the
resource before a valid spec's first write (a write whose answer is lost may have landed, and the
operator may be killed between its writes and its status); the status keeps describing that layout and says which
generation it comes from. With ``updateMode: Off`` nothing is written; the status is the
recommendation.

The status is written as a merge patch of only the fields that changed, to the status subresource:
by kopf (``patch.status``) after a change handler, which returns nothing (kopf would store a return
value in the status, where the structural schema would prune it), and by the reconciler itself after
a drift check, inside the resource's lock. Events go to the ``EventPoster``. A transient API failure
is recorded in the status and then raised as ``kopf.TemporaryError``, so kopf retries after
``retry_delay``; a drift check reports it to the drift loop, which retries.

At most ``reconcile_concurrency`` reconciliations (8) are in progress at once; the others wait their
turn. kopf starts a handler for every changed resource at once, and everything shares one event loop
with the admission webhooks: a burst of new resources made pod admissions wait behind it
(benchmarks/README.md). With the limit the loop's queue stays short, and against an API server that
answers in a millisecond or two the burst takes no longer: the operator is CPU-bound either way.
Against a slow API server the limit caps throughput at about
``reconcile_concurrency`` / (5 x its latency) resources per second (160/s at 10 ms per request).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import kopf

from flink_tm_memory.api.v1alpha1 import PodResources, UpdateMode, VersionChange
from flink_tm_memory.cluster.client import ClusterClient
from flink_tm_memory.cluster.errors import ApiError, ObjectNotFoundError
from flink_tm_memory.cluster.objects import memory_api
from flink_tm_memory.control.apply import apply_plan, plan_pod_resources
from flink_tm_memory.control.events import EventPoster
from flink_tm_memory.control.state import Key, KeyedLocks, WatchedConfigMaps, WatchedWorkloads
from flink_tm_memory.render.events import EventSpec, render_events
from flink_tm_memory.render.metadata import (
    LAST_APPLIED_ANNOTATION,
    AppliedSpec,
    MemoryRef,
    parse_applied_spec,
    render_applied_spec,
    render_not_recorded,
)
from flink_tm_memory.render.outcomes import ApplyOutcome, WriteState
from flink_tm_memory.render.plan import MemoryPlan, derive_memory_plan
from flink_tm_memory.render.recommendation import effective_raw_spec
from flink_tm_memory.render.status import StatusInput, render_status, status_patch
from flink_tm_memory.render.version_change import render_version_change
from flink_tm_memory.render.writes import MERGE_PATCH
from flink_tm_memory.runtime.logs import log_reconciliation, object_logger
from flink_tm_memory.runtime.metrics import OperatorMetrics, Trigger
from flink_tm_memory.runtime.options import OperatorOptions


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class Reconciler:
    """Brings resources' ConfigMaps, workloads and status to what their specs derive."""

    def __init__(
        self,
        client: ClusterClient,
        options: OperatorOptions,
        *,
        locks: KeyedLocks,
        config_maps: WatchedConfigMaps,
        metrics: OperatorMetrics,
        events: EventPoster,
        workloads: WatchedWorkloads | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._metrics = metrics
        self._client = client
        self._options = options
        self._locks = locks
        self._config_maps = config_maps
        self._workloads = workloads if workloads is not None else WatchedWorkloads()
        self._events = events
        self._clock = clock
        self._turns = asyncio.Semaphore(options.reconcile_concurrency)
        self._behind: dict[Key, object] = {}
        """Per resource, the generation the last drift check found not yet reconciled."""
        self._known: dict[Key, None] = {}
        """Every resource kopf's change handlers were given and not found gone since (in order)."""
        self._recorded: dict[Key, tuple[str, AppliedSpec]] = {}
        """Per resource, (uid, record) of the last applied spec this process recorded on it."""
        self._recommending: dict[Key, None] = {}
        """Those of them whose spec, as last reconciled, has ``spec.recommendations`` (the usage loop's)."""

    async def on_changed(
        self, body: kopf.Body, patch: kopf.Patch, logger: kopf.Logger, reason: str, retry: int, **_: Any
    ) -> None:
        """Created, updated, or found again after a restart: kopf writes the status patch."""
        memory = MemoryRef.from_body(body)
        self._known[memory.key] = None
        async with self._turns, self._locks.hold(memory.key):
            done = await self._reconcile(body, logger, Trigger.of_reason(reason))
        for key, value in done.status_patch.items():
            patch.status[key] = value
        self._events.post(memory, done.events)
        if done.transient_failure:
            delay = self._options.retry_delay_after(retry)  # doubled per retry: an outage is not hammered
            raise kopf.TemporaryError(f"An API request failed; retrying in {delay:g} s", delay=delay)

    async def check_drift(self, key: Key) -> bool:
        """Checks one resource, read afresh, that what was written is still there; writes its status.

        Returns whether the check must be retried (an API failure that may pass). Runs outside kopf
        (the drift loop), so the resource is read inside the resource's lock: the spec checked is the
        newest, never one a change handler has already moved past.
        """
        async with self._turns, self._locks.hold(key):
            if key not in self._known:
                return False  # deleted (its watch event came) since the pass that scheduled it began
            try:
                body = await memory_api(self._client).read(*key)
            except ApiError:
                return True
            if body is None or (body.get("metadata") or {}).get("deletionTimestamp"):
                self.forget(key)
                return False
            memory = MemoryRef.from_body(body)
            status = body.get("status") or {}
            if (
                status.get("observedGeneration") != memory.generation
                and self._behind.get(key) != memory.generation
            ):
                # A new generation is the change handlers' to reconcile; this check would race them. Yet
                # kopf can drop a change for good (a write of its own applied but the answer lost: the
                # retry is refused, and kopf then finds nothing left to patch and waits for an event
                # that never comes), so a generation still not reconciled one interval later is done here.
                self._behind[key] = memory.generation
                return False
            self._behind.pop(key, None)
            done = await self._reconcile(body, object_logger(memory), Trigger.DRIFT)
            written = await self._write_status(memory, done.status_patch)
        self._events.post(memory, done.events)
        return done.transient_failure or not written

    async def on_event(self, event: kopf.RawEvent, body: kopf.Body, logger: kopf.Logger, **_: Any) -> None:
        """Every watch event of a resource; a deletion is forgotten (nothing else to do for it)."""
        if event.get("type") == "DELETED":
            self.forget(MemoryRef.from_body(body).key)
            logger.info("Stopped reconciling: the garbage collector removes the ConfigMap the resource owns")

    def known(self) -> list[Key]:
        """The resources to check for drift."""
        return list(self._known)

    def recommending(self) -> list[Key]:
        """The resources whose JobManagers the usage loop polls."""
        return list(self._recommending)

    def forget(self, key: Key) -> None:
        """Drops what the operator remembers of a deleted resource."""
        self._known.pop(key, None)
        self._recommending.pop(key, None)
        self._config_maps.forget(key)
        self._workloads.forget(key)
        self._locks.discard(key)
        self._metrics.forget(key)
        self._behind.pop(key, None)
        self._recorded.pop(key, None)

    async def _reconcile(self, body: Mapping[str, Any], logger: kopf.Logger, trigger: Trigger) -> Reconciled:
        memory = MemoryRef.from_body(body)
        if (body.get("spec") or {}).get("recommendations") is not None:
            self._recommending[memory.key] = None
        else:
            self._recommending.pop(memory.key, None)
        previous: dict[str, Any] = dict(body.get("status") or {})
        # Initial and Auto: the spec with the recommendation the usage loop applied (status.autoUpdates).
        raw_spec: dict[str, Any] = dict(effective_raw_spec(body.get("spec") or {}, previous))
        annotations: Mapping[str, str] = (body.get("metadata") or {}).get("annotations") or {}
        applied_spec = self._applied_spec(memory, annotations)
        done = await self._converge(memory, raw_spec, annotations, applied_spec)
        done = replace(
            done,
            version_change=render_version_change(
                done.current, raw_spec, applied_spec, memory.generation, previous
            ),
        )
        self._metrics.reconciled(memory, trigger, done.current, done.outcome)
        status = render_status(done.status_input(previous, self._clock()))
        events = done.events(previous, status)
        log_reconciliation(logger, done.current, done.outcome, events)
        transient = done.outcome is not None and done.outcome.transient_failure
        return Reconciled(status_patch(previous, status), events, transient)

    async def _write_status(self, memory: MemoryRef, patch: dict[str, Any]) -> bool:
        if not patch:
            return True
        try:
            await memory_api(self._client).patch_status(memory.namespace, memory.name, patch)
        except ObjectNotFoundError:
            return True  # deleted meanwhile: nothing left to describe
        except ApiError:
            return False
        return True

    def _applied_spec(self, memory: MemoryRef, annotations: Mapping[str, str]) -> AppliedSpec | None:
        """The newest record of the last applied spec: the body's, or the one this process wrote since.

        kopf can hand a handler a body older than this process's own last writes: when the event
        of its own patch does not come within ``consistency_timeout`` (a dropped or expired watch,
        a loaded machine), it goes on with the newest body it has, which may predate the record the
        previous handler wrote. Keeping the layout of that older record would roll the workloads back
        to a spec already replaced; generations only grow, so the higher one is the newer record.
        """
        in_body = parse_applied_spec(annotations)
        remembered = self._recorded.get(memory.key)
        if remembered is None or remembered[0] != memory.uid:
            return in_body
        if in_body is None or remembered[1].generation > in_body.generation:
            return remembered[1]
        return in_body

    async def _converge(
        self,
        memory: MemoryRef,
        raw_spec: Mapping[str, Any],
        annotations: Mapping[str, str],
        applied_spec: AppliedSpec | None,
    ) -> Reconciliation:
        """Derives the spec and, in Apply mode, writes the layout in effect."""
        with self._metrics.time_derivation():
            current = derive_memory_plan(raw_spec)
        effective, effective_generation = _effective(current, memory.generation, applied_spec)
        if current.update_mode is UpdateMode.OFF or effective is None or effective_generation is None:
            self._config_maps.forget(memory.key)
            self._workloads.forget(memory.key)
            return Reconciliation(memory.generation, current, effective, effective_generation, None)
        assert effective.spec is not None
        # Before the writes: a workload created while they run is then seen by the workload watch.
        self._workloads.watch(memory.key, ((t.kind, t.name) for t in effective.spec.targets.workloads))
        if effective is current:
            not_recorded = await self._record_applied_spec(memory, raw_spec, annotations)
            if not_recorded is not None:
                # Unrecorded, a layout could not be kept (or repaired to) once a later spec is invalid:
                # nothing is written, and the status describes the layout of the last recorded spec.
                kept, kept_generation = _effective(
                    current, memory.generation, applied_spec, current_valid=False
                )
                return Reconciliation(
                    memory.generation, current, kept, kept_generation, None, not_recorded=not_recorded
                )
        applied = await apply_plan(
            self._client,
            memory,
            effective,
            effective_generation,
            targets=current.update_mode is not UpdateMode.INITIAL,
        )
        if applied.outcome.config_map.state is WriteState.DENIED:
            self._config_maps.forget(memory.key)  # another's (or not opted in): never repaired to this one
        else:
            self._config_maps.watch(memory, applied.config_map)
        return Reconciliation(memory.generation, current, effective, effective_generation, applied.outcome)

    async def _record_applied_spec(
        self, memory: MemoryRef, raw_spec: Mapping[str, Any], annotations: Mapping[str, str]
    ) -> str | None:
        """Records a valid spec as the last applied one, before any of its writes; why not, if refused.

        Before, not after: a write whose answer is lost, or an operator killed between the writes
        and its status, must leave the record of the layout that may be in place, or a spec turning
        invalid next would keep (and repair to) an older layout, or report none. A failure that may
        pass is retried (``kopf.TemporaryError``); a refusal (the annotations would be too large)
        is returned, for the status to say.
        """
        recorded = render_applied_spec(memory.generation, raw_spec)
        if annotations.get(LAST_APPLIED_ANNOTATION) == recorded:
            return None
        body = {"metadata": {"annotations": {LAST_APPLIED_ANNOTATION: recorded}}}
        try:
            await memory_api(self._client).patch(memory.namespace, memory.name, body, MERGE_PATCH)
            written = parse_applied_spec({LAST_APPLIED_ANNOTATION: recorded})
            if written is not None:
                self._recorded[memory.key] = (memory.uid, written)
        except ObjectNotFoundError as error:
            raise kopf.TemporaryError(
                f"Recording the applied spec failed: {error}", delay=self._options.retry_delay
            ) from None
        except ApiError as error:
            if error.transient:
                raise kopf.TemporaryError(
                    f"Recording the applied spec failed: {error}", delay=self._options.retry_delay
                ) from None
            return render_not_recorded(raw_spec, annotations, len(recorded), str(error))
        return None


@dataclass(frozen=True, slots=True)
class Reconciled:
    """What a reconciliation leaves to its caller: the status to write, Events to post, a retry."""

    status_patch: dict[str, Any]
    events: list[EventSpec]
    transient_failure: bool


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """What one reconciliation derived and wrote."""

    generation: int
    current: MemoryPlan
    effective: MemoryPlan | None
    effective_generation: int | None
    outcome: ApplyOutcome | None
    not_recorded: str | None = None
    version_change: VersionChange | None = None

    @property
    def resources(self) -> PodResources | None:
        return plan_pod_resources(self.effective) if self.effective is not None else None

    def status_input(self, previous: Mapping[str, Any], now: datetime) -> StatusInput:
        return StatusInput(
            generation=self.generation,
            current=self.current,
            effective=self.effective,
            effective_generation=self.effective_generation,
            pod_resources=self.resources,
            outcome=self.outcome,
            previous=previous,
            now=now,
            not_recorded=self.not_recorded,
            version_change=self.version_change,
        )

    def events(self, previous: Mapping[str, Any], status: Mapping[str, Any]) -> list[EventSpec]:
        return render_events(
            previous,
            status,
            conflicts=self.current.conflicts,
            outcome=self.outcome,
            layout=self.effective.layout if self.effective is not None else None,
            resources=self.resources,
            not_recorded=self.not_recorded,
        )


def _effective(
    current: MemoryPlan, generation: int, applied: AppliedSpec | None, *, current_valid: bool = True
) -> tuple[MemoryPlan | None, int | None]:
    """The plan whose layout is (to be) in place: the current one if valid, else the last applied one."""
    if current.layout is not None and current_valid:
        return current, generation
    if applied is None:
        return None, None
    last = derive_memory_plan(applied.spec)
    return (last, applied.generation) if last.layout is not None else (None, None)
