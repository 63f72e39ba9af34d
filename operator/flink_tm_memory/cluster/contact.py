"""What the operator's own requests say about the API server: outcomes counted, last contact, failures in a row.

``ClusterClient.call`` records every request it makes here, sorted into a few outcome classes. The
handler layer reads it twice: as Prometheus metrics (requests by outcome, reachability) and as the
readiness check that turns unhealthy when the API server has not answered for a while. Kept in this
layer, free of Prometheus, because the client is the one place every request passes through.

An answer with a status below 500 (even a 404, a 409 or a 403) proves the API server is there and
serving; a 5xx, a timeout or a connection that could not be made or was dropped does not.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from enum import StrEnum

import urllib3


class Outcome(StrEnum):
    """How one request ended, as a Prometheus label value."""

    OK = "ok"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    THROTTLED = "throttled"
    CLIENT_ERROR = "client_error"
    SERVER_ERROR = "server_error"
    TIMEOUT = "timeout"
    CONNECTION_ERROR = "connection_error"

    @property
    def reached(self) -> bool:
        """The API server answered and was serving."""
        return self not in (Outcome.SERVER_ERROR, Outcome.TIMEOUT, Outcome.CONNECTION_ERROR)


def outcome_of_status(status: int) -> Outcome:
    """The outcome of a request the API server answered with HTTP ``status``."""
    if 100 <= status < 400:
        return Outcome.OK
    special = {404: Outcome.NOT_FOUND, 409: Outcome.CONFLICT, 429: Outcome.THROTTLED}
    if status in special:
        return special[status]
    return Outcome.SERVER_ERROR if status >= 500 else Outcome.CLIENT_ERROR


def outcome_of_failure(error: BaseException) -> Outcome:
    """The outcome of a request that got no HTTP answer."""
    if isinstance(error, urllib3.exceptions.MaxRetryError) and error.reason is not None:
        error = error.reason  # with retries off, urllib3 wraps the one failure it had
    if isinstance(error, urllib3.exceptions.NewConnectionError):  # a subclass of ConnectTimeoutError
        return Outcome.CONNECTION_ERROR
    if isinstance(error, urllib3.exceptions.TimeoutError | TimeoutError):
        return Outcome.TIMEOUT
    return Outcome.CONNECTION_ERROR


class ApiContact:
    """Counts of requests by outcome, and when the API server last answered (both clocks)."""

    def __init__(
        self,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._monotonic = monotonic
        self._wall = wall
        self.requests: Counter[Outcome] = Counter()
        self.consecutive_failures = 0
        self.last_contact: float | None = None
        """Monotonic time of the last answer from a serving API server; ``None``: none yet."""
        self.last_contact_wall: float | None = None
        """The same moment as a Unix timestamp, for people and Prometheus."""

    def record(self, outcome: Outcome) -> None:
        self.requests[outcome] += 1
        if outcome.reached:
            self.consecutive_failures = 0
            self.last_contact = self._monotonic()
            self.last_contact_wall = self._wall()
        else:
            self.consecutive_failures += 1

    def seconds_since_contact(self) -> float | None:
        """Seconds since the API server last answered; ``None`` if it never has."""
        return None if self.last_contact is None else self._monotonic() - self.last_contact

    @property
    def reachable(self) -> bool:
        """The last request reached a serving API server."""
        return self.last_contact is not None and self.consecutive_failures == 0
