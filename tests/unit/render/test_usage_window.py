"""The usage window: per-interval maxima, bounded, aged out, and whole after a restart (it is the status)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from flink_tm_memory.api.v1alpha1 import MAX_USAGE_BUCKETS, UsageBucket, UsagePeaks, UsageStatus
from flink_tm_memory.render.usage_window import add_sample, bucket_width, observed_since, prune, window_peaks

START = datetime(2026, 12, 7, 0, 0, tzinfo=UTC)
HOUR = 3600


def sample(value: int) -> UsagePeaks:
    return UsagePeaks(heap=value, metaspace=value, managed=value, network=value, direct=value)


def test_samples_of_one_interval_keep_their_maximum() -> None:
    buckets = add_sample([], sample(5), START, HOUR)
    buckets = add_sample(buckets, sample(9), START + timedelta(seconds=10), HOUR)
    buckets = add_sample(buckets, sample(3), START + timedelta(seconds=20), HOUR)
    assert len(buckets) == 1
    assert buckets[0].samples == 3
    assert buckets[0].peaks.heap == 9


def test_old_peaks_age_out_of_the_window() -> None:
    buckets = add_sample([], sample(100), START, HOUR)
    later = START + timedelta(seconds=HOUR + bucket_width(HOUR))
    buckets = add_sample(buckets, sample(1), later, HOUR)
    peaks = window_peaks(buckets)
    assert peaks is not None
    assert peaks.heap == 1
    assert prune(buckets, later + timedelta(hours=2), HOUR) == []


def test_the_window_survives_a_restart_as_status() -> None:
    buckets = add_sample([], sample(7), START, HOUR)
    stored = UsageStatus(since=START, buckets=buckets, peaks=window_peaks(buckets)).to_manifest()
    again = UsageStatus.model_validate(stored)  # what a restarted operator reads back
    buckets = add_sample(again.buckets, sample(3), START + timedelta(minutes=1), HOUR)
    assert window_peaks(buckets) == sample(7)
    assert observed_since(buckets, again.since, START + timedelta(minutes=1), HOUR) == START


def test_a_clock_moved_back_drops_buckets_from_the_future() -> None:
    buckets = add_sample([], sample(7), START + timedelta(hours=1), HOUR)
    assert prune(buckets, START, HOUR) == []


@settings(max_examples=50, deadline=None)
@given(
    steps=st.lists(st.tuples(st.integers(1, 3 * HOUR), st.integers(0, 1 << 40)), min_size=1, max_size=80),
    window=st.sampled_from([60, 600, HOUR, 24 * HOUR]),
)
def test_bounded_and_never_loses_a_peak_inside_the_window(steps: list[tuple[int, int]], window: int) -> None:
    now = START
    buckets: list[UsageBucket] = []
    seen: list[tuple[datetime, int]] = []
    for delay, value in steps:
        now += timedelta(seconds=delay)
        buckets = add_sample(buckets, sample(value), now, window)
        seen.append((now, value))
        assert len(buckets) <= MAX_USAGE_BUCKETS
    peaks = window_peaks(buckets)
    assert peaks is not None
    # every sample taken within the window is covered; nothing larger than any sample appears
    inside = [
        value for moment, value in seen if moment > now - timedelta(seconds=window - bucket_width(window))
    ]
    assert peaks.heap >= max(inside)
    assert peaks.heap <= max(value for _, value in seen)
