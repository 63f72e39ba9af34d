"""A workload created after the resource that targets it is sized at once, not at the next drift check.

The reconciler records which workloads each resource in Apply mode targets (``WatchedWorkloads``:
names only). kopf watches Deployments, StatefulSets and FlinkDeployments (``handlers.registration``)
with a ``when`` filter that lets through only those names, so a workload nobody targets costs one
dictionary lookup per watch event and nothing is kept of it: no handler runs, no annotation is
written, and kopf's per-object worker ends half a second after its last event. When a targeted
workload is ADDED (created, or found when a watch is re-established: kopf's initial listing, given
no type, is left to the reconciliations every resource gets when the operator starts), each resource
targeting it gets the drift check, read afresh inside the resource's lock (``Reconciler.check_drift``),
which writes the workload's TaskManager resources. A check that hits an API failure is left to the
drift loop, which checks every resource each ``drift_interval`` anyway.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from flink_tm_memory.api.v1alpha1 import WorkloadKind
from flink_tm_memory.control.state import Key, WatchedWorkloads

logger = logging.getLogger(__name__)

Check = Callable[[Key], Awaitable[bool]]
"""Checks one resource; ``True`` when the check must be retried."""


class NewWorkloads:
    """The workload watch: which events to look at (``wanted``) and what to do (``on_event``)."""

    def __init__(self, workloads: WatchedWorkloads, check: Check) -> None:
        self._workloads = workloads
        self._check = check

    def wanted(self, kind: WorkloadKind) -> Callable[..., bool]:
        """kopf's ``when`` filter for ``kind``: a workload some resource targets."""

        def targeted(name: str, namespace: str | None, **_: Any) -> bool:
            return bool(namespace and self._workloads.targeting(kind, namespace, name))

        return targeted

    def on_event(self, kind: WorkloadKind) -> Callable[..., Awaitable[None]]:
        """kopf's event handler for ``kind``: a targeted workload that appeared is sized."""

        async def appeared(type: str | None, name: str, namespace: str, **_: Any) -> None:
            if type != "ADDED":
                return
            for memory in self._workloads.targeting(kind, namespace, name):
                if await self._check(memory):
                    logger.warning(
                        f"Sizing new {kind.value} {namespace}/{name} for {memory[0]}/{memory[1]} hit an "
                        "API failure; the drift check retries it"
                    )

        return appeared
