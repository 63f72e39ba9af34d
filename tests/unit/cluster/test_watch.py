"""The list+watch cache: lists, follows events from the last resourceVersion, re-lists on 410, backs off on errors.

A fake client stands in for the API server: each list returns the next prepared list, each watch the
next prepared stream of event lines (split across chunks anywhere, as a chunked response may be).
Sleeps are recorded, not slept; the watch's worker thread is real.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from flink_tm_memory.cluster.errors import ApiError
from flink_tm_memory.cluster.memory_cache import MemoryCache, slim_memory
from flink_tm_memory.cluster.watch import LIST_PAGE, MAX_BACKOFF, ListWatch, WatchedCache

Json = dict[str, Any]
PATH = "/apis/flinkmemory.io/v1alpha1/flinktaskmanagermemories"


def memory(name: str, version: str, *, namespace: str = "flink", memory_size: str = "4g") -> Json:
    return {
        "apiVersion": "flinkmemory.io/v1alpha1",
        "kind": "FlinkTaskManagerMemory",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": f"uid-{name}",
            "generation": 1,
            "resourceVersion": version,
            "managedFields": [{"manager": "kubectl"}],
        },
        "spec": {"flinkConfiguration": {"taskmanager.memory.process.size": memory_size}},
        "status": {"conditions": []},
    }


def listing(version: str, *items: Json) -> Json:
    return {"kind": "List", "metadata": {"resourceVersion": version}, "items": list(items)}


def event(kind: str, obj: Json) -> bytes:
    return json.dumps({"type": kind, "object": obj}).encode() + b"\n"


def gone() -> bytes:
    return event("ERROR", {"kind": "Status", "code": 410, "reason": "Expired", "message": "too old"})


class FakeStream:
    chunked = True

    def __init__(self, data: bytes, chunk: int) -> None:
        self._chunks = [data[at : at + chunk] for at in range(0, len(data), chunk)]
        self.shut = False

    def stream(self, _: int) -> Iterator[bytes]:
        assert self.chunked, "stream() of an unchunked body waits for a whole buffer"
        for chunk in self._chunks:
            if self.shut:
                return
            yield chunk

    def read1(self, _: int) -> bytes:
        assert not self.chunked
        return b"" if self.shut or not self._chunks else self._chunks.pop(0)

    def shutdown(self) -> None:
        self.shut = True

    def release_conn(self) -> None:
        pass


class FakeClient:
    """Lists and streams served in order; when streams run out, a watch waits until stopped."""

    def __init__(
        self,
        lists: list[Json | Exception],
        streams: list[bytes | Exception],
        chunk: int = 7,
        *,
        chunked: bool = True,
    ) -> None:
        self.lists, self.streams, self.chunk, self.chunked = lists, streams, chunk, chunked
        self.watched_from: list[str] = []
        self.listed = 0
        self.queries: list[dict[str, str]] = []
        self.exhausted = asyncio.Event()
        self.loop = asyncio.get_running_loop()

    async def get(self, path: str, query: Mapping[str, str] | None = None, **_: str) -> Json:
        assert path == PATH
        self.listed += 1
        self.queries.append(dict(query or {}))
        answer = self.lists.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def open_stream(self, path: str, query: Mapping[str, str], read_timeout: float) -> FakeStream:
        assert query["watch"] == "true"
        assert query["allowWatchBookmarks"] == "true"
        assert read_timeout > float(query["timeoutSeconds"])
        self.watched_from.append(query["resourceVersion"])
        if not self.streams:
            self.loop.call_soon_threadsafe(self.exhausted.set)
            return _Endless()
        data = self.streams.pop(0)
        if isinstance(data, Exception):
            raise data
        stream = FakeStream(data, self.chunk)
        stream.chunked = self.chunked
        return stream


class _Endless(FakeStream):
    def __init__(self) -> None:
        super().__init__(b"", 1)

    def stream(self, _: int) -> Iterator[bytes]:
        while not self.shut:
            time.sleep(0.001)  # a stream with nothing to say, until shut
            yield b""


async def run_until_exhausted(client: FakeClient, cache: WatchedCache) -> tuple[ListWatch, list[float]]:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    watch = ListWatch(client, PATH, cache, sleep=sleep)  # type: ignore[arg-type]
    task = asyncio.create_task(watch.run())
    await asyncio.wait_for(client.exhausted.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 10)
    return watch, slept


async def test_the_list_fills_the_cache_and_the_watch_follows_from_its_version() -> None:
    stream = (
        event("ADDED", memory("b", "11"))
        + event("MODIFIED", memory("a", "12", memory_size="8g"))
        + event("BOOKMARK", {"kind": "FlinkTaskManagerMemory", "metadata": {"resourceVersion": "15"}})
        + event("DELETED", memory("b", "16"))
    )
    client = FakeClient([listing("10", memory("a", "9"))], [stream])
    cache = WatchedCache(slim_memory)

    watch, slept = await run_until_exhausted(client, cache)

    assert watch.synced.is_set()
    assert client.watched_from == ["10", "16"]  # the second watch goes on from the last version seen
    assert cache.get("flink", "b") is None
    kept = cache.get("flink", "a")
    assert kept is not None
    assert kept["spec"]["flinkConfiguration"]["taskmanager.memory.process.size"] == "8g"
    assert "status" not in kept
    assert "managedFields" not in kept["metadata"]
    assert slept == []


async def test_a_body_that_is_not_chunked_is_read_as_it_arrives() -> None:
    client = FakeClient([listing("10")], [event("ADDED", memory("a", "11"))], chunked=False)
    cache = WatchedCache(slim_memory)

    await run_until_exhausted(client, cache)

    assert cache.get("flink", "a") is not None
    assert client.watched_from == ["10", "11"]


async def test_a_list_is_read_page_by_page_and_replaces_the_cache_once_whole() -> None:
    first = listing("10", memory("a", "9"), memory("b", "9"))
    first["metadata"]["continue"] = "token-1"
    second = listing("10", memory("c", "9"))
    client = FakeClient([first, second], [event("ADDED", memory("d", "11"))])
    cache = WatchedCache(slim_memory)
    cache.put(memory("gone", "1"))

    watch, slept = await run_until_exhausted(client, cache)

    assert client.queries == [{"limit": str(LIST_PAGE)}, {"limit": str(LIST_PAGE), "continue": "token-1"}]
    assert watch.lists == 1
    assert [cache.get("flink", name) is not None for name in ("a", "b", "c", "d")] == [True] * 4
    assert cache.get("flink", "gone") is None  # not on any page: deleted while no watch ran
    assert client.watched_from[0] == "10"
    assert slept == []


async def test_a_continue_token_that_expired_lists_again_from_the_first_page() -> None:
    first = listing("10", memory("a", "9"))
    first["metadata"]["continue"] = "token-1"
    expired = ApiError("the API server answered 410 Gone", transient=False)
    client = FakeClient([first, expired, listing("12", memory("b", "11"))], [])
    cache = WatchedCache(slim_memory)

    watch, slept = await run_until_exhausted(client, cache)

    assert [query.get("continue") for query in client.queries] == [None, "token-1", None]
    assert watch.lists == 1
    assert cache.get("flink", "a") is None  # the half-read list never reached the cache
    assert cache.get("flink", "b") is not None
    assert client.watched_from == ["12"]
    assert len(slept) == 1


async def test_410_gone_lists_again_and_the_list_replaces_what_was_cached() -> None:
    client = FakeClient(
        [listing("10", memory("a", "9"), memory("b", "9")), listing("30", memory("b", "29"))],
        [event("ADDED", memory("c", "11")) + gone()],
    )
    cache = WatchedCache(slim_memory)

    watch, slept = await run_until_exhausted(client, cache)

    assert watch.lists == 2
    assert client.watched_from == ["10", "30"]
    assert cache.get("flink", "a") is None  # deleted while the watch was gone: the list says so
    assert cache.get("flink", "c") is None
    assert cache.get("flink", "b") is not None
    assert slept == []  # a 410 is not a failure: no backoff


async def test_errors_back_off_doubling_up_to_the_cap_and_a_good_list_resets_it() -> None:
    failure = ApiError("the API server answered 503", transient=True)
    failures: list[Json | Exception] = [failure] * 9
    client = FakeClient(
        [*failures, listing("10"), failure, listing("20")],
        [b"not json\n", b""],
    )
    cache = WatchedCache(slim_memory)

    watch, slept = await run_until_exhausted(client, cache)

    assert slept[:9] == [0.5, 1, 2, 4, 8, 16, MAX_BACKOFF, MAX_BACKOFF, MAX_BACKOFF]
    # the unreadable line after the good list: a failure, backed off from the start again
    assert slept[9:] == [0.5, 1]
    assert watch.lists == 2
    assert client.watched_from == ["10", "20", "20"]


async def test_a_watch_that_cannot_open_is_retried_after_listing_again() -> None:
    client = FakeClient(
        [listing("10"), listing("11")], [ApiError("the API server did not answer", transient=True)]
    )
    cache = WatchedCache(slim_memory)

    watch, slept = await run_until_exhausted(client, cache)

    assert slept == [0.5]
    assert watch.lists == 2


async def test_an_error_event_other_than_gone_is_a_failure() -> None:
    error = event("ERROR", {"kind": "Status", "code": 500, "message": "etcd is away"})
    client = FakeClient([listing("10"), listing("11")], [error])

    _, slept = await run_until_exhausted(client, WatchedCache(slim_memory))

    assert slept == [0.5]


def test_a_namespace_list_replaces_only_that_namespace() -> None:
    cache = WatchedCache(slim_memory)
    cache.put(memory("a", "1", namespace="flink"))
    cache.put(memory("b", "1", namespace="batch"))

    cache.replace("flink", [memory("c", "2", namespace="flink")])

    assert cache.get("flink", "a") is None
    assert cache.get("flink", "c") is not None
    assert cache.get("batch", "b") is not None


def test_objects_without_a_name_or_namespace_are_not_cached() -> None:
    cache = WatchedCache(slim_memory)

    cache.put({"metadata": {"name": "a"}})
    cache.put({"metadata": "oops"})
    cache.replace(None, [{"metadata": {"namespace": "flink"}}])

    assert len(cache) == 0


def test_the_memory_cache_watches_each_plain_namespace_and_leaves_globs_to_the_fallback() -> None:
    client: Any = object()

    everywhere = MemoryCache(client)
    some = MemoryCache(client, ["flink", "batch-*", "flink", "batch"])

    assert [watch.what for watch in everywhere.watches] == [PATH]
    assert [watch.what for watch in some.watches] == [
        "/apis/flinkmemory.io/v1alpha1/namespaces/flink/flinktaskmanagermemories in flink",
        "/apis/flinkmemory.io/v1alpha1/namespaces/batch/flinktaskmanagermemories in batch",
    ]
    assert not some.synced
    assert "not listed yet" in some.describe()


def test_the_cache_keeps_the_applied_recommendation_for_new_pods() -> None:
    body = memory("a", "9")
    body["status"] = {
        "conditions": [],
        "usage": {"buckets": []},
        "autoUpdates": {
            "current": {"time": "2026-12-07T00:00:00Z", "set": {"taskmanager.memory.process.size": "820m"}}
        },
    }
    kept = slim_memory(body)
    assert kept["status"] == {
        "autoUpdates": {"current": {"set": {"taskmanager.memory.process.size": "820m"}}}
    }


class PageRecorder:
    """A sink that records how the list came: each page's names and flags."""

    def __init__(self, client: FakeClient) -> None:
        self.client = client
        self.pages: list[tuple[list[str], bool, bool, int]] = []

    def page(self, namespace: str | None, items: list[Json], *, first: bool, last: bool) -> None:
        # the requests made so far: each page reaches the sink before the next is asked for
        self.pages.append(([item["metadata"]["name"] for item in items], first, last, self.client.listed))

    def put(self, obj: Json) -> None:
        pass

    def remove(self, obj: Json) -> None:
        pass


async def test_each_page_reaches_the_sink_before_the_next_is_asked_for() -> None:
    pages = [listing("10", memory(name, "9")) for name in ("a", "b", "c")]
    pages[0]["metadata"]["continue"] = "1"
    pages[1]["metadata"]["continue"] = "2"
    client = FakeClient([*pages], [])
    sink = PageRecorder(client)
    watch = ListWatch(client, PATH, sink)  # type: ignore[arg-type]
    task = asyncio.create_task(watch.run())
    await asyncio.wait_for(client.exhausted.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 10)
    assert sink.pages == [(["a"], True, False, 1), (["b"], False, False, 2), (["c"], False, True, 3)]
