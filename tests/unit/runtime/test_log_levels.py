"""kopf's routine lines get the levels an operator alerts on; everything else is left as kopf logs it."""

from __future__ import annotations

import logging

import pytest

from flink_tm_memory.runtime.log_levels import KopfLevels, install_log_levels

LEVELS = KopfLevels(optional_groups=("flink.apache.org",))
UNRESOLVED = "Unresolved resources cannot be served (try creating their CRDs): "
FLINK = "Selector(group='flink.apache.org', version='v1beta1', any_name='flinkdeployments')"
MEMORIES = "Selector(group='flinkmemory.io', version='v1alpha1', any_name='flinktaskmanagermemories')"
DEBUG, INFO, WARNING, ERROR = logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR


@pytest.mark.parametrize(
    ("message", "level", "expected"),
    [
        ("Handler 'forget-deleted' succeeded.", INFO, DEBUG),
        ("Webhook 'mutate-pod' succeeded.", INFO, DEBUG),
        ("Activity '_login.<locals>.login' succeeded.", INFO, DEBUG),
        ("Creation is processed: 1 succeeded; 0 failed.", INFO, DEBUG),
        ("Resuming is processed: 2 succeeded; 0 failed.", INFO, DEBUG),
        (
            "Request attempt #1/9 failed; will retry: GET https://api/x -> APITooManyRequestsError(429)",
            ERROR,
            WARNING,
        ),
        ("Request attempt #12 failed; will retry: GET https://api/x -> TimeoutError()", ERROR, WARNING),
        (
            "Handler 'reconcile-created' failed temporarily: An API request failed; retrying in 5 s",
            ERROR,
            WARNING,
        ),
        # Left as they are: failures that stay failures, and anything else.
        ("Creation is processed: 0 succeeded; 1 failed.", INFO, INFO),
        ("Webhook 'mutate-pod' failed permanently: boom", ERROR, ERROR),
        ("Handler 'reconcile-created' failed permanently: boom", ERROR, ERROR),
        ("Request attempt #9/9 failed; escalating: GET https://api/x -> APIServerError(500)", ERROR, ERROR),
        ("Handler 'x' failed temporarily but will exceed 3 retries: boom", ERROR, ERROR),
        ("Handler 'x' failed with an exception and will try again in 60 seconds: boom", ERROR, ERROR),
        ("Handler 'x' succeeded.", WARNING, WARNING),
        ("Created ConfigMap name=x generation=1", INFO, INFO),
        (UNRESOLVED + FLINK, WARNING, INFO),  # a cluster without the Flink Kubernetes Operator
        (UNRESOLVED + f"{FLINK}, {MEMORIES}", WARNING, WARNING),  # the operator's own CRD is missing
    ],
)
def test_each_routine_line_gets_its_level(message: str, level: int, expected: int) -> None:
    assert LEVELS.level_of(message, level) == expected


def test_a_lowered_line_is_dropped_unless_its_logger_wants_the_new_level() -> None:
    logger = logging.getLogger("kopf.test-log-levels")
    install_log_levels()
    install_log_levels()  # again: replaced, not stacked
    assert len([found for found in logger.filters if isinstance(found, KopfLevels)]) == 1
    seen: list[logging.LogRecord] = []

    class Recorder(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    handler = Recorder()
    logger.addHandler(handler)
    try:
        logger.setLevel(INFO)
        logger.info("Handler 'forget-deleted' succeeded.")
        logger.error(
            "Request attempt #1/9 failed; will retry: GET https://api/x -> APITooManyRequestsError(429)"
        )
        logger.setLevel(DEBUG)
        logger.info("Handler 'forget-deleted' succeeded.")
    finally:
        logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)
        for found in list(logger.filters):
            logger.removeFilter(found)
    assert [(record.levelname, record.getMessage()) for record in seen] == [
        (
            "WARNING",
            "Request attempt #1/9 failed; will retry: GET https://api/x -> APITooManyRequestsError(429)",
        ),
        ("DEBUG", "Handler 'forget-deleted' succeeded."),
    ]
