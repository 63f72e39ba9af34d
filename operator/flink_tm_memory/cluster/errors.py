"""API failures, sorted by what the caller can do about them.

``ObjectNotFoundError`` and ``WriteConflictError`` are answers, not failures: the apply loop
handles them (a missing object, a stale ``resourceVersion``). Everything else becomes ``ApiError``,
*transient* when retrying soon can help (5xx, 429, a timeout, a dropped connection) and permanent
otherwise (a 4xx that the same request will get again: forbidden, invalid).
"""

from __future__ import annotations

from http import HTTPStatus

_RETRYABLE = frozenset({HTTPStatus.TOO_MANY_REQUESTS, HTTPStatus.REQUEST_TIMEOUT})


class ObjectNotFoundError(Exception):
    """404: the object (or its kind) does not exist."""


class WriteConflictError(Exception):
    """409: a stale ``resourceVersion``, or an object that already exists."""


class ApiError(Exception):
    """A request that failed; ``transient`` says whether retrying soon can help."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


def failure_for_status(status: int, reason: str) -> Exception:
    """The exception for an HTTP error status."""
    if status == HTTPStatus.NOT_FOUND:
        return ObjectNotFoundError(reason)
    if status == HTTPStatus.CONFLICT:
        return WriteConflictError(reason)
    transient = status >= HTTPStatus.INTERNAL_SERVER_ERROR or status in _RETRYABLE
    return ApiError(f"the API server answered {status} {reason}".rstrip(), transient=transient)
