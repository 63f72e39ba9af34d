"""Putting a ConfigMap back as soon as someone edits or deletes it, without waiting for the drift check.

The operator watches its own ConfigMaps (by label). An event for a ConfigMap some resource wants is
checked against what that resource's last reconciliation wanted; only a difference (or a deletion)
leads to a write, so the events of the operator's own writes cost nothing. Before re-creating, the
resource is read to make sure it still exists: a ConfigMap deleted by the garbage collector along
with its resource must stay deleted.

Failures are logged, not retried here: the drift check repairs what this could not.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import kopf

from flink_tm_memory.cluster.apply import apply_object
from flink_tm_memory.cluster.client import ClusterClient
from flink_tm_memory.cluster.errors import ApiError
from flink_tm_memory.cluster.objects import config_map_api, memory_api
from flink_tm_memory.control.events import EventPoster
from flink_tm_memory.control.state import KeyedLocks, WatchedConfigMap, WatchedConfigMaps
from flink_tm_memory.render.configmap import plan_config_map_write
from flink_tm_memory.render.events import render_repair_event
from flink_tm_memory.render.metadata import MemoryRef
from flink_tm_memory.render.outcomes import state_of
from flink_tm_memory.render.writes import Unchanged
from flink_tm_memory.runtime.metrics import OperatorMetrics

DELETED = "DELETED"


class ConfigMapRepairer:
    """Reacts to the operator's ConfigMaps changing under it."""

    def __init__(
        self,
        client: ClusterClient,
        *,
        locks: KeyedLocks,
        config_maps: WatchedConfigMaps,
        metrics: OperatorMetrics,
        events: EventPoster,
    ) -> None:
        self._metrics = metrics
        self._events = events
        self._client = client
        self._locks = locks
        self._config_maps = config_maps

    async def on_event(
        self,
        event: kopf.RawEvent,
        body: kopf.Body,
        name: str,
        namespace: str | None,
        logger: kopf.Logger,
        **_: Any,
    ) -> None:
        if namespace is None:
            return
        deleted = event.get("type") == DELETED
        if not _drifted(self._config_maps.find(namespace, name), None if deleted else body):
            return
        watched = await self._repair(namespace, name, logger)
        if watched is not None:
            self._events.post(watched.memory, [render_repair_event(name, deleted)])
            logger.info(
                f"Repaired ConfigMap name={name} deleted={str(deleted).lower()} for={watched.memory.name}"
            )

    async def _repair(self, namespace: str, name: str, logger: kopf.Logger) -> WatchedConfigMap | None:
        """Writes the ConfigMap back; the resource it was written for, if a write was needed."""
        watched = self._config_maps.find(namespace, name)
        if watched is None:
            return None
        async with self._locks.hold(watched.memory.key):
            watched = self._config_maps.find(namespace, name)  # a reconciliation may have run meanwhile
            if watched is None:
                return None
            try:
                if not await self._still_owned(watched.memory):
                    self._config_maps.forget(watched.memory.key)
                    return None
                applied = await apply_object(
                    config_map_api(self._client),
                    namespace,
                    name,
                    partial(plan_config_map_write, desired=watched.desired),
                )
            except ApiError as error:
                self._metrics.repaired(None)
                logger.warning(
                    f"Failed to repair ConfigMap name={name} error={str(error)!r}; the drift check retries"
                )
                return None
        self._metrics.repaired(state_of(applied.decision).written)
        return watched if state_of(applied.decision).written else None

    async def _still_owned(self, memory: MemoryRef) -> bool:
        current = await memory_api(self._client).read(memory.namespace, memory.name)
        if current is None:
            return False
        metadata = current.get("metadata") or {}
        return metadata.get("uid") == memory.uid and not metadata.get("deletionTimestamp")


def _drifted(watched: WatchedConfigMap | None, current: kopf.Body | None) -> bool:
    if watched is None:
        return False
    return not isinstance(plan_config_map_write(current, watched.desired), Unchanged)
