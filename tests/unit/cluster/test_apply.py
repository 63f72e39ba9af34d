"""The read-decide-write loop: decided on what was read, re-decided after a conflict, never endless."""

from __future__ import annotations

from typing import Any

import pytest

from flink_tm_memory.cluster.apply import apply_object
from flink_tm_memory.cluster.errors import (
    ApiError,
    ObjectNotFoundError,
    WriteConflictError,
    failure_for_status,
)
from flink_tm_memory.render.writes import MERGE_PATCH, Absent, Create, Decision, Patch, Unchanged

Json = dict[str, Any]


class Store:
    """One object kind in memory, with a resourceVersion and writes that can be made to conflict."""

    kind = "Thing"

    def __init__(self, current: Json | None = None, conflicts: int = 0) -> None:
        self.current = current
        self.conflicts = conflicts
        self.writes: list[Json] = []

    async def read(self, namespace: str, name: str) -> Json | None:
        return self.current

    async def create(self, namespace: str, body: Json) -> Json:
        return self._write(body)

    async def patch(self, namespace: str, name: str, body: Json, content_type: str) -> Json:
        if self.current is None:
            raise ObjectNotFoundError(name)
        return self._write({**self.current, **body})

    def _write(self, body: Json) -> Json:
        self.writes.append(body)
        if self.conflicts:
            self.conflicts -= 1
            self.current = {"value": "theirs", "version": len(self.writes)}
            raise WriteConflictError("stale")
        self.current = body
        return body


def want(value: str) -> Any:
    def decide(current: Json | None) -> Decision:
        if current is None:
            return Create({"value": value})
        return Unchanged() if current.get("value") == value else Patch({"value": value}, MERGE_PATCH)

    return decide


async def test_nothing_is_written_when_the_object_holds_what_is_wanted() -> None:
    store = Store({"value": "ours"})
    applied = await apply_object(store, "ns", "x", want("ours"))
    assert (applied.decision, store.writes) == (Unchanged(), [])


async def test_an_absent_object_is_created_from_the_decision() -> None:
    store = Store()
    applied = await apply_object(store, "ns", "x", want("ours"))
    assert isinstance(applied.decision, Create)
    assert store.current == {"value": "ours"}


async def test_a_conflict_is_decided_again_on_the_fresh_object() -> None:
    store = Store({"value": "old"}, conflicts=1)
    applied = await apply_object(store, "ns", "x", want("ours"))
    assert isinstance(applied.decision, Patch)
    assert store.current == {"value": "ours", "version": 1}
    assert len(store.writes) == 2


async def test_endless_conflicts_give_up_as_a_transient_failure() -> None:
    store = Store({"value": "old"}, conflicts=100)
    with pytest.raises(ApiError, match="3 writes in a row conflicted") as failure:
        await apply_object(store, "ns", "x", want("ours"), attempts=3)
    assert failure.value.transient
    assert len(store.writes) == 3


async def test_a_decision_not_to_write_is_returned_with_the_object_read() -> None:
    store = Store({"value": "x"})
    applied = await apply_object(store, "ns", "x", lambda current: Absent())
    assert (applied.decision, applied.object) == (Absent(), {"value": "x"})


@pytest.mark.parametrize(
    ("status", "kind", "transient"),
    [
        (404, ObjectNotFoundError, None),
        (409, WriteConflictError, None),
        (500, ApiError, True),
        (503, ApiError, True),
        (429, ApiError, True),
        (403, ApiError, False),
        (422, ApiError, False),
    ],
)
def test_statuses_are_sorted_by_what_the_caller_can_do(
    status: int, kind: type[Exception], transient: bool | None
) -> None:
    failure = failure_for_status(status, "reason")
    assert type(failure) is kind
    if transient is not None:
        assert isinstance(failure, ApiError)
        assert failure.transient is transient
