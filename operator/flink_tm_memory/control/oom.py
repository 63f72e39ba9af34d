"""Watching TaskManager pods for OOM kills, and recording each one on its FlinkTaskManagerMemory.

One pod list+watch per served namespace (one cluster-wide when the operator serves every namespace),
whatever the number of resources: a watch per resource would cost the API server a connection each.
The watch keeps nothing: each pod event is read in the watch's worker thread, and only a pod with an
``OOMKilled`` container is handed to the event loop, as an ``OomSighting`` (a few hundred bytes, no
pod body). Whose pod it is comes from its metadata alone (``render.oom_pods``: a Deployment's
ReplicaSet, a StatefulSet, a FlinkDeployment's TaskManager labels, the webhook's profile label), and
which resources target that workload from the index reconciliation already keeps
(``WatchedWorkloads``); the profile label names its resource directly.

For each resource, under the resource's lock: the resource is read, the container checked to be the
TaskManager's (the target's ``container``, else Flink's default names, else the only one: a sidecar
killed for memory is not the layout's doing), the incident looked up in ``status.oomKills`` (so a
restarted operator never counts or announces it twice), attributed (``render.oom``), written as a
merge patch of ``status.oomKills``, announced by one Warning Event and counted in the metrics. An
incident handled is remembered in memory too (bounded), so the stream of status updates a
crash-looping pod makes costs no further read. The watch runs only where reconciliation runs: on
the leader.

A namespace given as a pattern (``flink-*``, kopf's globs) is followed as kopf follows it: one
list+watch of the namespaces (the right kopf needs for the same patterns), and a pod list+watch of
its own for each namespace the patterns match (``render.namespaces``, kopf's matching), started when
the namespace appears and stopped when it goes. So the pod watch covers exactly the namespaces
reconciliation covers, never a cluster-wide pod list.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from typing import Any

from flink_tm_memory.api.workloads import WorkloadKind
from flink_tm_memory.cluster.client import ClusterClient, Json
from flink_tm_memory.cluster.errors import ApiError, ObjectNotFoundError, WriteConflictError
from flink_tm_memory.cluster.objects import memory_api
from flink_tm_memory.cluster.watch import ListWatch
from flink_tm_memory.control.events import EventPoster
from flink_tm_memory.control.state import Key, KeyedLocks, WatchedWorkloads
from flink_tm_memory.render.metadata import MemoryRef
from flink_tm_memory.render.namespaces import is_pattern, served
from flink_tm_memory.render.oom import attribute, unattributed
from flink_tm_memory.render.oom_pods import OomSighting, PodOwner, oom_sightings, pod_owner
from flink_tm_memory.render.oom_status import (
    already_recorded,
    kills_of_pod,
    next_oom_status,
    oom_event,
    read_oom_status,
)
from flink_tm_memory.render.workloads import select_container
from flink_tm_memory.render.writes import Refused
from flink_tm_memory.runtime.metrics import OperatorMetrics

logger = logging.getLogger(__name__)

CAPACITY = 10_000
"""Pods with OOM kills waiting to be handled at most; more are dropped (seen again on the next event)."""
REMEMBERED = 100_000
"""Incidents remembered as handled; the oldest are forgotten (the status still deduplicates them)."""


class OomWatch:
    """The pod watches and the loop that records OOM kills; run ``works()`` while leading."""

    def __init__(
        self,
        client: ClusterClient,
        *,
        namespaces: Sequence[str],
        workloads: WatchedWorkloads,
        locks: KeyedLocks,
        events: EventPoster,
        metrics: OperatorMetrics,
        recorded: Callable[[Key], None] | None = None,
        **watch_options: Any,
    ) -> None:
        self._client = client
        self._recorded = recorded
        self._workloads = workloads
        self._locks = locks
        self._events = events
        self._metrics = metrics
        self._queue: asyncio.Queue[tuple[list[OomSighting], PodOwner]] = asyncio.Queue(CAPACITY)
        self._handled: OrderedDict[tuple[str, str, str, str], None] = OrderedDict()
        self._unclaimed: OrderedDict[tuple[str, str], tuple[list[OomSighting], PodOwner]] = OrderedDict()
        """Pods with OOM kills no resource was known to target yet (e.g. listed before kopf resumed)."""
        workloads.listeners.append(self._targeted)
        self._loop: asyncio.AbstractEventLoop | None = None
        self.dropped = 0
        plain = [namespace for namespace in namespaces if not is_pattern(namespace)]
        self._patterns = [namespace for namespace in namespaces if is_pattern(namespace)]
        self._paths = (
            [(None, "/api/v1/pods")]
            if not namespaces
            else [(ns, f"/api/v1/namespaces/{ns}/pods") for ns in dict.fromkeys(plain)]
        )
        self._watch_options = watch_options
        self.watches: list[ListWatch] = []
        self.matched: dict[str, tuple[ListWatch, asyncio.Task[None]]] = {}
        """The pod watches of the namespaces the patterns match, by namespace."""

    def works(self) -> list[Coroutine[Any, Any, None]]:
        """The watches and the recording loop, to run as tasks for as long as this replica leads.

        Called on the event loop the works will run on.
        """
        self._loop = asyncio.get_running_loop()
        # Fresh watches for every term of leadership: a cancelled ListWatch stays cancelled.
        self.watches = [
            ListWatch(self._client, path, _PodSink(self._offer), namespace=ns, **self._watch_options)
            for ns, path in self._paths
        ]
        works = [self._record_loop(), *(watch.run() for watch in self.watches)]
        if self._patterns:
            works.append(self._follow_namespaces())
        return works

    async def _follow_namespaces(self) -> None:
        """Watches the namespaces, and keeps a pod watch for each one the patterns match."""
        sink = _NamespaceSink(
            self._loop_call, self._namespaces_listed, self._namespace_seen, self._namespace_gone
        )
        namespaces = ListWatch(self._client, "/api/v1/namespaces", sink, **self._watch_options)
        try:
            await namespaces.run()
        finally:
            tasks = [task for _, task in self.matched.values()]
            self.matched.clear()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    def _loop_call(self, call: Callable[[], None]) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(call)

    def _namespaces_listed(self, names: set[str]) -> None:
        for name in [name for name in self.matched if name not in names]:
            self._namespace_gone(name)
        for name in names:
            self._namespace_seen(name)

    def _namespace_seen(self, name: str) -> None:
        plain = {namespace for namespace, _ in self._paths}
        if name in self.matched or name in plain or not served(name, self._patterns):
            return
        watch = ListWatch(
            self._client,
            f"/api/v1/namespaces/{name}/pods",
            _PodSink(self._offer),
            namespace=name,
            **self._watch_options,
        )
        self.matched[name] = (watch, asyncio.get_running_loop().create_task(watch.run()))

    def _namespace_gone(self, name: str) -> None:
        found = self.matched.pop(name, None)
        if found is not None:
            found[1].cancel()

    def _offer(self, sightings: list[OomSighting], owner: PodOwner) -> None:
        """From any thread: hands a pod's sightings to the event loop."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._enqueue, sightings, owner)

    def _enqueue(self, sightings: list[OomSighting], owner: PodOwner) -> None:
        fresh = [sighting for sighting in sightings if sighting.key() not in self._handled]
        if not fresh:
            return
        try:
            self._queue.put_nowait((fresh, owner))
        except asyncio.QueueFull:
            self.dropped += 1

    def _targeted(self, workloads: frozenset[tuple[WorkloadKind, str, str]]) -> None:
        """A resource now targets ``workloads``: its pods' OOM kills seen before are handled now."""
        for pod, (sightings, owner) in list(self._unclaimed.items()):
            if any((kind, pod[0], name) in workloads for kind, name in owner.workloads):
                del self._unclaimed[pod]
                self._enqueue(sightings, owner)

    async def _record_loop(self) -> None:
        while True:
            sightings, owner = await self._queue.get()
            resources = self._resources(sightings[0].namespace, owner)
            if not resources:
                pod = (sightings[0].namespace, sightings[0].uid)
                self._unclaimed[pod] = (sightings, owner)
                self._unclaimed.move_to_end(pod)
                while len(self._unclaimed) > CAPACITY:
                    self._unclaimed.popitem(last=False)
                continue
            for sighting in sightings:
                if sighting.key() in self._handled:
                    continue
                done = True
                for key, workload in resources:
                    try:
                        done = await self.record(key, sighting, workload) and done
                    except Exception:  # one bad incident must never stop the watch
                        logger.exception(f"Recording an OOM kill of pod {sighting.pod} failed")
                if done:  # else the pod's next event tries again (the status deduplicates)
                    self._remember(sighting)

    def _resources(
        self, namespace: str, owner: PodOwner
    ) -> list[tuple[Key, tuple[WorkloadKind, str] | None]]:
        """The resources whose TaskManager the pod may be: by its profile label, and by its workloads."""
        found: dict[Key, tuple[WorkloadKind, str] | None] = {}
        if owner.profile is not None:
            found[namespace, owner.profile] = None
        for kind, name in owner.workloads:
            for key in self._workloads.targeting(kind, namespace, name):
                found.setdefault(key, (kind, name))
        return list(found.items())

    async def record(
        self, key: Key, sighting: OomSighting, workload: tuple[WorkloadKind, str] | None
    ) -> bool:
        """Records one incident on resource ``key``; False if an API failure left it to be tried again."""
        async with self._locks.hold(key):
            try:
                body = await memory_api(self._client).read(*key)
            except ApiError:
                return False
            if body is None:
                return True
            spec, status = _mapping(body.get("spec")), _mapping(body.get("status"))
            if task_manager_container(spec, sighting, workload) != sighting.termination.container:
                return True
            previous = read_oom_status(status.get("oomKills"))
            if already_recorded(previous, sighting):
                return True
            # About 10 ms of derivations (the fixes' search): in a worker thread, so the event loop
            # (reconciliations, the other watches) is held at most a GIL switch interval at a time.
            try:
                attribution = await asyncio.to_thread(
                    attribute,
                    spec,
                    status,
                    sighting.facts,
                    restart_count=sighting.termination.restart_count,
                    kills_of_pod=kills_of_pod(previous, sighting),
                )
            except Exception as error:  # a bug must not lose the incident: it is recorded unattributed
                logger.exception(f"Attributing an OOM kill of pod {sighting.pod} failed")
                attribution = unattributed(f"{type(error).__name__}: {error}")
            recorded = next_oom_status(previous, sighting, attribution)
            try:
                await memory_api(self._client).patch_status(*key, {"oomKills": recorded.to_manifest()})
            except ObjectNotFoundError:
                return True
            except (ApiError, WriteConflictError):
                return False
        memory = MemoryRef.from_body(body)
        self._events.post(memory, [oom_event(sighting, recorded)])
        self._metrics.oom_killed(key, recorded.budget)
        if self._recorded is not None:  # Initial and Auto apply the fix at once (the usage loop)
            self._recorded(key)
        logger.warning(
            f"OOMKilled: {key[0]}/{sighting.pod} container {sighting.termination.container}, "
            f"FlinkTaskManagerMemory {key[1]}: the {recorded.budget} budget ran out"
        )
        return True

    def _remember(self, sighting: OomSighting) -> None:
        self._handled[sighting.key()] = None
        while len(self._handled) > REMEMBERED:
            self._handled.popitem(last=False)


def task_manager_container(
    spec: Mapping[str, Any], sighting: OomSighting, workload: tuple[WorkloadKind, str] | None
) -> str | None:
    """The TaskManager container of the pod, as the resource's target (or the webhook) would pick it."""
    wanted = None
    if workload is not None:
        targets = (
            (spec.get("targets") or {}).get("workloads") if isinstance(spec.get("targets"), Mapping) else None
        )
        for target in targets if isinstance(targets, list) else []:
            if isinstance(target, Mapping) and (target.get("kind"), target.get("name")) == (
                workload[0].value,
                workload[1],
            ):
                container = target.get("container")
                wanted = container if isinstance(container, str) else None
    chosen = select_container(sighting.container_names, wanted)
    return None if isinstance(chosen, Refused) else chosen


class _NamespaceSink:
    """What the namespace watch feeds: the names, handed to the event loop (the pod watches live there)."""

    def __init__(
        self,
        call: Callable[[Callable[[], None]], None],
        listed: Callable[[set[str]], None],
        seen: Callable[[str], None],
        gone: Callable[[str], None],
    ) -> None:
        self._call, self._listed, self._seen, self._gone = call, listed, seen, gone
        self._listing: set[str] = set()

    def page(self, namespace: str | None, items: list[Json], *, first: bool, last: bool) -> None:
        """From the event loop: a page of every namespace there is; the last one settles the watches."""
        if first:
            self._listing = set()
        self._listing |= {name for item in items if (name := _name(item)) is not None}
        if last:
            listed, self._listing = self._listing, set()
            self._listed(listed)

    def put(self, obj: Json) -> None:
        name = _name(obj)
        if name is not None:
            self._call(lambda: self._seen(name))

    def remove(self, obj: Json) -> None:
        name = _name(obj)
        if name is not None:
            self._call(lambda: self._gone(name))


def _name(obj: Json) -> str | None:
    name = (obj.get("metadata") or {}).get("name") if isinstance(obj.get("metadata"), Mapping) else None
    return name if isinstance(name, str) and name else None


class _PodSink:
    """What the pod watches feed: only pods with an OOMKilled container go further, as sightings."""

    def __init__(self, offer: Any) -> None:
        self._offer = offer

    def replace(self, namespace: str | None, items: Iterable[Json]) -> None:
        """A whole list (the benchmark's way in)."""
        for item in items:
            self.put(item)

    def page(self, namespace: str | None, items: list[Json], *, first: bool, last: bool) -> None:
        """A page of the list: looked at now, so only a page's pods are ever held at once."""
        self.replace(namespace, items)

    def put(self, obj: Json) -> None:
        sightings = oom_sightings(obj)
        if sightings:
            self._offer(sightings, pod_owner(obj))

    def remove(self, obj: Json) -> None:
        """A deleted pod's last state may show an incident not seen before (killed, then deleted)."""
        self.put(obj)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
