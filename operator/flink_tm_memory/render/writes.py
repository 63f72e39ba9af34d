"""A planned write to one object, decided from what the cluster holds: create, patch, or nothing, and why.

Renderers return a ``Decision`` for an object they were shown (or ``None`` when it does not exist);
the cluster layer carries it out, and re-asks on a write conflict with the fresh object. Deciding from
the object actually read is what makes writes idempotent (``Unchanged`` means no request at all) and
safe under concurrency (every patch carries the ``resourceVersion`` it was computed from).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MERGE_PATCH = "application/merge-patch+json"
"""RFC 7386: maps merge, ``null`` deletes a key, lists are replaced whole. Works on every resource."""
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
"""Kubernetes' own: lists with a merge key (containers by ``name``) merge item by item. Built-in kinds only."""


@dataclass(frozen=True, slots=True)
class Create:
    """The object is absent and is created with this body."""

    body: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Patch:
    """The object differs from what is wanted; this patch (with its ``resourceVersion``) fixes it."""

    body: dict[str, Any]
    content_type: str
    container: str | None = None


@dataclass(frozen=True, slots=True)
class Unchanged:
    """The object already holds what is wanted: nothing is written."""

    container: str | None = None


@dataclass(frozen=True, slots=True)
class Absent:
    """The object does not exist and is not ours to create (a workload that may appear later)."""


@dataclass(frozen=True, slots=True)
class Refused:
    """The object exists but cannot take the write (no TaskManager container in it); says why."""

    message: str


@dataclass(frozen=True, slots=True)
class Denied:
    """The object is not the resource's to write (not opted in, or another resource's); says why."""

    reason: str
    message: str


Decision = Create | Patch | Unchanged | Absent | Refused | Denied
