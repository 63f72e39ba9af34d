"""Read, create and patch, per kind the operator touches, behind one small interface.

ConfigMaps (core), the workload kinds of ``api.workloads`` (Deployments, StatefulSets,
FlinkDeployments: their API paths come from that table), the operator's own FlinkTaskManagerMemory
(and its status), Events, the one Secret holding the webhook's certificates, when it manages them its
webhook configurations (admissionregistration), SubjectAccessReviews, and the Lease of its leader
election (coordination; read, created once, then replaced whole under its resourceVersion). Each kind
is its API path; the client fills in (and quotes) the namespace and the name. Patches are sent with
the content type the renderer chose (strategic merge for built-in workloads, JSON merge otherwise).
Workloads, Secrets and webhook configurations are never created: the operator only patches what their
owners (or the chart) made.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from flink_tm_memory.api.v1alpha1 import GROUP, PLURAL, VERSION
from flink_tm_memory.api.workloads import WorkloadKind
from flink_tm_memory.cluster.client import ClusterClient, Json
from flink_tm_memory.cluster.errors import ObjectNotFoundError
from flink_tm_memory.render.writes import MERGE_PATCH

CORE = "/api/v1"
ADMISSION = "/apis/admissionregistration.k8s.io/v1"
MEMORIES = f"/apis/{GROUP}/{VERSION}"
COORDINATION = "/apis/coordination.k8s.io/v1"


class ObjectApi(Protocol):
    """The three calls the apply loop needs, for one kind."""

    @property
    def kind(self) -> str: ...

    async def read(self, namespace: str, name: str) -> Json | None: ...

    async def create(self, namespace: str, body: Json) -> Json: ...

    async def patch(self, namespace: str, name: str, body: Json, content_type: str) -> Json: ...


@dataclass(frozen=True, slots=True)
class NamespacedObjects:
    """A namespaced kind: its group-version path (``/api/v1``, ``/apis/apps/v1``) and its plural."""

    client: ClusterClient
    kind: str
    group_version: str
    plural: str
    creatable: bool = True

    @property
    def _collection(self) -> str:
        return f"{self.group_version}/namespaces/{{namespace}}/{self.plural}"

    @property
    def _item(self) -> str:
        return f"{self._collection}/{{name}}"

    async def read(self, namespace: str, name: str) -> Json | None:
        return await _absent_as_none(self.client.get(self._item, namespace=namespace, name=name))

    async def create(self, namespace: str, body: Json) -> Json:
        if not self.creatable:
            raise NotImplementedError(f"the operator never creates a {self.kind}")
        return await self.client.create(self._collection, body, namespace=namespace)

    async def patch(self, namespace: str, name: str, body: Json, content_type: str) -> Json:
        return await self.client.patch(self._item, body, content_type, namespace=namespace, name=name)


@dataclass(frozen=True, slots=True)
class Memories(NamespacedObjects):
    """The operator's own FlinkTaskManagerMemory resources, and their status."""

    kind: str = "FlinkTaskManagerMemory"
    group_version: str = MEMORIES
    plural: str = PLURAL
    creatable: bool = False

    async def patch_status(self, namespace: str, name: str, status: Json) -> Json:
        """A JSON merge patch of the status subresource (``None`` values drop fields)."""
        path = f"{self._item}/status"
        return await self.client.patch(path, {"status": status}, MERGE_PATCH, namespace=namespace, name=name)


@dataclass(frozen=True, slots=True)
class WebhookConfigurations:
    """Validating or mutating webhook configurations: cluster-scoped, so ``namespace`` is ignored."""

    client: ClusterClient
    kind: str

    @property
    def _collection(self) -> str:
        return f"{ADMISSION}/{self.kind.lower()}s"

    async def read(self, namespace: str, name: str) -> Json | None:
        return await _absent_as_none(self.client.get(f"{self._collection}/{{name}}", name=name))

    async def create(self, namespace: str, body: Json) -> Json:
        raise NotImplementedError(f"the operator never creates a {self.kind}: the chart does")

    async def patch(self, namespace: str, name: str, body: Json, content_type: str) -> Json:
        return await self.client.patch(f"{self._collection}/{{name}}", body, content_type, name=name)


@dataclass(frozen=True, slots=True)
class Lease:
    """One named ``coordination.k8s.io/v1`` Lease: the leader election's lock."""

    client: ClusterClient
    namespace: str
    name: str

    async def read(self) -> Json | None:
        """The Lease, or ``None`` if it does not exist yet."""
        path = f"{COORDINATION}/namespaces/{{namespace}}/leases/{{name}}"
        return await _absent_as_none(self.client.get(path, namespace=self.namespace, name=self.name))

    async def create(self, spec: Json) -> Json:
        """Creates the Lease with ``spec``; ``WriteConflictError`` if another replica created it first."""
        body = {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": self.name, "namespace": self.namespace},
            "spec": spec,
        }
        path = f"{COORDINATION}/namespaces/{{namespace}}/leases"
        return await self.client.create(path, body, namespace=self.namespace)

    async def replace(self, lease: Json, spec: Json) -> Json:
        """Writes ``spec`` over ``lease`` as read; ``WriteConflictError`` if it changed since."""
        body = {**lease, "spec": spec}
        path = f"{COORDINATION}/namespaces/{{namespace}}/leases/{{name}}"
        return await self.client.replace(path, body, namespace=self.namespace, name=self.name)


def config_map_api(client: ClusterClient) -> NamespacedObjects:
    return NamespacedObjects(client, "ConfigMap", CORE, "configmaps")


def secret_api(client: ClusterClient) -> NamespacedObjects:
    """Secrets: only the webhook's certificates, read and patched by name (never created)."""
    return NamespacedObjects(client, "Secret", CORE, "secrets", creatable=False)


def event_api(client: ClusterClient) -> NamespacedObjects:
    return NamespacedObjects(client, "Event", CORE, "events")


def workload_api(client: ClusterClient, kind: WorkloadKind) -> ObjectApi:
    """The API of a workload target's kind (patched, never created), from the table of kinds."""
    return NamespacedObjects(client, kind.value, kind.spec.api_path, kind.spec.plural, creatable=False)


def memory_api(client: ClusterClient) -> Memories:
    """The API of the operator's own FlinkTaskManagerMemory resources."""
    return Memories(client)


async def _absent_as_none(call: Any) -> Json | None:
    try:
        found: Json = await call
    except ObjectNotFoundError:
        return None
    return found
