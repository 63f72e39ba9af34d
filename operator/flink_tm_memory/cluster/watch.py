"""A list+watch of one collection, kept in a local cache, independent of kopf.

Every replica serves the admission webhooks, and kopf (whose watch fed an index before) runs only where
reconciliation runs; so the mutating webhook reads FlinkTaskManagerMemories from a cache of its own,
kept the way every Kubernetes informer keeps one:

- **list**, which replaces what the cache holds for that collection (so an object deleted while no watch
  ran is gone), and gives the collection's ``resourceVersion``; in pages of ``LIST_PAGE`` objects
  (``limit``, then ``continue`` with the token each page gives, as client-go's reflector lists), each
  handed to the sink as it comes, so one answer of the API server, and the operator's memory while
  listing, stay bounded by a page at any number of objects; a token that expired between pages (410)
  fails that list, which starts again from its first page;
- **watch** from that ``resourceVersion`` (with bookmarks, so an idle stream still moves it forward):
  ``ADDED``/``MODIFIED`` put the object, ``DELETED`` removes it; a stream that ends (the server's
  ``timeoutSeconds``, a dropped connection, a read timeout) is opened again from the last version seen;
- **410 Gone** (the version is older than the API server keeps): list again, at once;
- **errors** (the API server away, 403 while RBAC is being installed, a line that is not JSON): logged
  at WARNING, then list again after a backoff that doubles up to ``MAX_BACKOFF``, reset by a list that
  succeeds.

The stream is read by a worker thread with the operator's own client (its credentials and TLS
settings): the events are parsed there and put in the cache under a lock, so nothing of the watch runs
on the event loop that awaits it, which serves admission. Cancelling ``run`` shuts the stream
(urllib3's ``shutdown``, made for exactly this) so the worker thread ends at once.

The cache is a cache, never the authority on absence: a miss (a resource created an instant ago, a
namespace not watched) is for the caller to read from the API server.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Protocol

import urllib3
from urllib3 import BaseHTTPResponse

from flink_tm_memory.cluster.client import ClusterClient, Json
from flink_tm_memory.cluster.errors import ApiError, ObjectNotFoundError, WriteConflictError

logger = logging.getLogger(__name__)

Key = tuple[str, str]
WATCH_TIMEOUT = 300
"""Seconds the API server keeps one watch open (``timeoutSeconds``); it is then opened again."""
READ_MARGIN = 30.0
"""Seconds of silence past ``WATCH_TIMEOUT`` after which the stream counts as dead."""
LIST_PAGE = 500
"""Objects per page of a list (``limit``): client-go's reflector's page size."""
FIRST_BACKOFF = 0.5
MAX_BACKOFF = 30.0
_GONE = 410
_PIECE = 64 << 10


class WatchGoneError(Exception):
    """The watch's ``resourceVersion`` is too old (410 Gone): list again."""


class WatchSink(Protocol):
    """What a ``ListWatch`` feeds: a list's collection, page by page, then each object put or removed.

    ``put`` and ``remove`` are called from the watch's worker thread, ``page`` from the event loop. A
    list's pages come in order, the first with ``first``, the last with ``last`` (one page may be
    both); a list that fails between pages is followed by a new one from its first page.
    """

    def page(self, namespace: str | None, items: list[Json], *, first: bool, last: bool) -> None: ...

    def put(self, obj: Json) -> None: ...

    def remove(self, obj: Json) -> None: ...


class WatchedCache:
    """Objects by (namespace, name), as the watches last saw them; safe to read from any thread."""

    def __init__(self, keep: Callable[[Json], Json]) -> None:
        self._keep = keep
        self._lock = threading.Lock()
        self._objects: dict[Key, Json] = {}
        self._listing: dict[Key, Json] = {}
        """The pages of a list under way, kept as they will be cached (swapped in with its last page)."""

    def get(self, namespace: str, name: str) -> Json | None:
        with self._lock:
            return self._objects.get((namespace, name))

    def __len__(self) -> int:
        with self._lock:
            return len(self._objects)

    def replace(self, namespace: str | None, items: Iterable[Json]) -> None:
        """What a list returned: every object of ``namespace`` (``None``: of every namespace)."""
        self.page(namespace, list(items), first=True, last=True)

    def page(self, namespace: str | None, items: list[Json], *, first: bool, last: bool) -> None:
        """One page of a list; the last replaces what the cache held for ``namespace`` with the whole list."""
        if first:
            self._listing = {}
        for item in items:
            key = _key(item)
            if key is not None:
                self._listing[key] = self._keep(item)
        if not last:
            return
        kept, self._listing = self._listing, {}
        with self._lock:
            for key in [key for key in self._objects if namespace is None or key[0] == namespace]:
                del self._objects[key]
            self._objects.update(kept)

    def put(self, obj: Json) -> None:
        key = _key(obj)
        if key is not None:
            kept = self._keep(obj)
            with self._lock:
                self._objects[key] = kept

    def remove(self, obj: Json) -> None:
        key = _key(obj)
        if key is not None:
            with self._lock:
                self._objects.pop(key, None)


def _key(obj: Mapping[str, Any]) -> Key | None:
    metadata = obj.get("metadata")
    if not isinstance(metadata, Mapping):
        return None
    namespace, name = metadata.get("namespace"), metadata.get("name")
    if not isinstance(namespace, str) or not isinstance(name, str):
        return None
    return namespace, name


class ListWatch:
    """Keeps ``cache`` in step with one collection (``path``: all namespaces, or ``namespace``'s)."""

    def __init__(
        self,
        client: ClusterClient,
        path: str,
        cache: WatchSink,
        *,
        namespace: str | None = None,
        watch_timeout: int = WATCH_TIMEOUT,
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        self._client = client
        self._path = path
        self._cache = cache
        self._namespace = namespace
        self._watch_timeout = watch_timeout
        self._sleep = sleep
        self._lock = threading.Lock()
        self._stream: BaseHTTPResponse | None = None
        self._cancelled = False
        self.synced = threading.Event()
        """Set once a list has filled the cache; stays set (a later failure leaves a stale cache, not none)."""
        self.lists = 0
        """Lists made so far (the first, and one after every 410 or error)."""

    @property
    def what(self) -> str:
        return self._path if self._namespace is None else f"{self._path} in {self._namespace}"

    async def run(self) -> None:
        """Lists and watches until cancelled."""
        backoff = FIRST_BACKOFF
        while True:
            try:
                version = await self._list()
                backoff = FIRST_BACKOFF
                while True:
                    version = await self._watch(version)
            except WatchGoneError:
                logger.info(f"Watch of {self.what} expired (410 Gone): listing again")
            except (ApiError, ObjectNotFoundError, WriteConflictError, ValueError, OSError) as error:
                logger.warning(f"Watch of {self.what} failed, listing again in {backoff:g} s: {error}")
                await self._sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)

    async def _list(self) -> str:
        """Lists the collection, page by page; its ``resourceVersion``, to watch from."""
        token: str | None = None
        while True:
            query = {"limit": str(LIST_PAGE), **({"continue": token} if token else {})}
            listed = await self._client.get(self._path, query)
            page = listed.get("items")
            metadata = listed.get("metadata") or {}
            version = metadata.get("resourceVersion")
            if not isinstance(page, list) or not isinstance(version, str):
                raise ValueError(f"the list of {self.what} has no items or no resourceVersion")
            following = metadata.get("continue")
            last = not isinstance(following, str) or not following
            # Handed over page by page: a page's parsed objects are dropped once the sink looked at them.
            items = [item for item in page if isinstance(item, dict)]
            self._cache.page(self._namespace, items, first=token is None, last=last)
            if last:
                break
            token = following
        self.lists += 1
        self.synced.set()
        return version

    async def _watch(self, version: str) -> str:
        try:
            return await asyncio.to_thread(self._follow, version)
        except asyncio.CancelledError:
            self._interrupt()
            raise

    def _interrupt(self) -> None:
        with self._lock:
            self._cancelled = True
            stream = self._stream
        if stream is not None:
            stream.shutdown()

    def _follow(self, version: str) -> str:
        """One watch stream, read to its end in this (worker) thread; returns the last version seen."""
        query = {
            "watch": "true",
            "resourceVersion": version,
            "allowWatchBookmarks": "true",
            "timeoutSeconds": str(self._watch_timeout),
        }
        stream = self._client.open_stream(self._path, query, self._watch_timeout + READ_MARGIN)
        with self._lock:
            if self._cancelled:
                stream.shutdown()
            self._stream = stream
        pending = b""
        try:
            for chunk in _pieces(stream):
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    if line.strip():
                        version = self._event(line, version)
        except (urllib3.exceptions.HTTPError, OSError):
            pass  # a dropped or timed-out stream: watch again from the last version seen
        finally:
            with self._lock:
                self._stream = None
            stream.release_conn()
        return version

    def _event(self, line: bytes, version: str) -> str:
        event = json.loads(line)
        kind, obj = event.get("type"), event.get("object")
        if not isinstance(obj, dict):
            raise ValueError(f"a watch event of {self.what} without an object")
        if kind == "ERROR":
            if obj.get("code") == _GONE:
                raise WatchGoneError(str(obj.get("message", "")))
            raise ApiError(f"the watch of {self.what} ended: {obj.get('message', obj)}", transient=True)
        if kind in ("ADDED", "MODIFIED"):
            self._cache.put(obj)
        elif kind == "DELETED":
            self._cache.remove(obj)
        seen = (obj.get("metadata") or {}).get("resourceVersion")
        return seen if isinstance(seen, str) and seen else version


def _pieces(stream: BaseHTTPResponse) -> Iterator[bytes]:
    """The body as it arrives: chunk by chunk (an API server's watch), else whatever each read gives.

    ``stream()`` on a body that is not chunked waits for a whole buffer, which would hold events back.
    """
    if stream.chunked:
        yield from stream.stream(_PIECE)
        return
    while piece := stream.read1(_PIECE):
        yield piece
