"""The mutating webhook, served by the real operator over HTTPS, patches opted-in Pods on CREATE.

The operator runs with its webhook server (as in the validating webhook's tests) against the emulated
API server, where the test creates the FlinkTaskManagerMemory a pod's ``flinkmemory.io/profile``
label names. The test posts AdmissionReview v1 requests for a Pod CREATE to kopf's endpoint for the
handler (``/mutate-pod``), decodes the base64 JSONPatch of the answer, applies it to the pod and reads
the result. A pod is never denied: without the label it is left alone, and with a label naming no
resource it is admitted unchanged with a warning.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import kmock
import pytest

from flink_tm_memory.control.mutation import MUTATE_ID
from flink_tm_memory.render.plan import derive_memory_plan
from flink_tm_memory.render.pod_mutation import FLINK_PROPERTIES, MUTATED_ANNOTATION, PROFILE_LABEL
from tests.integration.conftest import StartOperator
from tests.integration.emulator import ApiEmulator
from tests.integration.kubectl import (
    MEMORIES,
    NAMESPACE,
    PATIENCE,
    Kubectl,
    eventually,
    observed,
    ready,
    sample,
)
from tests.integration.webhooks import webhook_session

Json = dict[str, Any]


def pod(profile: str | None, *, env: list[Json] | None = None) -> Json:
    """A TaskManager pod as a user writes it, in the test namespace, optionally opted in."""
    labels = {"app": "flink"} if profile is None else {"app": "flink", PROFILE_LABEL: profile}
    taskmanager: Json = {"name": "taskmanager", "image": "flink:2.2", "args": ["taskmanager"]}
    if env is not None:
        taskmanager["env"] = env
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"generateName": "tm-", "namespace": NAMESPACE, "labels": labels},
        "spec": {"containers": [taskmanager, {"name": "log-shipper", "image": "fluent-bit:3"}]},
    }


def pod_review(obj: Json) -> Json:
    """An AdmissionReview v1 request for a Pod CREATE, as the API server sends it."""
    core = {"group": "", "version": "v1"}
    return {
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": str(uuid.uuid4()),
            "kind": {**core, "kind": "Pod"},
            "resource": {**core, "resource": "pods"},
            "requestKind": {**core, "kind": "Pod"},
            "requestResource": {**core, "resource": "pods"},
            "name": "",
            "namespace": NAMESPACE,
            "operation": "CREATE",
            "userInfo": {"username": "system:serviceaccount:kube-system:replicaset-controller"},
            "object": obj,
            "oldObject": None,
            "dryRun": False,
            "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"},
        },
    }


def decoded_patch(response: Json) -> list[Json]:
    assert response["patchType"] == "JSONPatch"
    operations: list[Json] = json.loads(base64.b64decode(response["patch"]))
    return operations


def apply_patch(document: Json, operations: list[Json]) -> Json:
    """RFC 6902 add, replace, remove, copy and move, on a copy, as the API server applies them."""
    result = copy.deepcopy(document)

    def locate(path: str) -> tuple[Any, str]:
        *parents, last = [part.replace("~1", "/").replace("~0", "~") for part in path.split("/")[1:]]
        target: Any = result
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        return target, last

    def take(path: str, *, remove: bool) -> Any:
        target, last = locate(path)
        key: int | str = int(last) if isinstance(target, list) else last
        value = target[key]
        if remove:
            del target[key]
        return copy.deepcopy(value)

    def put(path: str, value: Any, *, replace: bool) -> None:
        target, last = locate(path)
        if isinstance(target, list):
            if replace:
                target[int(last)] = value
            else:
                target.insert(len(target) if last == "-" else int(last), value)
        else:
            if replace and last not in target:
                raise KeyError(last)
            target[last] = value

    for operation in operations:
        op, path = operation["op"], operation["path"]
        if op == "remove":
            take(path, remove=True)
        elif op in ("copy", "move"):
            put(path, take(operation["from"], remove=op == "move"), replace=False)
        else:
            put(path, copy.deepcopy(operation["value"]), replace=op == "replace")
    return result


def properties(container: Json) -> dict[str, str]:
    [entry] = [entry for entry in container.get("env", []) if entry["name"] == FLINK_PROPERTIES]
    lines = [line.split(":", 1) for line in entry["value"].splitlines()]
    return {key.strip(): value.strip() for key, value in lines}


def pinned_of(resource: Json) -> dict[str, str]:
    layout = derive_memory_plan(resource["spec"]).layout
    assert layout is not None
    return layout.pinned_options()


class MutatingWebhook:
    """An HTTPS client of the operator's ``/mutate-pod`` endpoint, trusting only the generated CA."""

    def __init__(self, session: aiohttp.ClientSession, base: str) -> None:
        self.session = session
        self.url = f"{base}/{MUTATE_ID}"

    async def admit(self, request: Json) -> Json:
        async with self.session.post(self.url, json=request) as answer:
            assert answer.status == 200, await answer.text()
            body: Json = await answer.json()
        response: Json = body["response"]
        assert response["uid"] == request["request"]["uid"]
        return response


@pytest.fixture
async def mutating_webhook(start_operator: StartOperator, tmp_path: Path) -> AsyncIterator[MutatingWebhook]:
    async with webhook_session(start_operator, tmp_path) as (session, base):
        yield MutatingWebhook(session, base)


async def test_an_opted_in_pod_gets_its_taskmanager_resources_flink_properties_and_the_audit_annotation(
    mutating_webhook: MutatingWebhook, kubectl: Kubectl
) -> None:
    resource = await kubectl.create(MEMORIES, sample("process-size"))
    before = pod("process-size", env=[{"name": "ENABLE_BUILT_IN_PLUGINS", "value": "flink-s3.jar"}])

    response = await mutating_webhook.admit(pod_review(before))
    after = apply_patch(before, decoded_patch(response))

    assert response["allowed"] is True
    assert "warnings" not in response
    taskmanager, sidecar = after["spec"]["containers"]
    assert taskmanager["resources"] == {
        "requests": {"memory": "1728Mi", "cpu": "2"},
        "limits": {"memory": "1728Mi", "cpu": "2"},
    }
    assert [entry["name"] for entry in taskmanager["env"]] == ["ENABLE_BUILT_IN_PLUGINS", FLINK_PROPERTIES]
    assert properties(taskmanager) == pinned_of(resource)
    assert sidecar == before["spec"]["containers"][1]
    annotation = after["metadata"]["annotations"][MUTATED_ANNOTATION]
    assert annotation.startswith(f"process-size generation {resource['metadata'].get('generation')}: ")
    assert "container taskmanager: memory=1728Mi (limit 1728Mi), cpu=2 (limit 2)" in annotation
    assert after["metadata"]["labels"] == before["metadata"]["labels"]


async def test_a_pod_without_the_profile_label_is_allowed_without_a_patch_or_a_warning(
    mutating_webhook: MutatingWebhook, kubectl: Kubectl
) -> None:
    await kubectl.create(MEMORIES, sample("process-size"))

    response = await mutating_webhook.admit(pod_review(pod(None)))

    assert response["allowed"] is True
    assert "patch" not in response
    assert "warnings" not in response


async def test_a_pod_naming_a_missing_resource_is_allowed_unchanged_with_a_warning_naming_it(
    mutating_webhook: MutatingWebhook,
) -> None:
    response = await mutating_webhook.admit(pod_review(pod("no-such-profile")))

    assert response["allowed"] is True
    assert "patch" not in response
    [warning] = response["warnings"]
    assert "no-such-profile" in warning


async def test_a_pod_whose_mutation_cannot_be_read_is_allowed_unchanged_with_a_warning(
    mutating_webhook: MutatingWebhook,
) -> None:
    unplaced = pod("process-size")
    del unplaced["metadata"]["namespace"]

    response = await mutating_webhook.admit(pod_review(unplaced))

    assert response["allowed"] is True
    assert "patch" not in response
    [warning] = response["warnings"]
    assert "admitted unchanged" in warning
    assert "no namespace" in warning


def reads_of(emulator: ApiEmulator, name: str) -> int:
    """The operator's GETs of one FlinkTaskManagerMemory (not lists, not watches)."""
    return sum(
        1
        for request in emulator
        if request.method.value == "GET"
        and request.resource == kmock.resource(MEMORIES)
        and request.name == name
    )


async def test_a_resource_the_operator_watches_is_answered_from_its_index_without_an_api_request(
    mutating_webhook: MutatingWebhook, kubectl: Kubectl, emulator: ApiEmulator
) -> None:
    await kubectl.create(MEMORIES, sample("process-size"))
    await ready(kubectl, "process-size")
    # The index has a watch of its own, which may bring the resource a moment after kopf's did (a pod
    # admitted before then is read from the API server: a miss is never taken for an absence).
    await answered_from_index(mutating_webhook, emulator, "process-size")
    before = reads_of(emulator, "process-size")

    for _ in range(3):
        response = await mutating_webhook.admit(pod_review(pod("process-size")))
        assert "patch" in response

    assert reads_of(emulator, "process-size") == before


async def test_an_edited_resource_sizes_the_next_pod_with_its_new_layout_and_generation(
    mutating_webhook: MutatingWebhook, kubectl: Kubectl
) -> None:
    await kubectl.create(MEMORIES, sample("process-size"))
    await ready(kubectl, "process-size")
    edit = {"spec": {"flinkConfiguration": {"taskmanager.memory.process.size": "4g"}}}
    edited = await kubectl.patch(MEMORIES, "process-size", edit)
    await observed(kubectl, "process-size", edited["metadata"]["generation"])

    before = pod("process-size")
    response = await mutating_webhook.admit(pod_review(before))
    after = apply_patch(before, decoded_patch(response))

    assert after["spec"]["containers"][0]["resources"]["requests"]["memory"] == "4Gi"
    assert properties(after["spec"]["containers"][0]) == pinned_of(edited)
    generation = edited["metadata"]["generation"]
    assert after["metadata"]["annotations"][MUTATED_ANNOTATION].startswith(
        f"process-size generation {generation}: "
    )


async def test_a_deleted_resource_no_longer_sizes_pods(
    mutating_webhook: MutatingWebhook, kubectl: Kubectl, emulator: ApiEmulator
) -> None:
    await kubectl.create(MEMORIES, sample("process-size"))
    await ready(kubectl, "process-size")
    await kubectl.delete(MEMORIES, "process-size")
    await eventually(lambda: kubectl.get(MEMORIES, "process-size") is None, what="the resource gone")

    response = await eventually_unchanged(mutating_webhook, pod("process-size"))

    [warning] = response["warnings"]
    assert "FlinkTaskManagerMemory process-size (label flinkmemory.io/profile) does not exist" in warning


async def answered_from_index(
    webhook: MutatingWebhook, emulator: ApiEmulator, name: str, timeout: float = PATIENCE
) -> None:
    """Returns once a pod naming ``name`` is sized without a read of the resource (the index has it)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        before = reads_of(emulator, name)
        response = await webhook.admit(pod_review(pod(name)))
        assert "patch" in response
        if reads_of(emulator, name) == before:
            return
        assert asyncio.get_running_loop().time() < deadline, f"{name} is never answered from the index"
        await asyncio.sleep(0.05)


async def eventually_unchanged(webhook: MutatingWebhook, subject: Json, timeout: float = PATIENCE) -> Json:
    """The webhook's answer once it no longer patches ``subject`` (the deletion reached its index)."""

    async def attempt() -> Json | None:
        response = await webhook.admit(pod_review(subject))
        return response if "patch" not in response else None

    deadline = asyncio.get_running_loop().time() + timeout
    while (response := await attempt()) is None:
        assert asyncio.get_running_loop().time() < deadline, "the deleted resource still sizes pods"
        await asyncio.sleep(0.05)
    return response
