"""Every request's outcome, sorted by what it says about the API server: there and serving, or not."""

from __future__ import annotations

import pytest
import urllib3

from flink_tm_memory.cluster.contact import ApiContact, Outcome, outcome_of_failure, outcome_of_status

POOL = urllib3.HTTPConnectionPool("127.0.0.1", 9)
CONNECTION = urllib3.connection.HTTPConnection("127.0.0.1", 9)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (200, Outcome.OK),
        (201, Outcome.OK),
        (404, Outcome.NOT_FOUND),
        (409, Outcome.CONFLICT),
        (429, Outcome.THROTTLED),
        (403, Outcome.CLIENT_ERROR),
        (422, Outcome.CLIENT_ERROR),
        (500, Outcome.SERVER_ERROR),
        (503, Outcome.SERVER_ERROR),
        (0, Outcome.CLIENT_ERROR),  # the client refused the call before sending it
    ],
)
def test_an_http_answer_is_sorted_by_its_status(status: int, expected: Outcome) -> None:
    assert outcome_of_status(status) is expected


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (urllib3.exceptions.ReadTimeoutError(POOL, "/", "read timed out"), Outcome.TIMEOUT),
        (urllib3.exceptions.ConnectTimeoutError("connect timed out"), Outcome.TIMEOUT),
        (
            urllib3.exceptions.ProtocolError("Connection aborted.", ConnectionResetError(104)),
            Outcome.CONNECTION_ERROR,
        ),
        (
            urllib3.exceptions.MaxRetryError(
                POOL, "/", urllib3.exceptions.NewConnectionError(CONNECTION, "refused")
            ),
            Outcome.CONNECTION_ERROR,
        ),
        (
            urllib3.exceptions.MaxRetryError(POOL, "/", urllib3.exceptions.ConnectTimeoutError("slow")),
            Outcome.TIMEOUT,
        ),
        (ConnectionRefusedError(111, "refused"), Outcome.CONNECTION_ERROR),
        (TimeoutError("timed out"), Outcome.TIMEOUT),
    ],
)
def test_a_request_without_an_answer_is_a_timeout_or_a_connection_error(
    error: BaseException, expected: Outcome
) -> None:
    assert outcome_of_failure(error) is expected


def test_only_answers_from_a_serving_api_server_count_as_contact() -> None:
    assert {outcome for outcome in Outcome if not outcome.reached} == {
        Outcome.SERVER_ERROR,
        Outcome.TIMEOUT,
        Outcome.CONNECTION_ERROR,
    }


def test_contact_remembers_the_last_answer_and_the_failures_since() -> None:
    clock = [50.0]
    contact = ApiContact(monotonic=lambda: clock[0], wall=lambda: 1_000.0 + clock[0])
    assert (contact.reachable, contact.seconds_since_contact(), contact.last_contact_wall) == (
        False,
        None,
        None,
    )

    contact.record(Outcome.OK)
    clock[0] = 52.5
    assert (contact.reachable, contact.seconds_since_contact(), contact.last_contact_wall) == (
        True,
        2.5,
        1_050.0,
    )

    contact.record(Outcome.CONNECTION_ERROR)
    contact.record(Outcome.SERVER_ERROR)
    clock[0] = 60.0
    assert (contact.reachable, contact.consecutive_failures) == (False, 2)
    assert contact.seconds_since_contact() == 10.0

    contact.record(Outcome.NOT_FOUND)
    assert (contact.reachable, contact.consecutive_failures, contact.seconds_since_contact()) == (
        True,
        0,
        0.0,
    )
    assert contact.requests == {
        Outcome.OK: 1,
        Outcome.CONNECTION_ERROR: 1,
        Outcome.SERVER_ERROR: 1,
        Outcome.NOT_FOUND: 1,
    }
