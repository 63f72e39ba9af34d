"""The mutating webhook for TaskManager pods: ``render.pod_mutation``'s JSONPatch, as an admission answer.

A pod opts in with the ``flinkmemory.io/profile`` label; its webhook configuration selects only
labelled pods, and a pod without the label is admitted here without a patch or a warning anyway (a
configuration edited by hand). Only ``CREATE`` is mutated. The step finds the FlinkTaskManagerMemory
the label names, in the pod's namespace, and hands both to ``pod_mutation``, which decides everything.

Where the resource comes from: every pod creation waits on this webhook, and a request to the API
server per pod would be most of its latency (and load on the API server at every scale-up). Every
replica keeps the FlinkTaskManagerMemories of the served namespaces in a cache fed by a list+watch
of its own (``cluster.memory_cache``; kopf runs only where reconciliation runs), so a pod is answered
from memory. A miss (a namespace not watched, a resource created an instant ago) is read from the
API server (absent: None), so the cache is never the authority on absence. A resource in
``updateMode`` Initial or Auto is always read afresh: its layout is the recommendation the usage loop
records in the status just before the reconciler rolls the workload, and the pods of that rollout
must not be admitted from a cache the status write has not reached yet (a read after the write sees
it; a watch event may still be on its way).

The operations ``pod_mutation`` emits are applied here, to a copy of the pod, before they are sent:
one that would not apply (the API server would refuse the whole patch, and the pod with it) becomes a
warning instead. A webhook must not block a cluster: whatever fails (the API server, a missing
namespace, an operation that does not apply) admits the pod unchanged with a warning saying why, and
counts as an ``error`` in the metrics. The step never denies. The API server sets the object's
namespace from the request's before admission, so the pod's ``metadata.namespace`` is the namespace
of the request.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, Protocol

from flink_tm_memory.cluster.client import ClusterClient
from flink_tm_memory.cluster.objects import memory_api
from flink_tm_memory.render.pod_mutation import PROFILE_LABEL, Operation, pod_mutation
from flink_tm_memory.render.webhook_configurations import MUTATE_POD_PATH
from flink_tm_memory.runtime.admission.review import AdmissionAnswer

FOLLOW_USAGE = frozenset({"Initial", "Auto"})
"""Update modes whose layout is in the status (the applied recommendation): always read afresh."""
MUTATE_ID = MUTATE_POD_PATH
"""The webhook's URL path (``/mutate-pod``) on the admission server, and its label in the metrics."""
PODS = ("", "pods")

Json = dict[str, Any]


class MemoryLookup(Protocol):
    """Where FlinkTaskManagerMemories are looked up first (``cluster.memory_cache.MemoryCache``)."""

    def get(self, namespace: str, name: str) -> Json | None: ...


class PodMutator:
    """Mutates opted-in pods on CREATE, from ``cache``, reading a miss through ``client``."""

    def __init__(self, client: ClusterClient, cache: MemoryLookup | None = None) -> None:
        self._client = client
        self._cache = cache

    async def __call__(self, request: Json) -> AdmissionAnswer:
        """The answer to one AdmissionReview ``request`` for a pod."""
        pod = request.get("object")
        if request.get("operation") != "CREATE" or not isinstance(pod, Mapping):
            return AdmissionAnswer(allowed=True)
        metadata = pod.get("metadata") or {}
        profile = (metadata.get("labels") or {}).get(PROFILE_LABEL)
        if not profile:
            return AdmissionAnswer(allowed=True)
        try:
            namespace = metadata.get("namespace")
            if not isinstance(namespace, str) or not namespace:
                raise ValueError("the pod has no namespace")
            resource = await self._memory(namespace, str(profile))
            mutation = pod_mutation(pod, resource)
            apply_operations(pod, mutation.patch)  # raises if the API server would refuse it
        except Exception as error:  # a webhook must not block pod creation: admit unchanged
            warning = (
                f"FlinkTaskManagerMemory {profile}: pod admitted unchanged, the mutation failed: "
                f"{type(error).__name__}: {error}"
            )
            return AdmissionAnswer(allowed=True, warnings=(warning,), failed=True)
        return AdmissionAnswer(allowed=True, warnings=tuple(mutation.warnings), patch=tuple(mutation.patch))

    async def _memory(self, namespace: str, name: str) -> Json | None:
        cached = self._cache.get(namespace, name) if self._cache is not None else None
        if cached is not None and (cached.get("spec") or {}).get("updateMode") not in FOLLOW_USAGE:
            return cached
        return await memory_api(self._client).read(namespace, name)


def apply_operations(document: Mapping[str, Any], operations: list[Operation]) -> Json:
    """RFC 6902 ``add`` and ``replace`` (the operations ``pod_mutation`` emits), on a copy.

    A missing parent, a ``replace`` of a missing member, or another operation raises, as the API
    server would refuse the patch.
    """
    result: Json = copy.deepcopy(dict(document))
    for operation in operations:
        op, path = operation.get("op"), operation.get("path")
        if op not in ("add", "replace") or not isinstance(path, str) or not path.startswith("/"):
            raise ValueError(f"unsupported JSONPatch operation: {operation!r}")
        *parents, last = [part.replace("~1", "/").replace("~0", "~") for part in path.split("/")[1:]]
        target: Any = result
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        value = copy.deepcopy(operation.get("value"))
        if isinstance(target, list):
            if op == "add":
                target.insert(len(target) if last == "-" else int(last), value)
            else:
                target[int(last)] = value
        elif isinstance(target, dict):
            if op == "replace" and last not in target:
                raise KeyError(f"replace of a missing member: {path}")
            target[last] = value
        else:
            raise ValueError(f"not a container at the parent of {path}")
    return result
