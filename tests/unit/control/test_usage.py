"""The usage loop's schedule: a failing JobManager is polled less and less often, within a bound."""

from __future__ import annotations

from flink_tm_memory.control.usage import MAX_BACKOFF, poll_delay


def test_failures_double_the_delay_up_to_the_bound() -> None:
    assert [poll_delay(30, failures) for failures in range(6)] == [30, 60, 120, 240, 240, 240]
    assert poll_delay(30, 1000) == 30 * MAX_BACKOFF
