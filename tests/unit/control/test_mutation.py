"""The pod webhook's step: from the cache first, the API server on a miss, and never a denial."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from flink_tm_memory.cluster.errors import ApiError
from flink_tm_memory.cluster.memory_cache import slim_memory
from flink_tm_memory.control.mutation import PodMutator, apply_operations
from flink_tm_memory.render.pod_mutation import PROFILE_LABEL

Json = dict[str, Any]
SAMPLES = Path(__file__).resolve().parents[3] / "manifests" / "samples"


def resource() -> Json:
    document: Json = yaml.safe_load((SAMPLES / "process-size.yaml").read_text())
    document["metadata"]["namespace"] = "flink"
    return document


def request(*, profile: str | None = "process-size", operation: str = "CREATE") -> Json:
    labels = {PROFILE_LABEL: profile} if profile else {}
    pod = {
        "metadata": {"namespace": "flink", "labels": labels},
        "spec": {"containers": [{"name": "taskmanager", "image": "flink:2.2"}]},
    }
    return {"operation": operation, "object": pod, "userInfo": {"username": "rs-controller"}}


class Client:
    """Answers GETs of one FlinkTaskManagerMemory path, or fails; counts them."""

    def __init__(self, answer: Json | Exception | None) -> None:
        self.answer, self.reads = answer, 0

    async def get(self, path: str, query: object = None, **names: str) -> Json:
        self.reads += 1
        assert names == {"namespace": "flink", "name": "process-size"}
        if isinstance(self.answer, Exception):
            raise self.answer
        assert self.answer is not None
        return self.answer


class Cache:
    def __init__(self, *objects: Json) -> None:
        self.objects = {(o["metadata"]["namespace"], o["metadata"]["name"]): slim_memory(o) for o in objects}

    def get(self, namespace: str, name: str) -> Json | None:
        return self.objects.get((namespace, name))


async def test_a_cached_resource_sizes_the_pod_without_an_api_request() -> None:
    client = Client(ApiError("must not be asked", transient=True))
    mutator = PodMutator(client, Cache(resource()))  # type: ignore[arg-type]

    answer = await mutator(request())

    assert answer.allowed
    assert not answer.failed
    assert client.reads == 0
    patched = apply_operations(request()["object"], list(answer.patch))
    assert patched["spec"]["containers"][0]["resources"]["limits"]["memory"] == "1728Mi"


async def test_a_miss_is_read_from_the_api_server() -> None:
    client = Client(resource())

    answer = await PodMutator(client, Cache())(request())  # type: ignore[arg-type]

    assert client.reads == 1
    assert answer.patch


async def test_an_api_failure_admits_the_pod_unchanged_with_a_warning_and_counts_as_failed() -> None:
    client = Client(ApiError("the API server did not answer: ReadTimeoutError", transient=True))

    answer = await PodMutator(client, Cache())(request())  # type: ignore[arg-type]

    assert answer.allowed
    assert answer.failed
    assert answer.patch == ()
    [warning] = answer.warnings
    assert "pod admitted unchanged" in warning
    assert "ReadTimeoutError" in warning


async def test_pods_without_the_label_and_operations_other_than_create_are_left_alone() -> None:
    client = Client(resource())
    mutator = PodMutator(client, Cache(resource()))  # type: ignore[arg-type]

    for answer in (await mutator(request(profile=None)), await mutator(request(operation="UPDATE"))):
        assert answer.allowed
        assert answer.patch == ()
        assert answer.warnings == ()
    assert client.reads == 0


async def test_a_resource_following_usage_is_read_afresh_for_the_applied_recommendation() -> None:
    stale = resource()
    stale["spec"]["updateMode"] = "Auto"
    stale["spec"]["recommendations"] = {"jobManager": {"url": "http://127.0.0.1:8081"}}
    fresh = {
        **stale,
        "status": {"autoUpdates": {"current": {"set": {"taskmanager.memory.process.size": "1g"}}}},
    }
    client = Client(fresh)

    answer = await PodMutator(client, Cache(stale))(request())  # type: ignore[arg-type]

    assert client.reads == 1
    patched = apply_operations(request()["object"], list(answer.patch))
    assert patched["spec"]["containers"][0]["resources"]["limits"]["memory"] == "1Gi"
