"""kopf's settings for this operator, and why each differs from kopf's default.

- Progress and diff-base storage in annotations under the operator's prefix, never ``status.kopf``:
  the CRD's structural status schema would prune it, and the status is the API's, not kopf's. The
  operator's own annotation (the last applied spec) shares the prefix, so kopf does not mistake the
  operator's bookkeeping for a change of the resource.
- ConfigMaps are watched through a server-side label selector: only the operator's own, not every
  ConfigMap of the cluster.
- Events name this operator as their reporting component.
- kopf's own requests (its status, annotation and finalizer patches, its listings) are retried
  forever, ``api_backoffs`` first and then at the last of them: kopf gives up after its backoffs
  and then drops the event it was processing ("Throttling ... due to an unexpected error"), and
  nothing reconciles that resource again until it changes (the drift check waits for the status
  to describe the current generation), so a longer API outage lost work. Events are best effort
  and keep their bounded backoffs.
"""

from __future__ import annotations

import itertools
import socket
from collections.abc import Iterator

import kopf

from flink_tm_memory.handlers.options import OperatorOptions
from flink_tm_memory.render.metadata import ANNOTATION_PREFIX, OPERATOR_NAME, managed_label_selector


def operator_settings(options: OperatorOptions) -> kopf.OperatorSettings:
    settings = kopf.OperatorSettings()
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=ANNOTATION_PREFIX)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=ANNOTATION_PREFIX, key="last-handled-configuration"
    )
    settings.persistence.finalizer = f"{ANNOTATION_PREFIX}/finalizer"
    settings.persistence.consistency_timeout = options.consistency_timeout
    settings.posting.reporting_component = OPERATOR_NAME
    settings.posting.reporting_instance = socket.gethostname()
    settings.posting.event_name_prefix = "flink-tm-memory-"
    settings.posting.default_backoffs = options.api_backoffs
    settings.networking.error_backoffs = RetryForever(options.api_backoffs)
    settings.networking.request_timeout = options.request_timeout
    settings.watching.label_selectors["v1", "configmaps"] = managed_label_selector()
    settings.watching.reconnect_backoff = options.watch_reconnect_backoff
    return settings


class RetryForever:
    """Retry delays: ``delays``, then the last of them again and again; a fresh sequence per request."""

    def __init__(self, delays: tuple[float, ...]) -> None:
        if not delays:
            raise ValueError("retrying forever needs at least one delay")
        self.delays = delays

    def __iter__(self) -> Iterator[float]:
        return itertools.chain(self.delays, itertools.repeat(self.delays[-1]))
