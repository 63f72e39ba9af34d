"""What a user (or a GitOps tool) does to the cluster in a test: apply, patch, delete, over HTTP.

The tests talk to the emulated API server the way ``kubectl`` does, through its REST endpoints (with
kmock's own HTTP client, whose requests ``ApiEmulator.operator_writes`` tells apart from the
operator's), and read the stored objects directly. ``eventually`` polls a condition until a
deadline instead of sleeping for a guessed time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml

from flink_tm_memory.render.claims import OPT_IN_ANNOTATION
from tests.integration.emulator import ApiEmulator

MEMORIES = "flinkmemory.io/v1alpha1/flinktaskmanagermemories"
CONFIG_MAPS = "v1/configmaps"
DEPLOYMENTS = "apps/v1/deployments"
STATEFUL_SETS = "apps/v1/statefulsets"
FLINK_DEPLOYMENTS = "flink.apache.org/v1beta1/flinkdeployments"
EVENTS = "v1/events"
NAMESPACE = "default"
SAMPLES = Path(__file__).resolve().parents[2] / "manifests" / "samples"
MERGE_PATCH = "application/merge-patch+json"

T = TypeVar("T")
Json = dict[str, Any]


PATIENCE = 20.0
"""How long a test waits for something that must happen: generous, for a machine busy with other work.
A deadline, not a duration: a condition met returns at once, so only a failing test waits it out."""


def sample(name: str) -> Json:
    """A manifest of ``manifests/samples/``."""
    document: Json = yaml.safe_load((SAMPLES / f"{name}.yaml").read_text(encoding="utf-8"))
    return document


def collection_url(resource: str, namespace: str | None = NAMESPACE) -> str:
    """The URL of a collection; ``namespace=None`` for a cluster-scoped resource."""
    group_version, plural = resource.rsplit("/", 1)
    prefix = "/api/v1" if group_version == "v1" else f"/apis/{group_version}"
    return f"{prefix}/{plural}" if namespace is None else f"{prefix}/namespaces/{namespace}/{plural}"


class Kubectl:
    """The test's client of the emulated API server."""

    def __init__(self, emulator: ApiEmulator) -> None:
        self.emulator = emulator

    async def create(self, resource: str, body: Json, namespace: str | None = NAMESPACE) -> Json:
        return await self._send("POST", collection_url(resource, namespace), body)

    async def patch(
        self,
        resource: str,
        name: str,
        body: Json,
        namespace: str | None = NAMESPACE,
        content_type: str = MERGE_PATCH,
    ) -> Json:
        url = f"{collection_url(resource, namespace)}/{name}"
        return await self._send("PATCH", url, body, content_type)

    async def delete(self, resource: str, name: str, namespace: str | None = NAMESPACE) -> Json:
        return await self._send("DELETE", f"{collection_url(resource, namespace)}/{name}")

    def get(self, resource: str, name: str, namespace: str | None = NAMESPACE) -> Json | None:
        return self.emulator.stored(resource, namespace, name)

    def status(self, name: str, namespace: str | None = NAMESPACE) -> Json:
        body = self.get(MEMORIES, name, namespace) or {}
        status: Json = body.get("status") or {}
        return status

    def condition(self, name: str, kind: str) -> Json:
        return next((entry for entry in self.status(name).get("conditions", []) if entry["type"] == kind), {})

    def events(self, name: str | None = None) -> list[Json]:
        """Events stored in the default namespace, about ``name`` if given, oldest first."""
        found = [
            stored.raw
            for (resource, _, _), stored in self.emulator.objects.items()
            if resource == self.emulator.resource(EVENTS) and not stored.deleted
        ]
        return [
            event for event in found if name is None or event.get("involvedObject", {}).get("name") == name
        ]

    async def _send(
        self, method: str, url: str, body: Json | None = None, content_type: str | None = None
    ) -> Json:
        headers = {"Content-Type": content_type} if content_type else {}
        async with self.emulator.request(method, url, json=body, headers=headers) as response:
            document: Json = await response.json()
            if response.status >= 400:
                raise AssertionError(f"{method} {url} failed: {response.status} {document}")
            return document


async def ready(kubectl: Kubectl, name: str, timeout: float = PATIENCE) -> Json:
    """The status, once it says Ready for the resource's current generation."""

    def check() -> Json | None:
        body = kubectl.get(MEMORIES, name) or {}
        status: Json = body.get("status") or {}
        current = status.get("observedGeneration") == body.get("metadata", {}).get("generation")
        return status if current and kubectl.condition(name, "Ready").get("status") == "True" else None

    return await eventually(check, timeout, what=f"{name} Ready")


async def observed(kubectl: Kubectl, name: str, generation: int, timeout: float = PATIENCE) -> Json:
    """The status, once it describes spec generation ``generation``."""

    def check() -> Json | None:
        status = kubectl.status(name)
        return status if status.get("observedGeneration") == generation else None

    return await eventually(check, timeout, what=f"{name} generation {generation} observed")


def first_container_limits(kubectl: Kubectl, name: str = "flink-taskmanager") -> object:
    """The resource limits of a Deployment's first container (``None`` when it has none)."""
    body = kubectl.get(DEPLOYMENTS, name) or {}
    return body["spec"]["template"]["spec"]["containers"][0].get("resources", {}).get("limits")


def deployment(
    name: str,
    containers: list[Json],
    *,
    kind: str = "Deployment",
    replicas: int = 2,
    for_memory: str | None = None,
) -> Json:
    """A minimal apps/v1 workload with the given pod template containers, opted in for ``for_memory``."""
    return {
        "apiVersion": "apps/v1",
        "kind": kind,
        "metadata": {"name": name, **opt_in(for_memory)},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": containers}},
        },
    }


def opt_in(memory: str | None) -> Json:
    """The metadata that lets FlinkTaskManagerMemory ``memory`` write an object it did not create."""
    return {"annotations": {OPT_IN_ANNOTATION: memory}} if memory is not None else {}


async def eventually(
    check: Callable[[], T | None], timeout: float = PATIENCE, *, what: str = "the condition"
) -> T:
    """Polls ``check`` until it returns something truthy; fails after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout} s")
        await asyncio.sleep(0.02)


async def stays(check: Callable[[], bool], duration: float, *, what: str = "the state") -> None:
    """Asserts ``check`` holds throughout ``duration`` seconds (for "nothing happens" claims)."""
    deadline = time.monotonic() + duration
    while time.monotonic() < deadline:
        assert check(), f"{what} changed"
        await asyncio.sleep(0.02)
