"""kopf's settings for this operator, and why each differs from kopf's default.

- Progress and diff-base storage in annotations under the operator's prefix, never ``status.kopf``:
  the CRD's structural status schema would prune it, and the status is the API's, not kopf's. The
  operator's own annotation (the last applied spec) shares the prefix, so kopf does not mistake the
  operator's bookkeeping for a change of the resource. The diff base holds digests, not a copy of
  the spec (``runtime.diff_base``): what kopf records stays a few hundred bytes however large the spec.
- A resource's kopf worker (a task holding the last event, a whole body) ends 0.5 s after its
  events stop, not 5 s: during a burst of new resources kopf otherwise held many times as many
  bodies at once (benchmarks/README.md, "Operator"), and the memory they took stayed the operator's
  (CPython keeps its arenas). A later event starts a new worker, which costs little.
- ConfigMaps are watched through a server-side label selector: only the operator's own, not every
  ConfigMap of the cluster. The workload kinds are, if ``workload_selector`` is given: kopf lists
  every object of a watched kind when it starts, and one worker per object holds its body for a
  moment, which in a cluster of thousands of Deployments costs memory the operator keeps.
- Events name this operator as their reporting component (kopf's own, and the operator's, which
  ``event_reporter`` describes the same way).
- kopf's own requests (watches, listings, status and annotation patches) never give up: after the
  given backoffs they go on retrying at the last one. kopf escalates a request that failed through
  all its backoffs: it drops the event it was processing, so nothing reconciles that resource again
  until it changes. Event posts keep a finite schedule (an Event is best-effort, and the poster
  would otherwise queue them all behind one).
- The finalizer's name is still the operator's: the operator needs none (no timer, no deletion
  handler), and kopf removes the one older versions added only if it knows its name.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass

import kopf

from flink_tm_memory.render.events import Reporter
from flink_tm_memory.render.metadata import ANNOTATION_PREFIX, OPERATOR_NAME, managed_label_selector
from flink_tm_memory.runtime.diff_base import DigestDiffBaseStorage
from flink_tm_memory.runtime.options import OperatorOptions

WORKLOAD_PLURALS = (
    ("apps", "deployments"),
    ("apps", "statefulsets"),
    ("flink.apache.org", "flinkdeployments"),
)
"""The workload kinds' API group and plural, as kopf's selector mapping names them."""
WORKER_IDLE_TIMEOUT = 0.5
"""Seconds a resource's kopf worker waits for another event before it ends."""


def operator_settings(options: OperatorOptions) -> kopf.OperatorSettings:
    settings = kopf.OperatorSettings()
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=ANNOTATION_PREFIX)
    settings.persistence.diffbase_storage = DigestDiffBaseStorage(
        prefix=ANNOTATION_PREFIX, key="last-handled-configuration"
    )
    settings.persistence.finalizer = f"{ANNOTATION_PREFIX}/finalizer"
    settings.persistence.consistency_timeout = options.consistency_timeout
    reporter = event_reporter()
    settings.posting.reporting_component = reporter.component
    settings.posting.reporting_instance = reporter.instance
    settings.posting.event_name_prefix = reporter.name_prefix
    settings.posting.default_backoffs = options.api_backoffs
    settings.networking.error_backoffs = EndlessBackoffs(options.api_backoffs)
    settings.networking.request_timeout = options.request_timeout
    settings.watching.label_selectors["v1", "configmaps"] = managed_label_selector()
    if options.workload_selector:
        for group, plural in WORKLOAD_PLURALS:
            settings.watching.label_selectors[group, plural] = options.workload_selector
    settings.watching.reconnect_backoff = options.watch_reconnect_backoff
    settings.queueing.idle_timeout = WORKER_IDLE_TIMEOUT
    return settings


def event_reporter() -> Reporter:
    """Who the operator's Events say posted them: the operator, from this pod (its host name)."""
    return Reporter(component=OPERATOR_NAME, instance=socket.gethostname(), name_prefix="flink-tm-memory-")


@dataclass(frozen=True, slots=True)
class EndlessBackoffs:
    """Retry delays: the given ones, then the last one forever (re-iterable: kopf iterates per request)."""

    delays: tuple[float, ...]

    def __iter__(self) -> Iterator[float]:
        yield from self.delays
        while True:
            yield self.delays[-1]
