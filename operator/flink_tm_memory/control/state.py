"""The operator's memory between events: one lock per resource, and the ConfigMaps it keeps in shape.

kopf runs the handlers of different objects concurrently, the drift loop checks resources beside
them, and the ConfigMap watch acts on resources from outside their own handlers. One lock per
resource serialises everything that writes on its behalf, so two reconciliations never interleave
their read-decide-write steps (the API's optimistic concurrency would catch it, at the cost of
conflicts and retries). The watched ConfigMaps remember, per resource, what its ConfigMap should
hold, so an edit or a deletion is repaired from memory, without re-deriving anything. The watched
workloads remember which resources target which workload (kind, namespace, name), so a workload
created after its resource is sized as soon as it appears (``control.new_workloads``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from flink_tm_memory.api.workloads import WorkloadKind
from flink_tm_memory.render.configmap import DesiredConfigMap
from flink_tm_memory.render.metadata import MemoryRef

Key = tuple[str, str]
"""A resource's namespace and name."""


class KeyedLocks:
    """One ``asyncio.Lock`` per key, created on first use and dropped with ``discard``."""

    def __init__(self) -> None:
        self._locks: dict[Key, asyncio.Lock] = {}

    @asynccontextmanager
    async def hold(self, key: Key) -> AsyncIterator[None]:
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            yield

    def discard(self, key: Key) -> None:
        self._locks.pop(key, None)


@dataclass(frozen=True, slots=True)
class WatchedConfigMap:
    memory: MemoryRef
    desired: DesiredConfigMap


class WatchedConfigMaps:
    """The desired ConfigMap of every resource in Apply mode, findable by the ConfigMap's name."""

    def __init__(self) -> None:
        self._by_memory: dict[Key, WatchedConfigMap] = {}
        self._by_config_map: dict[Key, Key] = {}

    def watch(self, memory: MemoryRef, desired: DesiredConfigMap) -> None:
        self.forget(memory.key)
        self._by_memory[memory.key] = WatchedConfigMap(memory, desired)
        self._by_config_map[desired.namespace, desired.name] = memory.key

    def forget(self, key: Key) -> None:
        watched = self._by_memory.pop(key, None)
        if watched is not None and self._by_config_map.get(_config_map_key(watched)) == key:
            del self._by_config_map[_config_map_key(watched)]

    def find(self, namespace: str, name: str) -> WatchedConfigMap | None:
        """The resource that wants ConfigMap ``namespace/name``, and what it wants, if any."""
        key = self._by_config_map.get((namespace, name))
        return self._by_memory.get(key) if key is not None else None

    def __len__(self) -> int:
        return len(self._by_memory)


def _config_map_key(watched: WatchedConfigMap) -> Key:
    return watched.desired.namespace, watched.desired.name


WorkloadKey = tuple[WorkloadKind, str, str]
"""A workload's kind, namespace and name."""


class WatchedWorkloads:
    """The workload targets of every resource in Apply mode, findable by the workload.

    Names only, never a body: a few dozen bytes per target, however many workloads the cluster has.
    """

    def __init__(self) -> None:
        self._by_memory: dict[Key, frozenset[WorkloadKey]] = {}
        self._by_workload: dict[WorkloadKey, set[Key]] = {}
        self.listeners: list[Callable[[frozenset[WorkloadKey]], None]] = []
        """Called with the workloads a resource newly targets (the OOM watch's pods waiting for them)."""

    def watch(self, memory: Key, workloads: Iterable[tuple[WorkloadKind, str]]) -> None:
        """Records the workloads ``memory`` targets (in its own namespace), replacing its earlier ones."""
        wanted = frozenset((kind, memory[0], name) for kind, name in workloads)
        if self._by_memory.get(memory) == wanted:
            return
        self.forget(memory)
        if not wanted:
            return
        self._by_memory[memory] = wanted
        for workload in wanted:
            self._by_workload.setdefault(workload, set()).add(memory)
        for listener in self.listeners:
            listener(wanted)

    def forget(self, memory: Key) -> None:
        for workload in self._by_memory.pop(memory, frozenset()):
            targeting = self._by_workload.get(workload)
            if targeting is not None:
                targeting.discard(memory)
                if not targeting:
                    del self._by_workload[workload]

    def targeting(self, kind: WorkloadKind, namespace: str, name: str) -> list[Key]:
        """The resources that target this workload, in a stable order."""
        return sorted(self._by_workload.get((kind, namespace, name), ()))

    def __len__(self) -> int:
        return len(self._by_workload)
