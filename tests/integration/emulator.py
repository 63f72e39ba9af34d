"""kmock's Kubernetes emulator, extended with the API server semantics the operator relies on.

kmock 0.8's ``KubernetesEmulator`` is a dict store behind the Kubernetes URL scheme. The operator
depends on more of the API server's contract than that, so this emulator builds its own store on
kmock's ``KubernetesScaffold`` (the URL scheme, discovery and errors), through kmock's public API
only: the store's answers are kmock fallback reactions. Each extension, and why the operator needs it:

1. **Scripted faults never touch the store.** kmock's emulator applies a write to its store *before*
   the reactions a test scripted (``emulator[...] << 500``) are consulted, so a scripted 500 would
   still change the object. Here the store changes only in the fallback reactions, i.e. only when no
   scripted reaction answered first: a scripted 500 or 409 changes nothing, as on a real server.
2. **``metadata.uid``**, set on create: owner references and the "is it still the same resource"
   check before re-creating a ConfigMap need it.
3. **``metadata.resourceVersion``**, from one counter bumped on every change (lists carry the
   current value): optimistic concurrency needs it, and kopf waits for its own writes by it.
4. **409 on a stale ``resourceVersion``** in a patch (and on creating an existing name): the
   operator's read-decide-write loop must see conflicts to prove it retries them correctly.
5. **No-op writes are no-ops**: a patch that changes nothing keeps the ``resourceVersion`` and emits
   no watch event, as on a real server, so "no write when nothing changed" is measurable.
6. **``metadata.generation``**: 1 on create, bumped when anything but metadata and status changes.
7. **The status subresource**: for a resource declared with it, a write to ``/status`` changes only
   ``status``, and a write to the object itself cannot change ``status``; creation drops ``status``.
8. **Patch types**: JSON merge patch (``null`` deletes), strategic merge patch (the ``containers``-like
   lists merge by their merge key, as the API server does for built-in kinds) and JSON patch
   (kopf's finalizer edits; a failed ``test`` answers 422).
9. **``metadata.generateName``** (kopf posts Events that way).
10. **Label selectors** on list and watch (the operator watches its ConfigMaps by label).
11. **Watches honour ``resourceVersion``** (only later changes are replayed) and cannot miss an event
    that happens while the stream starts; ``drop_watches`` ends open streams, as a dropped connection
    or an API server restart does; ``expire_watches`` ends them with the ``ERROR`` event of code 410
    (``Expired``, "too old resource version") and compacts the history, so a watch asking to resume
    from an older ``resourceVersion`` gets that 410 at once, as after etcd's compaction: the client
    must list again.
12. **Garbage collection**: deleting an object deletes the objects whose owner references name its
    uid (background cascading deletion), so an owned ConfigMap goes with its resource; and an object
    written with owner references of which none names a live object is deleted at once, as the
    garbage collector deletes a dependent whose owners are all absent ("dangling" references): a
    ConfigMap a reconciliation re-creates just after its resource was deleted does not outlive it.
13. **PUT replaces** the whole object (kmock would merge it), refused with 409 when the body's
    ``resourceVersion`` is not the stored one: the leader election writes its Lease that way.
14. **The annotations' size limit**: a create or write leaving an object with more than 256 KiB of
    annotations (keys and values, as the API server counts them) is refused with 422 ``Invalid``, so
    what the operator and kopf record on a resource is tested against the real bound.
15. **SubjectAccessReviews** are answered, not stored: ``allowed`` as ``access_policy`` (a function of
    the review's spec) says, allowing everything by default; ``access_reviews`` keeps each review's
    spec, for tests of the webhook's authorization.
16. **Paged lists** (``limit`` and ``continue``): every page comes from the revision of the first (a
    snapshot, as the API server reads each page at that revision), each but the last with a token for
    the next and ``remainingItemCount``; a token from before ``expire_watches`` answers 410
    ``Expired``; ``pages`` records every paged request, so a test can tell a paged list from one answer.

``declare_cluster`` declares the resources a cluster running this operator serves (kmock answers the
discovery requests kopf starts with from these declarations). ``DirectApiEmulator`` serves the same
semantics without kmock's scripting layer, for load (the benchmark); ``FaultyApiEmulator`` adds
seeded random faults on the operator's writes to it (the reliability tests): 500s, 409 conflicts,
timeouts and connection resets, some after the write was applied.

The real control plane (the e2e suite) remains the final judge of these semantics.
"""

from __future__ import annotations

import asyncio
import collections
import copy
import datetime
import enum
import hashlib
import itertools
import random
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from typing import Any

import aiohttp.web
import attrs
import jsonpatch  # kmock's own dependency, for RFC 6902
import kmock
from kmock._internal import rendering  # DirectApiEmulator only: see its docstring

JSON_PATCH = "application/json-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "volumes": "name",
    "env": "name",
    "volumeMounts": "mountPath",
    "imagePullSecrets": "name",
}
"""The patchMergeKey of the lists a strategic merge patch merges item by item (Pod spec)."""
_DROP: dict[str, Any] = {"type": "__DROP__"}
_EXPIRE: dict[str, Any] = {"type": "__EXPIRE__"}
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
Json = dict[str, Any]


def kubernetes_status(code: int, reason: str, message: str) -> Json:
    """The ``Status`` body the API server answers an error with."""
    return {
        "apiVersion": "v1",
        "kind": "Status",
        "status": "Failure",
        "code": code,
        "reason": reason,
        "message": message,
    }


class Broadcast:
    """One resource's watch events, to every stream open on it (each has its queue, drained as it sends)."""

    def __init__(self) -> None:
        self._queues: list[asyncio.Queue[Json]] = []

    def subscribe(self) -> asyncio.Queue[Json]:
        """A queue that gets every event put from now on."""
        queue: asyncio.Queue[Json] = asyncio.Queue()
        self._queues.append(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[Json]) -> None:
        self._queues.remove(queue)

    def put(self, event: Json) -> None:
        for queue in self._queues:
            queue.put_nowait(event)


@attrs.define(kw_only=True)
class ApiEmulator(kmock.KubernetesScaffold):
    """An API server emulator with uid, resourceVersion, generation, conflicts, subresources and GC."""

    objects: kmock.ObjectsArray = attrs.field(factory=kmock.ObjectsArray, init=False)
    """Every object by (resource, namespace, name), with its history (deleted ones too)."""
    _lock: asyncio.Lock = attrs.field(factory=asyncio.Lock, init=False)
    _buses: collections.defaultdict[kmock.resource, Broadcast] = attrs.field(
        factory=lambda: collections.defaultdict(Broadcast), init=False
    )

    _held: dict[kmock.resource, list[Json]] = attrs.field(factory=dict, init=False)
    _revisions: itertools.count[int] = attrs.field(factory=lambda: itertools.count(1), init=False)
    _revision: int = attrs.field(default=0, init=False)
    _compacted: int = attrs.field(default=0, init=False)
    _uids: set[str] = attrs.field(factory=set, init=False)
    """The uid of every live object (extension 12)."""
    expired: list[Any] = attrs.field(factory=list, init=False)
    """The resource of every watch answered with 410 Expired, in order."""
    access_policy: Callable[[Json], bool] = attrs.field(default=lambda _spec: True, init=False)
    """Whether a SubjectAccessReview (its spec) is allowed (extension 14)."""
    access_reviews: list[Json] = attrs.field(factory=list, init=False)
    """The spec of every SubjectAccessReview asked, in order."""
    _snapshots: dict[str, tuple[int, list[Json]]] = attrs.field(factory=dict, init=False)
    """Paged lists under way (extension 16): by continue token, their revision and the items left."""
    pages: list[tuple[Any, str | None, str | None]] = attrs.field(factory=list, init=False)
    """Every paged list request: its resource, ``limit`` and ``continue`` (extension 16)."""

    # ------------------------------------------------------------------------------------ plumbing

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        # The store answers only what no scripted reaction answered first (extension 1).
        self.fallback[kmock.action.LIST] << self._serve_list
        self.fallback[kmock.action.WATCH] << self._serve_watch
        self.fallback[kmock.action.FETCH] << self._serve_fetch
        self.fallback[kmock.action.CREATE] << self._serve_create
        self.fallback[kmock.action.UPDATE] << self._serve_update
        self.fallback[kmock.action.DELETE] << self._serve_delete

    def _next_revision(self) -> str:
        self._revision = next(self._revisions)
        return str(self._revision)

    def _live(self, key: tuple[Any, str | None, str]) -> Any:
        if key in self.objects and not self.objects[key].deleted:
            return self.objects[key]
        return None

    @staticmethod
    def _named(request: kmock.Request) -> tuple[kmock.resource, str | None, str]:
        """The object a request names; a request without one is the client's mistake (400)."""
        if request.resource is None or request.name is None:
            raise kmock.KubernetesError(400, "BadRequest", "the request names no object")
        return request.resource, request.namespace, request.name

    def _has_status(self, resource: kmock.resource) -> bool:
        return resource in self.resources and "status" in self.resources[resource].subresources

    async def _publish(self, resource: kmock.resource, kind: str, body: Json) -> None:
        event = {"type": kind, "object": copy.deepcopy(body)}
        if resource in self._held:
            self._held[resource].append(event)
        else:
            self._buses[resource].put(event)

    # ------------------------------------------------------------------------------------ writes

    async def _serve_create(self, request: kmock.Request) -> Json:
        if request.resource == kmock.resource(ACCESS_REVIEWS):
            return self._review_access(copy.deepcopy(request.data))
        async with self._lock:
            resource = request.resource
            if resource is None:
                raise kmock.KubernetesError(400, "BadRequest", "the request names no resource")
            body = copy.deepcopy(request.data)
            metadata = body.setdefault("metadata", {})
            namespace = request.namespace or metadata.get("namespace")
            if namespace is not None:
                metadata["namespace"] = namespace
            if not metadata.get("name") and metadata.get("generateName"):
                metadata["name"] = f"{metadata['generateName']}{uuid.uuid4().hex[:5]}"
            key = (resource, namespace, metadata["name"])
            if self._live(key) is not None:
                raise kmock.KubernetesError(409, "AlreadyExists", f"{metadata['name']} already exists")
            metadata.update(
                uid=str(uuid.uuid4()),
                resourceVersion=self._next_revision(),
                creationTimestamp=_now(),
            )
            _check_annotations(body)
            if "spec" in body:
                metadata["generation"] = 1
            if self._has_status(resource):
                body.pop("status", None)
            if key in self.objects:
                self.objects[key].create(body)
            else:
                self.objects[key] = body
            self._uids.add(metadata["uid"])
            await self._publish(resource, "ADDED", body)
            await self._collect_if_orphaned(key, body)
        created: Json = body
        return created

    def _review_access(self, review: Json) -> Json:
        spec = review.get("spec") or {}
        self.access_reviews.append(spec)
        allowed = bool(self.access_policy(spec))
        review["status"] = {"allowed": allowed, **({} if allowed else {"reason": "no RBAC rule allows it"})}
        return review

    async def _serve_update(self, request: kmock.Request) -> Json:
        async with self._lock:
            return await self.apply_patch(
                *self._named(request),
                request.data,
                content_type=request.headers.get("Content-Type", ""),
                subresource=request.subresource,
            )

    async def _serve_replace(self, request: kmock.Request) -> Json:
        """A PUT of a named object (kmock gives PUT no action of its own)."""
        if request.name is None:
            raise kmock.KubernetesError(405, "MethodNotAllowed", "PUT needs an object's name")
        async with self._lock:
            return await self.apply_replacement(*self._named(request), request.data, request.subresource)

    @property
    def lock(self) -> asyncio.Lock:
        """The store's lock, to hold around ``apply_patch`` or ``apply_replacement`` from a test's reaction."""
        return self._lock

    async def apply_patch(
        self,
        resource: kmock.resource,
        namespace: str | None,
        name: str,
        patch: Any,
        *,
        content_type: str = "application/merge-patch+json",
        subresource: str | None = None,
    ) -> Json:
        """Patches a stored object as the API server would (call with the store's lock held)."""
        stored = self._live((resource, namespace, name))
        if stored is None:
            raise kmock.KubernetesError(404, "NotFound", f"{name} not found")
        old = copy.deepcopy(stored.raw)
        _check_precondition(old, patch)
        new = _patched(old, patch, content_type)
        return await self._store_change((resource, namespace, name), old, new, subresource)

    async def apply_replacement(
        self, resource: kmock.resource, namespace: str | None, name: str, body: Any, subresource: str | None
    ) -> Json:
        """Replaces a stored object with ``body`` (a PUT; call with the store's lock held)."""
        stored = self._live((resource, namespace, name))
        if stored is None:
            raise kmock.KubernetesError(404, "NotFound", f"{name} not found")
        if not isinstance(body, Mapping):
            raise kmock.KubernetesError(400, "BadRequest", "the body of a PUT must be an object")
        old = copy.deepcopy(stored.raw)
        _check_precondition(old, body)
        return await self._store_change(
            (resource, namespace, name), old, copy.deepcopy(dict(body)), subresource
        )

    async def _store_change(
        self, key: tuple[Any, str | None, str], old: Json, new: Json, subresource: str | None
    ) -> Json:
        resource, namespace, name = key
        stored = self.objects[key]
        new = self._within_subresource(resource, old, new, subresource)
        _keep_system_metadata(old, new)
        if new == old:
            return old
        _check_annotations(new)
        if "generation" in old["metadata"] and _without_meta_and_status(old) != _without_meta_and_status(new):
            new["metadata"]["generation"] = old["metadata"]["generation"] + 1
        new["metadata"]["resourceVersion"] = self._next_revision()
        stored.history.append(new)
        if new["metadata"].get("deletionTimestamp") and not new["metadata"].get("finalizers"):
            await self._remove((resource, namespace, name))
        else:
            await self._publish(resource, "MODIFIED", new)
            await self._collect_if_orphaned(key, new)
        return new

    def _within_subresource(
        self, resource: kmock.resource, old: Json, new: Json, subresource: str | None
    ) -> Json:
        if not self._has_status(resource):
            return new
        if subresource == "status":
            result = copy.deepcopy(old)
            result.pop("status", None)
            if new.get("status") is not None:
                result["status"] = new["status"]
            return result
        new.pop("status", None)
        if "status" in old:
            new["status"] = copy.deepcopy(old["status"])
        return new

    async def _serve_delete(self, request: kmock.Request) -> Json:
        async with self._lock:
            key = self._named(request)
            stored = self._live(key)
            if stored is None:
                raise kmock.KubernetesError(404, "NotFound", f"{request.name} not found")
            body: Json = copy.deepcopy(stored.raw)
            if body["metadata"].get("finalizers"):
                if not body["metadata"].get("deletionTimestamp"):
                    return await self.apply_patch(*key, {"metadata": {"deletionTimestamp": _now()}})
                return body
            await self._remove(key)
        return body

    async def _remove(self, key: tuple[Any, str | None, str]) -> None:
        """Deletes an object, then every object it owns (extension 12)."""
        stored = self.objects[key]
        body = copy.deepcopy(stored.raw)
        stored.delete()
        self._uids.discard(body["metadata"].get("uid"))
        await self._publish(key[0], "DELETED", body)
        for dependent in self._dependents(body["metadata"]["uid"]):
            await self._remove(dependent)

    async def _collect_if_orphaned(self, key: tuple[Any, str | None, str], body: Json) -> None:
        """Deletes an object whose owner references all name absent objects (extension 12)."""
        listed = body["metadata"].get("ownerReferences")
        owners = [owner for owner in listed if isinstance(owner, dict)] if isinstance(listed, list) else []
        if owners and not any(owner.get("uid") in self._uids for owner in owners):
            await self._remove(key)

    def _dependents(self, uid: str) -> list[tuple[Any, str | None, str]]:
        return [
            key
            for key, stored in self.objects.items()
            if not stored.deleted
            and any(
                owner.get("uid") == uid for owner in stored.raw.get("metadata", {}).get("ownerReferences", [])
            )
        ]

    # ------------------------------------------------------------------------------------ reads

    async def _serve_fetch(self, request: kmock.Request) -> Json:
        async with self._lock:
            stored = self._live(self._named(request))
            if stored is None:
                raise kmock.KubernetesError(404, "NotFound", f"{request.name} not found")
            return copy.deepcopy(stored.raw)

    async def _serve_list(self, request: kmock.Request) -> Json:
        if request.resource is None or request.resource not in self.resources:
            raise kmock.KubernetesResourceNotFoundError()
        limit, token = request.params.get("limit"), request.params.get("continue")
        if limit is not None or token is not None:
            return await self._serve_page(request, limit, token)
        selector = parse_label_selector(request.params.get("labelSelector"))
        async with self._lock:
            items = [copy.deepcopy(body) for body in self._matching(request, selector)]
            revision = str(self._revision)
        return {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": revision}, "items": items}

    async def _serve_page(self, request: kmock.Request, limit: str | None, token: str | None) -> Json:
        """One page of a list (extension 16): consistent, as the API server serves every page of a list
        from the revision of its first; a token older than the compaction answers 410 Expired."""
        self.pages.append((request.resource, limit, token))
        try:
            size = int(limit) if limit is not None else 0
        except ValueError:
            raise kmock.KubernetesError(400, "BadRequest", f"limit: {limit!r} is not a number") from None
        async with self._lock:
            if token is None:
                selector = parse_label_selector(request.params.get("labelSelector"))
                ordered = sorted(
                    self._matching(request, selector),
                    key=lambda body: (body["metadata"].get("namespace") or "", body["metadata"]["name"]),
                )
                revision, remaining = self._revision, [copy.deepcopy(body) for body in ordered]
            else:
                if token not in self._snapshots:
                    raise kmock.KubernetesError(
                        400, "BadRequest", f"continue: {token!r} is not a token given"
                    )
                revision, remaining = self._snapshots.pop(token)
                if revision < self._compacted:
                    raise kmock.KubernetesError(
                        410,
                        "Expired",
                        "The provided continue parameter is too old to display a consistent list",
                    )
        page, rest = (remaining[:size], remaining[size:]) if size > 0 else (remaining, [])
        metadata: Json = {"resourceVersion": str(revision)}
        if rest:
            following = uuid.uuid4().hex
            self._snapshots[following] = (revision, rest)
            metadata |= {"continue": following, "remainingItemCount": len(rest)}
        return {"apiVersion": "v1", "kind": "List", "metadata": metadata, "items": page}

    async def _serve_watch(self, request: kmock.Request) -> AsyncIterator[Any]:
        yield b""  # the headers go out now, even if nothing happens for a while
        selector = parse_label_selector(request.params.get("labelSelector"))
        since = _revision_param(request.params.get("resourceVersion"))
        if 0 < since < self._compacted:
            yield self._expired(request, since)
            return
        if request.resource is None:
            raise kmock.KubernetesError(400, "BadRequest", "the request names no resource")
        bus = self._buses[request.resource]
        async with self._lock:
            events = bus.subscribe()  # under the lock: no change can slip between the replay and the stream
            replay: list[Json] = [
                {"type": "ADDED", "object": copy.deepcopy(body)}
                for body in self._matching(request, selector)
                if int(body["metadata"]["resourceVersion"]) > since
            ]
        try:
            for event in replay:
                yield event
            while True:
                event = await events.get()
                if event is _DROP:
                    return
                if event is _EXPIRE:
                    yield self._expired(request, since)
                    return
                if _in_scope(request, event["object"]) and _selected(selector, event["object"]):
                    yield event
        finally:
            bus.unsubscribe(events)

    def _matching(self, request: kmock.Request, selector: list[tuple[str, str, str | None]]) -> list[Json]:
        return [
            stored.raw
            for (resource, _, _), stored in self.objects.items()
            if resource == request.resource
            and not stored.deleted
            and _in_scope(request, stored.raw)
            and _selected(selector, stored.raw)
        ]

    def _expired(self, request: kmock.Request, since: int) -> Json:
        self.expired.append(request.resource)
        message = f"too old resource version: {since} ({self._compacted})"
        return {"type": "ERROR", "object": kubernetes_status(410, "Expired", message)}

    # ------------------------------------------------------------------------------------ for tests

    def hold_events(self, resource: str) -> None:
        """Holds back the watch events of ``resource``'s changes from now on, as a slow or stalled
        stream does; the changes are stored and served to reads meanwhile. Events already sent stay sent."""
        self._held.setdefault(kmock.resource(resource), [])

    def release_events(self, resource: str) -> None:
        """Sends the held events of ``resource``, in order, and stops holding them."""
        kind = kmock.resource(resource)
        for event in self._held.pop(kind, []):
            self._buses[kind].put(event)

    async def drop_watches(self) -> None:
        """Ends every open watch stream, as a dropped connection does; clients must reconnect."""
        for bus in list(self._buses.values()):
            bus.put(_DROP)

    async def expire_watches(self) -> None:
        """Compacts the history and ends every open stream with ``410 Expired``; clients must list again.

        A watch asking for a ``resourceVersion`` older than now gets the same 410 event at once.
        """
        async with self._lock:
            self._compacted = self._revision
        for bus in list(self._buses.values()):
            bus.put(_EXPIRE)

    def stored(self, resource: str, namespace: str | None, name: str) -> Json | None:
        """The stored object, or ``None`` when it does not exist."""
        stored = self._live((kmock.resource(resource), namespace, name))
        return copy.deepcopy(stored.raw) if stored is not None else None

    def versions(self, resource: str, namespace: str | None, name: str) -> list[Json]:
        """Every stored state of the object since it was (last) created, oldest first."""
        key = (kmock.resource(resource), namespace, name)
        if key not in self.objects:
            return []
        history = list(self.objects[key].history)
        since = max((index + 1 for index, version in enumerate(history) if version is None), default=0)
        return [dict(version) for version in history[since:] if version is not None]

    def matching(self, verb: str, resource: str, *, subresource: str | None = None) -> Any:
        """The requests of one verb to one resource (its objects, or one subresource), to script reactions on."""
        return self[kmock.method(verb), kmock.resource(resource), kmock.subresource(subresource)]

    def operator_writes(self, resource: str | None = None) -> list[kmock.Request]:
        """Write requests the operator (not the test, which uses kmock's client) sent."""
        return [
            request
            for request in self
            if request.method.value in _WRITES
            and not request.headers.get("User-Agent", "").startswith("kmock/")
            and (resource is None or request.resource == kmock.resource(resource))
        ]


@attrs.define(kw_only=True)
class DirectApiEmulator(ApiEmulator):
    """The same API server, answering Kubernetes requests directly, without scripted reactions.

    kmock decides which reaction answers a request by replaying the whole request history through
    each reaction's filters, which is quadratic in the number of requests: fine for a test's hundred,
    not for a benchmark's hundred thousand. Here object requests go straight to the handlers above
    (discovery still goes through kmock); scripting faults is not possible.

    This and ``FaultyApiEmulator`` below are the one place that still overrides a kmock internal,
    ``RawHandler._handle``, because kmock 0.8 has no public way to serve a request directly. Its one
    public entry point, ``RawHandler.__call__(raw aiohttp request)``, parses the request with the
    private ``Request._parse`` and records it in the private ``Root._requests`` before calling
    ``_handle``; and every public reaction (``emulator[criteria] << callable``) is chosen in
    ``_handle`` by ``request in reaction's view``, which iterates the whole recorded history
    (``View.__contains__``): the quadratic cost this class exists to avoid. The answer is rendered
    with ``rendering.Response``, the class a reaction renders with: ``kmock/__init__.py`` imports it
    but leaves it out of ``__all__``, so it is not exported (mypy strict refuses ``kmock.Response``).
    """

    async def _handle(self, request: kmock.Request) -> Any:
        servers: dict[kmock.action, Callable[[kmock.Request], Any]] = {
            kmock.action.LIST: self._serve_list,
            kmock.action.WATCH: self._serve_watch,
            kmock.action.FETCH: self._serve_fetch,
            kmock.action.CREATE: self._serve_create,
            kmock.action.UPDATE: self._serve_update,
            kmock.action.DELETE: self._serve_delete,
        }
        named = request.resource is not None and request.resource.plural
        serve = servers.get(request.action) if named and request.action is not None else None
        if serve is None:  # discovery (/api/v1, /apis/<group>/<version>, ...) stays kmock's
            return await super()._handle(request)
        payload: kmock.Payload = serve
        return await rendering.Response(payload=payload)(request)


class Fault(enum.StrEnum):
    """What can go wrong with one write, as the operator sees it."""

    SERVER_ERROR = "500"
    """Refused with 500 InternalError; nothing stored."""
    CONFLICT = "409 stale resourceVersion"
    """Another client writes the object first, so a write carrying the ``resourceVersion`` it read is
    refused as stale (409; 422 for a JSON patch's ``test``), and a watch event tells of the change."""
    TIMEOUT = "timeout"
    """No answer until the client gives up; nothing stored."""
    TIMEOUT_APPLIED = "timeout after applying"
    """Stored, then no answer until the client gives up: the write happened, its answer is lost."""
    RESET = "connection reset"
    """The TCP connection is closed without an answer; nothing stored."""
    RESET_APPLIED = "connection reset after applying"
    """Stored, then the connection is closed without an answer."""


@attrs.define(kw_only=True)
class FaultyApiEmulator(DirectApiEmulator):
    """``DirectApiEmulator`` whose answers to the operator's writes fail at a seeded random rate.

    Every write the operator sends (its ConfigMap, workload, status and annotation patches and
    Events, kopf's included; the test's own requests, made with kmock's client,
    never fail) fails with probability ``rate``, with one of the ``Fault`` kinds (a conflict only
    for a write carrying a ``resourceVersion``, the only kind a stale version can refuse; it is a
    real concurrent write, so a watch event follows, as on a real server). Each
    decision is drawn from ``seed``, the request's method and path and how many writes to that path
    came before, so a run's faults do not depend on how the requests of different objects
    interleave: the same seed replays the same faults per object. ``hang`` is how long a timeout
    holds its request: longer than the operator's request timeout. ``faults`` counts them by kind.

    Its ``_handle`` is kmock's internal for the reasons ``DirectApiEmulator`` gives; a reset also needs
    the connection's transport, which kmock exposes only as the private ``Request._raw_request``.
    """

    seed: int = 0
    rate: float = 0.0
    hang: float = 2.0
    faults: collections.Counter[Fault] = attrs.field(factory=collections.Counter, init=False)
    writes: int = attrs.field(default=0, init=False)
    concurrent_writes: int = attrs.field(default=0, init=False)
    injected: list[tuple[int, Fault]] = attrs.field(factory=list, init=False)
    """(request id, fault) of every fault, in order: which request got which."""
    _attempts: collections.Counter[str] = attrs.field(factory=collections.Counter, init=False)

    async def _handle(self, request: kmock.Request) -> Any:
        fault = self._fault_for(request)
        if fault is None:
            return await super()._handle(request)
        self.faults[fault] += 1
        if fault is Fault.SERVER_ERROR:
            return _status_response(500, "InternalError", "etcdserver: request timed out (injected)")
        if fault is Fault.CONFLICT:
            await self._write_concurrently(request)
            return await super()._handle(request)  # refused by the stale resourceVersion it carries
        if fault in (Fault.TIMEOUT_APPLIED, Fault.RESET_APPLIED):
            await super()._handle(request)
        if fault in (Fault.TIMEOUT, Fault.TIMEOUT_APPLIED):
            await asyncio.sleep(self.hang)
        elif request._raw_request is not None and request._raw_request.transport is not None:
            request._raw_request.transport.abort()
        return aiohttp.web.Response(status=504)  # nobody reads it: the client gave up, or the socket is gone

    async def _write_concurrently(self, request: kmock.Request) -> None:
        """Another client changes the object first (an annotation), as the API server then sees it."""
        if request.resource is None or request.name is None:
            return
        async with self._lock:
            if self._live((request.resource, request.namespace, request.name)) is None:
                return
            self.concurrent_writes += 1
            touch = {"metadata": {"annotations": {CONCURRENT_WRITER: str(self.concurrent_writes)}}}
            await self.apply_patch(request.resource, request.namespace, request.name, touch)

    def _fault_for(self, request: kmock.Request) -> Fault | None:
        if (
            self.rate <= 0
            or request.method.value not in _WRITES
            or request.headers.get("User-Agent", "").startswith("kmock/")
        ):
            return None
        self.writes += 1
        where = f"{request.method.value} {request.url.path}"
        self._attempts[where] += 1
        digest = hashlib.sha256(f"{self.seed}:{where}:{self._attempts[where]}".encode()).digest()
        draw = random.Random(digest)
        if draw.random() >= self.rate:
            return None
        kinds = [kind for kind in Fault if kind is not Fault.CONFLICT or _has_precondition(request.data)]
        fault = draw.choice(kinds)
        self.injected.append((request.id, fault))
        return fault

    def fault_report(self) -> str:
        """The faults injected so far by kind, and over how many writes (for a test's report)."""
        kinds = ", ".join(f"{kind.value}: {count}" for kind, count in sorted(self.faults.items()))
        return f"{sum(self.faults.values())} faults in {self.writes} writes (seed {self.seed}; {kinds})"


CONCURRENT_WRITER = "reliability.test/concurrent-writes"
"""The annotation another client bumps on an object just before a write to it is refused as stale."""


def _has_precondition(data: Any) -> bool:
    if isinstance(data, Mapping):
        return (data.get("metadata") or {}).get("resourceVersion") is not None
    if isinstance(data, list):
        return any(
            isinstance(op, Mapping)
            and op.get("op") == "test"
            and op.get("path") == "/metadata/resourceVersion"
            for op in data
        )
    return False


def _status_response(code: int, reason: str, message: str) -> aiohttp.web.Response:
    return aiohttp.web.json_response(kubernetes_status(code, reason, message), status=code)


VERBS = frozenset({"get", "list", "watch", "create", "update", "patch", "delete"})
ACCESS_REVIEWS = "authorization.k8s.io/v1/subjectaccessreviews"
CLUSTER_RESOURCES = {
    ACCESS_REVIEWS: ("SubjectAccessReview", False, ()),
    "v1/namespaces": ("Namespace", False, ()),
    "apiextensions.k8s.io/v1/customresourcedefinitions": ("CustomResourceDefinition", False, ()),
    "v1/configmaps": ("ConfigMap", True, ()),
    "v1/secrets": ("Secret", True, ()),
    "v1/events": ("Event", True, ()),
    "coordination.k8s.io/v1/leases": ("Lease", True, ()),
    "v1/pods": ("Pod", True, ()),
    "apps/v1/deployments": ("Deployment", True, ("status",)),
    "apps/v1/statefulsets": ("StatefulSet", True, ("status",)),
    "apps/v1/replicasets": ("ReplicaSet", True, ("status",)),
    "flink.apache.org/v1beta1/flinkdeployments": ("FlinkDeployment", True, ("status",)),
    "flinkmemory.io/v1alpha1/flinktaskmanagermemories": ("FlinkTaskManagerMemory", True, ("status",)),
    "admissionregistration.k8s.io/v1/validatingwebhookconfigurations": (
        "ValidatingWebhookConfiguration",
        False,
        (),
    ),
    "admissionregistration.k8s.io/v1/mutatingwebhookconfigurations": (
        "MutatingWebhookConfiguration",
        False,
        (),
    ),
}
"""Kind, namespaced, subresources. kopf's discovery waits for namespaces and CRDs, even cluster-wide."""


def declare_cluster(emulator: ApiEmulator) -> None:
    """Declares the resources of a cluster with this operator's CRD and the Flink Kubernetes Operator's."""
    for resource, (kind, namespaced, subresources) in CLUSTER_RESOURCES.items():
        emulator.resources[resource] = kmock.ResourceInfo(
            kind=kind,
            singular=kind.lower(),
            namespaced=namespaced,
            verbs=VERBS,
            subresources=set(subresources),
        )
    emulator.resources["flinkmemory.io/v1alpha1/flinktaskmanagermemories"].shortnames = {"ftmm"}
    emulator.fallback[kmock.method("PUT")] << emulator._serve_replace  # extension 13
    # The API server answers /version/ as /version; the Kubernetes client asks with the slash.
    emulator.fallback["get /version/"] << emulator._serve_server_version


def parse_label_selector(text: str | None) -> list[tuple[str, str, str | None]]:
    """Equality-based selectors: ``a=b``, ``a==b``, ``a!=b``, ``a``, ``!a``, comma-separated."""
    terms: list[tuple[str, str, str | None]] = []
    for term in filter(None, (part.strip() for part in (text or "").split(","))):
        if "!=" in term:
            key, value = term.split("!=", 1)
            terms.append((key.strip(), "!=", value.strip()))
        elif "=" in term:
            key, value = term.replace("==", "=").split("=", 1)
            terms.append((key.strip(), "=", value.strip()))
        elif term.startswith("!"):
            terms.append((term[1:].strip(), "absent", None))
        else:
            terms.append((term, "present", None))
    return terms


def _selected(selector: Iterable[tuple[str, str, str | None]], body: Mapping[str, Any]) -> bool:
    labels = (body.get("metadata") or {}).get("labels") or {}
    checks: dict[str, Callable[[str, str | None], bool]] = {
        "=": lambda key, value: bool(labels.get(key) == value),
        "!=": lambda key, value: bool(labels.get(key) != value),
        "present": lambda key, _: key in labels,
        "absent": lambda key, _: key not in labels,
    }
    return all(checks[operator](key, value) for key, operator, value in selector)


def _in_scope(request: kmock.Request, body: Mapping[str, Any]) -> bool:
    metadata = body.get("metadata") or {}
    if request.namespace is not None and metadata.get("namespace") != request.namespace:
        return False
    return request.name is None or metadata.get("name") == request.name


def _revision_param(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0


ANNOTATIONS_LIMIT = 256 * 1024
"""The API server's TotalAnnotationSizeLimitB: the sum of every annotation's key and value length."""


def _check_annotations(body: Json) -> None:
    annotations = (body.get("metadata") or {}).get("annotations") or {}
    total = sum(len(key) + len(str(value)) for key, value in annotations.items())
    if total > ANNOTATIONS_LIMIT:
        name = (body.get("metadata") or {}).get("name")
        raise kmock.KubernetesError(
            422,
            "Invalid",
            f'{body.get("kind", "object")} "{name}" is invalid: metadata.annotations: Too long: '
            f"must have at most {ANNOTATIONS_LIMIT} bytes",
        )


def _check_precondition(old: Json, patch: Any) -> None:
    if not isinstance(patch, Mapping):
        return
    wanted = (patch.get("metadata") or {}).get("resourceVersion")
    if wanted is not None and wanted != old["metadata"]["resourceVersion"]:
        raise kmock.KubernetesError(
            409,
            "Conflict",
            "Operation cannot be fulfilled: the object has been modified; "
            "please apply your changes to the latest version and try again",
        )


def _patched(old: Json, patch: Any, content_type: str) -> Json:
    if content_type.startswith(JSON_PATCH):
        try:
            result: Json = jsonpatch.apply_patch(old, patch, in_place=False)
        except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as error:
            raise kmock.KubernetesError(422, "Invalid", str(error)) from None
        return result
    merged: Json = _merge(old, patch, strategic=content_type.startswith(STRATEGIC_MERGE_PATCH))
    return merged


def _merge(target: Any, patch: Any, *, strategic: bool, field: str | None = None) -> Any:
    """RFC 7386 merge; with ``strategic``, lists with a merge key merge item by item."""
    if not isinstance(patch, Mapping):
        if strategic and field in MERGE_KEYS and isinstance(patch, list) and isinstance(target, list):
            return _merge_list(target, patch, MERGE_KEYS[field])
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if strategic and key.startswith("$"):
            continue  # directives ($patch, $setElementOrder, ...) are not emulated
        if value is None:
            result.pop(key, None)
        else:
            result[key] = _merge(result.get(key), value, strategic=strategic, field=key)
    return result


def _merge_list(target: list[Any], patch: list[Any], merge_key: str) -> list[Any]:
    result = [copy.deepcopy(item) for item in target]
    for item in patch:
        index = next((i for i, old in enumerate(result) if old.get(merge_key) == item.get(merge_key)), None)
        if index is None:
            result.append(_merge({}, item, strategic=True))
        else:
            result[index] = _merge(result[index], item, strategic=True)
    return result


def _keep_system_metadata(old: Json, new: Json) -> None:
    metadata = new.setdefault("metadata", {})
    for key in ("name", "namespace", "uid", "creationTimestamp", "generation", "resourceVersion"):
        if key in old["metadata"]:
            metadata[key] = old["metadata"][key]


def _without_meta_and_status(body: Json) -> Json:
    return {key: value for key, value in body.items() if key not in ("metadata", "status")}


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
