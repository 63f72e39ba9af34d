"""Read, decide, write; on a conflict, read again: how every object is brought to what is wanted.

The decision is made by a pure function from the object as read (see ``flink_tm_memory.render``), so
the write is never blind: nothing is sent when nothing differs, and each patch carries the
``resourceVersion`` it was computed from. When someone else wrote in between, the API server answers
409 and the object is read and decided again, a bounded number of times; an object deleted between
the read and the patch is decided again too (it may have to be created).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flink_tm_memory.cluster.client import Json
from flink_tm_memory.cluster.errors import ApiError, ObjectNotFoundError, WriteConflictError
from flink_tm_memory.cluster.objects import ObjectApi
from flink_tm_memory.render.writes import Create, Decision, Patch

DEFAULT_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class Applied:
    """The decision that was carried out, and the object as the API server returned it (if any)."""

    decision: Decision
    object: Json | None


async def apply_object(
    api: ObjectApi,
    namespace: str,
    name: str,
    decide: Callable[[Json | None], Decision],
    *,
    attempts: int = DEFAULT_ATTEMPTS,
) -> Applied:
    """Brings one object to what ``decide`` wants; raises ``ApiError`` when the API server does not let it."""
    for _ in range(attempts):
        current = await api.read(namespace, name)
        decision = decide(current)
        try:
            written = await _carry_out(api, namespace, name, decision)
        except (WriteConflictError, ObjectNotFoundError):
            continue
        return Applied(decision, written if written is not None else current)
    raise ApiError(
        f"{api.kind} {namespace}/{name} kept changing under the operator: {attempts} writes in a row conflicted",
        transient=True,
    )


async def _carry_out(api: ObjectApi, namespace: str, name: str, decision: Decision) -> Json | None:
    match decision:
        case Create(body):
            return await api.create(namespace, body)
        case Patch(body, content_type):
            return await api.patch(namespace, name, body, content_type)
        case _:
            return None
