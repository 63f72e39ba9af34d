"""Read, create and patch, per kind the operator touches, behind one small interface.

ConfigMaps (core), Deployments and StatefulSets (apps), FlinkDeployments (the Flink Kubernetes
Operator's custom resource), the operator's own FlinkTaskManagerMemory and, when it manages them,
its webhook configurations (admissionregistration). Patches are sent with the
content type the renderer chose (strategic merge for built-in workloads, JSON merge otherwise);
the client is always told, because its default for a patch body is a JSON patch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from flink_tm_memory.api.v1alpha1 import GROUP, PLURAL, VERSION, WorkloadKind
from flink_tm_memory.cluster.client import ClusterClient, Json
from flink_tm_memory.cluster.errors import ObjectNotFoundError

FLINK_DEPLOYMENTS = ("flink.apache.org", "v1beta1", "flinkdeployments")
MEMORIES = (GROUP, VERSION, PLURAL)


class ObjectApi(Protocol):
    """The three calls the apply loop needs, for one kind."""

    @property
    def kind(self) -> str: ...

    async def read(self, namespace: str, name: str) -> Json | None: ...

    async def create(self, namespace: str, body: Json) -> Json: ...

    async def patch(self, namespace: str, name: str, body: Json, content_type: str) -> Json: ...


@dataclass(frozen=True, slots=True)
class ConfigMaps:
    client: ClusterClient
    kind: str = "ConfigMap"

    async def read(self, namespace: str, name: str) -> Json | None:
        return await _absent_as_none(
            self.client.call(self.client.core.read_namespaced_config_map, name, namespace)
        )

    async def create(self, namespace: str, body: Json) -> Json:
        return await self.client.call(self.client.core.create_namespaced_config_map, namespace, body)

    async def patch(self, namespace: str, name: str, body: Json, content_type: str) -> Json:
        core = self.client.core
        return await self.client.call(
            core.patch_namespaced_config_map, name, namespace, body, _content_type=content_type
        )


@dataclass(frozen=True, slots=True)
class Deployments:
    client: ClusterClient
    kind: str = "Deployment"

    async def read(self, namespace: str, name: str) -> Json | None:
        return await _absent_as_none(
            self.client.call(self.client.apps.read_namespaced_deployment, name, namespace)
        )

    async def create(self, namespace: str, body: Json) -> Json:
        raise NotImplementedError("the operator never creates workloads")

    async def patch(self, namespace: str, name: str, body: Json, content_type: str) -> Json:
        apps = self.client.apps
        return await self.client.call(
            apps.patch_namespaced_deployment, name, namespace, body, _content_type=content_type
        )


@dataclass(frozen=True, slots=True)
class StatefulSets:
    client: ClusterClient
    kind: str = "StatefulSet"

    async def read(self, namespace: str, name: str) -> Json | None:
        apps = self.client.apps
        return await _absent_as_none(self.client.call(apps.read_namespaced_stateful_set, name, namespace))

    async def create(self, namespace: str, body: Json) -> Json:
        raise NotImplementedError("the operator never creates workloads")

    async def patch(self, namespace: str, name: str, body: Json, content_type: str) -> Json:
        apps = self.client.apps
        return await self.client.call(
            apps.patch_namespaced_stateful_set, name, namespace, body, _content_type=content_type
        )


@dataclass(frozen=True, slots=True)
class CustomObjects:
    """Any namespaced custom resource, by group, version and plural."""

    client: ClusterClient
    kind: str
    resource: tuple[str, str, str]

    async def read(self, namespace: str, name: str) -> Json | None:
        group, version, plural = self.resource
        custom = self.client.custom
        return await _absent_as_none(
            self.client.call(custom.get_namespaced_custom_object, group, version, namespace, plural, name)
        )

    async def create(self, namespace: str, body: Json) -> Json:
        raise NotImplementedError("the operator never creates custom objects")

    async def patch(self, namespace: str, name: str, body: Json, content_type: str) -> Json:
        group, version, plural = self.resource
        custom = self.client.custom
        return await self.client.call(
            custom.patch_namespaced_custom_object,
            group,
            version,
            namespace,
            plural,
            name,
            body,
            _content_type=content_type,
        )


@dataclass(frozen=True, slots=True)
class WebhookConfigurations:
    """Validating or mutating webhook configurations: cluster-scoped, so ``namespace`` is ignored."""

    client: ClusterClient
    kind: str

    async def read(self, namespace: str, name: str) -> Json | None:
        return await _absent_as_none(self.client.call(self._method("read"), name))

    async def create(self, namespace: str, body: Json) -> Json:
        return await self.client.call(self._method("create"), body)

    async def patch(self, namespace: str, name: str, body: Json, content_type: str) -> Json:
        return await self.client.call(self._method("patch"), name, body, _content_type=content_type)

    def _method(self, verb: str) -> Any:
        flavour = {"ValidatingWebhookConfiguration": "validating", "MutatingWebhookConfiguration": "mutating"}
        return getattr(self.client.admission, f"{verb}_{flavour[self.kind]}_webhook_configuration")


def workload_api(client: ClusterClient, kind: WorkloadKind) -> ObjectApi:
    """The API of a workload target's kind."""
    if kind is WorkloadKind.DEPLOYMENT:
        return Deployments(client)
    if kind is WorkloadKind.STATEFUL_SET:
        return StatefulSets(client)
    return CustomObjects(client, kind.value, FLINK_DEPLOYMENTS)


def memory_api(client: ClusterClient) -> CustomObjects:
    """The API of the operator's own FlinkTaskManagerMemory resources."""
    return CustomObjects(client, "FlinkTaskManagerMemory", MEMORIES)


async def _absent_as_none(call: Any) -> Json | None:
    try:
        found: Json = await call
    except ObjectNotFoundError:
        return None
    return found
