"""The FlinkTaskManagerMemories every replica keeps for the mutating webhook, by list+watch.

One ``ListWatch`` (see ``cluster.watch``) per namespace the operator serves, or one for the whole
cluster when it serves every namespace. A namespace given as a glob (``flink-*``) has no watch of its
own (it would take a cluster-wide list right the chart does not grant for a namespaced install): its
resources are read from the API server when a pod asks for one, as any miss is.

Only what the pod mutation reads is kept (``slim_memory``: kind, identity, generation, spec, and of
the status only the options of the recommendation updateMode Initial or Auto applied), so 10 000
resources cost the cache a few MiB, not their whole bodies with status and managed fields.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Sequence

from flink_tm_memory.api.v1alpha1 import GROUP, PLURAL, VERSION
from flink_tm_memory.cluster.client import ClusterClient, Json
from flink_tm_memory.cluster.watch import ListWatch, WatchedCache
from flink_tm_memory.render.recommendation import applied_options

_GLOB = frozenset("*?[")


def slim_memory(body: Json) -> Json:
    """What ``render.pod_mutation`` reads of a FlinkTaskManagerMemory, copied."""
    metadata = body.get("metadata") or {}
    kept = {key: metadata[key] for key in ("name", "namespace", "uid", "generation") if key in metadata}
    spec = body.get("spec")
    slim: Json = {
        "apiVersion": body.get("apiVersion"),
        "kind": body.get("kind"),
        "metadata": kept,
        "spec": copy.deepcopy(spec) if isinstance(spec, dict) else {},
    }
    status = body.get("status")
    applied = applied_options(status if isinstance(status, dict) else None)
    if applied is not None:  # new pods get the applied recommendation, as the ConfigMap holds it
        slim["status"] = {"autoUpdates": {"current": {"set": applied}}}
    return slim


class MemoryCache:
    """FlinkTaskManagerMemories by (namespace, name) in the served namespaces, kept by list+watch."""

    def __init__(
        self, client: ClusterClient, namespaces: Sequence[str] = (), **watch_options: object
    ) -> None:
        self.cache = WatchedCache(slim_memory)
        plain = [namespace for namespace in namespaces if not _GLOB & set(namespace)]
        if not namespaces:
            paths: list[tuple[str | None, str]] = [(None, f"/apis/{GROUP}/{VERSION}/{PLURAL}")]
        else:
            paths = [(ns, f"/apis/{GROUP}/{VERSION}/namespaces/{ns}/{PLURAL}") for ns in dict.fromkeys(plain)]
        self.watches = [
            ListWatch(client, path, self.cache, namespace=ns, **watch_options)  # type: ignore[arg-type]
            for ns, path in paths
        ]

    def get(self, namespace: str, name: str) -> Json | None:
        return self.cache.get(namespace, name)

    @property
    def synced(self) -> bool:
        """Every watch has listed once: the cache holds every resource that existed then."""
        return all(watch.synced.is_set() for watch in self.watches)

    def describe(self) -> str:
        """For readiness: how far the watches are."""
        waiting = [watch.what for watch in self.watches if not watch.synced.is_set()]
        if waiting:
            return f"not listed yet: {', '.join(waiting)}"
        return f"{len(self.cache)} FlinkTaskManagerMemories cached by {len(self.watches)} watch(es)"

    async def run(self) -> None:
        """Runs every watch until cancelled."""
        await asyncio.gather(*(watch.run() for watch in self.watches))
