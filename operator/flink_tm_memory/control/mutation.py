"""The mutating webhook for opted-in Pods: ``render.pod_mutation``'s JSONPatch, as kopf's admission answer.

A pod opts in with the ``flinkmemory.io/profile`` label; the handler is registered with a label filter,
so kopf never runs it for any other pod (and its webhook configuration selects only labelled pods).
The handler finds the FlinkTaskManagerMemory the label names, in the pod's namespace, and hands both
to ``pod_mutation``, which decides everything.

Where the resource comes from: every pod creation waits on this webhook, and a request to the API
server per pod would be most of its latency (and load on the API server at every scale-up). The
operator already watches FlinkTaskManagerMemories, so a kopf index (``memory_by_name``, fed by that
watch) holds each one's spec and identity, and a pod is answered from memory. A miss (a resource in
a namespace the operator does not serve, or one created an instant ago) is read from the API server
(absent: None), so the index is a cache, never the authority on absence.

How the RFC 6902 operations reach the answer: kopf builds a mutating webhook's JSONPatch itself, as
the difference between the reviewed object and that object after the handler's ``patch``
(``Patch.as_json_patch``). A merge-patch on ``patch`` cannot append to a container's ``env`` nor
change one container of the list (lists replace whole), but ``Patch.fns`` holds transformations
kopf applies to its copy of the object before diffing. So the operations are applied here, to a
copy of the pod (where a failure can still become a warning), and the one transformation kopf
runs sets its copy to that result: kopf's diff is then exactly the change ``pod_mutation`` asked for.

A webhook must not block a cluster: whatever fails (the API server, a missing namespace, an operation
that does not apply) admits the pod unchanged with a warning saying why. The handler never denies.
The API server sets the object's namespace from the request's before admission, so the pod's
``metadata.namespace`` is the namespace of the request.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, cast

import kopf

from flink_tm_memory.cluster.client import ClusterClient
from flink_tm_memory.cluster.objects import memory_api
from flink_tm_memory.render.pod_mutation import PROFILE_LABEL, Operation, pod_mutation
from flink_tm_memory.render.webhook_configurations import MUTATE_POD_PATH
from flink_tm_memory.runtime.metrics import note_webhook_failure

MUTATE_ID = MUTATE_POD_PATH
"""The handler id, and so the webhook's URL path (``/mutate-pod``) on kopf's server."""
MEMORY_INDEX = "memory_by_name"
"""The kopf index of FlinkTaskManagerMemories by (namespace, name); kopf passes it by this keyword."""

Json = dict[str, Any]


class PodMutator:
    """Mutates opted-in pods on CREATE, reading their FlinkTaskManagerMemory through ``client``."""

    def __init__(self, client: ClusterClient) -> None:
        self._client = client

    async def on_pod_create(
        self, body: kopf.Body, patch: kopf.Patch, warnings: list[str], **kwargs: Any
    ) -> None:
        """Puts the pod's mutation in kopf's ``patch`` and its warnings in kopf's ``warnings``."""
        pod: Json = copy.deepcopy(dict(body))
        metadata = pod.get("metadata") or {}
        profile = (metadata.get("labels") or {}).get(PROFILE_LABEL)
        try:
            namespace = metadata.get("namespace")
            if not isinstance(namespace, str) or not namespace:
                raise ValueError("the pod has no namespace")
            resource = await self._memory(namespace, str(profile), kwargs.get(MEMORY_INDEX))
            mutation = pod_mutation(pod, resource)
            mutated = apply_operations(pod, mutation.patch)
        except Exception as error:  # a webhook must not block pod creation: admit unchanged
            note_webhook_failure()
            warnings.append(
                f"FlinkTaskManagerMemory {profile}: pod admitted unchanged, the mutation failed: "
                f"{type(error).__name__}: {error}"
            )
            return
        warnings.extend(mutation.warnings)
        if mutation.changed:
            patch.fns.append(_become(mutated))

    async def _memory(self, namespace: str, name: str, index: kopf.Index[Any, Json] | None) -> Json | None:
        indexed = index.get((namespace, name)) if index is not None else None
        for resource in indexed or ():
            return resource
        return await memory_api(self._client).read(namespace, name)


def index_memory(
    namespace: str | None, name: str, body: kopf.Body, **_: Any
) -> dict[tuple[str | None, str], Json]:
    """The index entry of one FlinkTaskManagerMemory: what ``pod_mutation`` reads of it, copied."""
    metadata = body.get("metadata", {})
    kept = {key: metadata[key] for key in ("name", "namespace", "uid", "generation") if key in metadata}
    slim = {"apiVersion": body.get("apiVersion"), "kind": body.get("kind"), "metadata": kept}
    return {(namespace, name): copy.deepcopy({**slim, "spec": dict(body.get("spec") or {})})}


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


def _become(mutated: Json) -> kopf.PatchFn:
    def transform(raw: kopf.RawBody) -> None:
        body = cast(dict[str, Any], raw)
        body.clear()
        body.update(copy.deepcopy(mutated))

    return transform
