"""The usage window: per-interval maxima of the TaskManagers' memory metrics, bounded, kept in the status.

Each poll's sample (the largest value of each metric over all TaskManagers) is folded into the bucket
of its interval, one of ``MAX_USAGE_BUCKETS`` equal intervals of the window; buckets older than the
window fall out. The peaks over the window are the maxima over the buckets. Because the buckets live
in ``status.usage``, an operator that restarts (or a new leader) continues the same window: nothing
observed is lost, and a fresh operator does not start recommending from a single sample.

A bucket's start is aligned to its width (in Unix time), so two operators (or two restarts) put a
sample in the same bucket. A window whose width changes keeps the old buckets (their maxima are still
true of their time) until they age out; if that leaves more buckets than the bound, the oldest two
are merged, which keeps every maximum (only its time becomes coarser).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from flink_tm_memory.api.v1alpha1 import MAX_USAGE_BUCKETS, UsageBucket, UsagePeaks

PEAK_NAMES = ("heap", "metaspace", "managed", "network", "direct")


def bucket_width(window_seconds: int) -> int:
    """Seconds per bucket: the window split into ``MAX_USAGE_BUCKETS``, at least a second."""
    return max(window_seconds // MAX_USAGE_BUCKETS, 1)


def max_peaks(left: UsagePeaks, right: UsagePeaks) -> UsagePeaks:
    return UsagePeaks.model_validate(
        {name: max(getattr(left, name), getattr(right, name)) for name in PEAK_NAMES}
    )


def add_sample(
    buckets: Sequence[UsageBucket], sample: UsagePeaks, now: datetime, window_seconds: int
) -> list[UsageBucket]:
    """``buckets`` with ``sample`` (taken at ``now``) folded in and those older than the window dropped."""
    width = bucket_width(window_seconds)
    epoch = int(now.timestamp())
    start = datetime.fromtimestamp(epoch - epoch % width, UTC)
    kept = prune(buckets, now, window_seconds)
    for index, bucket in enumerate(kept):
        if bucket.start == start:
            kept[index] = UsageBucket(
                start=start, samples=bucket.samples + 1, peaks=max_peaks(bucket.peaks, sample)
            )
            break
    else:
        kept.append(UsageBucket(start=start, samples=1, peaks=sample))
        kept.sort(key=lambda bucket: bucket.start)
    while len(kept) > MAX_USAGE_BUCKETS:
        first, second = kept[0], kept[1]
        kept[:2] = [
            UsageBucket(
                start=first.start,
                samples=first.samples + second.samples,
                peaks=max_peaks(first.peaks, second.peaks),
            )
        ]
    return kept


def prune(buckets: Sequence[UsageBucket], now: datetime, window_seconds: int) -> list[UsageBucket]:
    """The buckets that end after ``now`` minus the window (and none from the future: a clock moved back)."""
    oldest = now - timedelta(seconds=window_seconds)
    return [
        bucket
        for bucket in buckets
        if bucket.start + timedelta(seconds=bucket_width(window_seconds)) > oldest and bucket.start <= now
    ]


def window_peaks(buckets: Sequence[UsageBucket]) -> UsagePeaks | None:
    """The maxima over ``buckets``; None without any."""
    if not buckets:
        return None
    peaks = buckets[0].peaks
    for bucket in buckets[1:]:
        peaks = max_peaks(peaks, bucket.peaks)
    return peaks


def observed_since(
    buckets: Sequence[UsageBucket], since: datetime | None, now: datetime, window_seconds: int
) -> datetime | None:
    """Since when usage has been observed without a gap the window forgot: the older of ``since`` and
    the oldest bucket, but never before the window."""
    if not buckets:
        return None
    oldest = buckets[0].start
    start = min(since, oldest) if since is not None else oldest
    return max(start, now - timedelta(seconds=window_seconds))
