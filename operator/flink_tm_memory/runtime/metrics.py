"""The operator's own Prometheus metrics: reconciliations, conflicts, derivation time, webhooks, the API.

One ``OperatorMetrics`` per operator run holds a registry of its own (not the ``prometheus_client``
global one), so two operators in one process (the integration tests) never share a counter. What
each metric means, its labels and example alerts: ``docs/metrics.md``.

Events are counted as they happen (``Counter``, ``Histogram``); state is read when scraped: the
resources' last successful reconciliation and Degraded reasons come from a dict keyed by resource
(an entry is dropped when the resource is deleted, so labels never grow without bound), and the API
requests from the client's ``ApiContact``. Label values are closed sets (the enums below, the
conflict reasons the derivation knows, the webhooks' ids), except the per-resource gauge's
namespace and name, which are bounded by the resources that exist. That gauge is optional
(``per_resource``, ``--no-per-resource-metrics``): a Prometheus that must keep its series count
independent of the number of resources still gets the oldest success among all resources, which is
what the staleness alert needs, without a name.

The admission server (``runtime.admission.server``) counts and times each request with
``WebhookMetrics.webhook_answered``; a webhook that fails open (the pod webhook) admits even when it
failed, and counts as an ``error``. The operator serves admission from a process of its own
(``service.isolated_admission``): there the webhook metrics live in ``prometheus_client``'s
multiprocess mode (the child writes its counters to memory-mapped files in a private directory, the
``PROMETHEUS_MULTIPROC_DIR`` it is started with), and the reconciling process's registry reads them
at each scrape (``webhook_metrics_dir``: a ``MultiProcessCollector`` of that directory), so they
appear on its ``/metrics`` under the same names, exact and at once. The files are named for the
admission process, not for its pid: a restarted child reopens them and counts on from its
predecessor's totals (a counter never goes down), and the directory does not grow with restarts.
Without a directory the webhook metrics are ordinary in-process ones (``webhook_answered`` here:
the admission server in a test's process).
``prometheus_client``'s counters and histograms take a lock per update, so updates from another
thread and scrapes from the main loop's worker thread are safe; the per-resource state below is
written only from the main loop.
"""

from __future__ import annotations

import contextlib
import time
from collections import Counter as Tally
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Histogram,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from flink_tm_memory.api.v1alpha1 import UpdateMode
from flink_tm_memory.cluster.contact import ApiContact, Outcome
from flink_tm_memory.render.metadata import MemoryRef
from flink_tm_memory.render.outcomes import ApplyOutcome, WriteState
from flink_tm_memory.render.plan import MemoryPlan

PREFIX = "flink_tm_memory"
Key = tuple[str, str]

DERIVATION_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1)
"""Seconds: fine below 10 ms, where derivations fall (their times: ``benchmarks/README.md``)."""
WEBHOOK_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
"""Seconds: fine around a millisecond (admission answers: ``benchmarks/README.md``), up to the 2 or 5 s
after which the API server gives up."""


class Trigger(StrEnum):
    """What started a reconciliation."""

    CREATED = "created"
    UPDATED = "updated"
    RESUMED = "resumed"
    DRIFT = "drift"
    REPAIR = "repair"

    @classmethod
    def of_reason(cls, reason: object) -> Trigger:
        """The trigger of a kopf change handler's ``reason`` (``create``, ``update``, ``resume``)."""
        return {"create": cls.CREATED, "update": cls.UPDATED}.get(str(reason), cls.RESUMED)


class Result(StrEnum):
    """How a reconciliation ended; the first that applies, in this order."""

    FAILED = "failed"
    """An API write failed (retried when the failure may pass)."""
    DEGRADED = "degraded"
    """The spec has conflicts: nothing new written, the last valid layout kept."""
    OFF = "off"
    """``updateMode: Off``: derived and reported, nothing written."""
    INCOMPLETE = "incomplete"
    """Written where possible; a target is missing or has no TaskManager container."""
    APPLIED = "applied"
    """Something was written."""
    UNCHANGED = "unchanged"
    """Everything already held the layout: nothing written."""

    @property
    def successful(self) -> bool:
        return self is not Result.FAILED


def reconcile_result(current: MemoryPlan, outcome: ApplyOutcome | None) -> Result:
    """The result of a reconciliation that derived ``current`` and wrote ``outcome``."""
    states = [] if outcome is None else [outcome.config_map.state, *(t.state for t in outcome.targets)]
    if WriteState.FAILED in states:
        return Result.FAILED
    if current.conflicts:
        return Result.DEGRADED
    if current.update_mode is UpdateMode.OFF or outcome is None:
        return Result.OFF
    if not all(state.in_place for state in states):
        return Result.INCOMPLETE
    return Result.APPLIED if any(state.written for state in states) else Result.UNCHANGED


class WebhookOutcome(StrEnum):
    ALLOWED = "allowed"
    DENIED = "denied"
    PATCHED = "patched"
    ERROR = "error"
    """The webhook raised, the body was malformed or late, or a fail-open webhook failed and admitted anyway."""


def webhook_outcome(answer: Mapping[str, Any]) -> WebhookOutcome:
    """The outcome an AdmissionReview answer tells the API server."""
    response = answer.get("response") or {}
    if not response.get("allowed"):
        return WebhookOutcome.DENIED
    return WebhookOutcome.PATCHED if response.get("patch") else WebhookOutcome.ALLOWED


class WebhookCounter(Protocol):
    """What the admission server counts and times its answers with."""

    def webhook_answered(
        self, webhook: str | None, outcome: WebhookOutcome, seconds: float | None
    ) -> None: ...


class WebhookMetrics:
    """The admission requests answered, by webhook and outcome, and their latency, on ``registry``."""

    def __init__(self, registry: CollectorRegistry, webhooks: Iterable[str]) -> None:
        self._webhooks = frozenset(webhooks)
        self._requests = Counter(
            f"{PREFIX}_webhook_requests",
            "Admission requests answered, by webhook and outcome.",
            ["webhook", "outcome"],
            registry=registry,
        )
        self._latency = Histogram(
            f"{PREFIX}_webhook_request_duration_seconds",
            "Time from an admission request's parsed body to its answer, by webhook.",
            ["webhook"],
            buckets=WEBHOOK_BUCKETS,
            registry=registry,
        )

    def webhook_answered(self, webhook: str | None, outcome: WebhookOutcome, seconds: float | None) -> None:
        label = webhook if webhook in self._webhooks else "unknown"  # the path is the client's to choose
        self._requests.labels(label, outcome.value).inc()
        if seconds is not None:
            self._latency.labels(label).observe(seconds)


@dataclass(slots=True)
class _ResourceState:
    last_success: float | None = None
    degraded: frozenset[str] = frozenset()


class OperatorMetrics:
    """Every metric of one operator run, and the registry ``/metrics`` serves."""

    def __init__(
        self,
        contact: ApiContact,
        *,
        webhooks: Iterable[str] = (),
        clock: Callable[[], float] = time.time,
        runtime_collectors: bool = True,
        per_resource: bool = True,
        webhook_metrics_dir: Path | None = None,
    ) -> None:
        self.registry = CollectorRegistry()
        self._contact = contact
        self._clock = clock
        self._resources: dict[Key, _ResourceState] = {}
        self._reconciliations = Counter(
            f"{PREFIX}_reconciliations",
            "Reconciliations of FlinkTaskManagerMemory resources, by what started them and how they ended.",
            ["trigger", "result"],
            registry=self.registry,
        )
        self._conflicts = Counter(
            f"{PREFIX}_conflicts",
            "Reconciliations whose spec had a conflict with this reason (each reason once per reconciliation).",
            ["reason"],
            registry=self.registry,
        )
        self._derivation = Histogram(
            f"{PREFIX}_derivation_duration_seconds",
            "Time to read, resolve and derive one spec (the whole calculation of a reconciliation).",
            buckets=DERIVATION_BUCKETS,
            registry=self.registry,
        )
        self._webhooks: WebhookMetrics | None = None
        if webhook_metrics_dir is None:
            self._webhooks = WebhookMetrics(self.registry, webhooks)
        else:  # the admission process's, read from its files at each scrape
            MultiProcessCollector(self.registry, path=str(webhook_metrics_dir))  # type: ignore[no-untyped-call]
        self._per_resource = per_resource
        self._oom_kills = Counter(
            f"{PREFIX}_oom_kills",
            "TaskManager containers killed for memory (OOMKilled), each incident once, by the budget that ran out.",
            ["budget"],
            registry=self.registry,
        )
        self._resource_oom_kills = (
            Counter(
                f"{PREFIX}_resource_oom_kills",
                "TaskManager containers killed for memory (OOMKilled), each incident once, by resource.",
                ["namespace", "name"],
                registry=self.registry,
            )
            if per_resource
            else None
        )
        self._state = _StateCollector(self._resources, contact, per_resource=per_resource)
        self.registry.register(self._state)
        if runtime_collectors:
            for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
                self.registry.register(collector)

    # ------------------------------------------------------------------------------- reconciliations

    def time_derivation(self) -> Any:
        """A context manager that observes the derivation it wraps."""
        return self._derivation.time()

    def reconciled(
        self, memory: MemoryRef, trigger: Trigger, current: MemoryPlan, outcome: ApplyOutcome | None
    ) -> Result:
        """Counts one reconciliation and updates the resource's state; returns its result."""
        result = reconcile_result(current, outcome)
        self._reconciliations.labels(trigger.value, result.value).inc()
        reasons = frozenset(conflict.reason for conflict in current.conflicts)
        for reason in reasons:
            self._conflicts.labels(reason).inc()
        state = self._resources.setdefault(memory.key, _ResourceState())
        state.degraded = reasons
        if result.successful:
            state.last_success = self._clock()
        return result

    def repaired(self, written: bool | None) -> None:
        """Counts a repair of an edited or deleted ConfigMap: written, nothing to do, or failed (``None``)."""
        result = Result.FAILED if written is None else Result.APPLIED if written else Result.UNCHANGED
        self._reconciliations.labels(Trigger.REPAIR.value, result.value).inc()

    def count_api_requests_of(self, source: Callable[[], Mapping[str, int]]) -> None:
        """Adds the requests ``source`` reports, by outcome, to the API requests served (another process's)."""
        self._state.other_api_requests.append(source)

    def forget(self, key: Key) -> None:
        """Drops a deleted resource's series."""
        self._resources.pop(key, None)
        if self._resource_oom_kills is not None:
            with contextlib.suppress(KeyError):
                self._resource_oom_kills.remove(*key)

    def oom_killed(self, memory: Key, budget: str) -> None:
        """Counts one OOM kill of a TaskManager container of ``memory`` (``budget``: a closed set of names)."""
        self._oom_kills.labels(budget).inc()
        if self._resource_oom_kills is not None:
            self._resource_oom_kills.labels(*memory).inc()

    # ------------------------------------------------------------------------------- webhooks

    def webhook_answered(self, webhook: str | None, outcome: WebhookOutcome, seconds: float | None) -> None:
        """Counts an answer of an admission server in this process (none with ``webhook_metrics_dir``)."""
        if self._webhooks is None:
            raise RuntimeError("the webhook metrics are the admission process's (webhook_metrics_dir)")
        self._webhooks.webhook_answered(webhook, outcome, seconds)


class _StateCollector(Collector):
    """The metrics read at scrape time: per-resource state, and the API requests."""

    def __init__(
        self, resources: Mapping[Key, _ResourceState], contact: ApiContact, *, per_resource: bool
    ) -> None:
        self._resources = resources
        self._contact = contact
        self._per_resource = per_resource
        self.other_api_requests: list[Callable[[], Mapping[str, int]]] = []
        """The requests by outcome of clients in other processes (the admission process's)."""

    def collect(self) -> Iterator[Metric]:
        last = GaugeMetricFamily(
            f"{PREFIX}_last_successful_reconcile_timestamp_seconds",
            "When each resource last finished a reconciliation without an API failure (Unix time).",
            labels=["namespace", "name"],
        )
        degraded = Tally[str]()
        successes: list[float] = []
        for (namespace, name), state in list(self._resources.items()):
            if state.last_success is not None:
                successes.append(state.last_success)
                if self._per_resource:
                    last.add_metric([namespace, name], state.last_success)
            degraded.update(state.degraded)
        if self._per_resource:
            yield last
        if successes:
            yield GaugeMetricFamily(
                f"{PREFIX}_oldest_successful_reconcile_timestamp_seconds",
                "The oldest of the resources' last successful reconciliations (Unix time): the most "
                "stale resource, without its name.",
                value=min(successes),
            )
        yield GaugeMetricFamily(
            f"{PREFIX}_resources",
            "FlinkTaskManagerMemory resources the operator reconciles.",
            value=len(self._resources),
        )
        by_reason = GaugeMetricFamily(
            f"{PREFIX}_degraded_resources",
            "Resources whose current spec has a conflict with this reason (Ready=False, Degraded).",
            labels=["reason"],
        )
        for reason, count in sorted(degraded.items()):
            by_reason.add_metric([reason], count)
        yield by_reason
        yield from self._api_metrics()

    def _api_metrics(self) -> Iterator[Metric]:
        contact = self._contact
        requests = CounterMetricFamily(
            f"{PREFIX}_api_requests",
            "Requests of the operator's own clients to the API server (the admission process's too), by "
            "outcome (kopf's watches are not counted).",
            labels=["outcome"],
        )
        elsewhere: Mapping[str, int] = {}
        for source in self.other_api_requests:
            elsewhere = dict(Tally(elsewhere) + Tally(source()))
        for outcome in Outcome:
            requests.add_metric([outcome.value], contact.requests[outcome] + elsewhere.get(outcome.value, 0))
        yield requests
        yield GaugeMetricFamily(
            f"{PREFIX}_api_server_reachable",
            "1 if the operator's last request reached a serving API server, else 0.",
            value=1 if contact.reachable else 0,
        )
        yield GaugeMetricFamily(
            f"{PREFIX}_api_consecutive_failures",
            "Requests in a row that did not reach a serving API server (5xx, timeout, connection error).",
            value=contact.consecutive_failures,
        )
        if contact.last_contact_wall is not None:
            yield GaugeMetricFamily(
                f"{PREFIX}_api_last_contact_timestamp_seconds",
                "When the API server last answered the operator (Unix time).",
                value=contact.last_contact_wall,
            )
