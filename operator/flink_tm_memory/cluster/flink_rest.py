"""Reading TaskManager memory metrics from a JobManager's REST API.

Three GETs per sample, each bounded by a timeout and a size limit, redirects not followed (the spec
names where the operator may go; a redirect could send it elsewhere):

- ``/config``: the JobManager's ``flink-version``, to refuse metrics of another release than the one
  the resource derives for (its metric names and memory model may differ);
- ``/taskmanagers``: how many TaskManagers are registered;
- ``/taskmanagers/metrics?get=...&agg=max``: each metric's largest value over all TaskManagers, the
  aggregation Flink's own web UI uses (one request, however many TaskManagers).

The metric names are the same in every supported release (1.17 to 2.3; checked in
``flink-dist``: ``MetricUtils`` registers ``Status.JVM.Memory.{Heap,Metaspace}.Used``,
``Status.JVM.Memory.Direct.MemoryUsed`` and ``Status.Flink.Memory.Managed.Used``;
``NettyShuffleMetricFactory`` registers ``Status.Shuffle.Netty.UsedMemory``).

Whatever goes wrong is an answer, never an exception: ``Sample`` carries either the peaks or the
reason (``JobManagerUnreachable``, ``UnexpectedAnswer``, ``MetricsMissing``, ``MalformedMetrics``,
``NoTaskManagers``) and a message naming what was wrong. Flink's metric fetcher fills its store
lazily (every ``metrics.fetcher.update-interval``, 10 s), so a JobManager just started answers with
no metrics: ``MetricsMissing``, and the next poll has them.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
from typing import Any

import aiohttp

from flink_tm_memory.render.usage_step import SAMPLED, Sample

HEAP = "Status.JVM.Memory.Heap.Used"
METASPACE = "Status.JVM.Memory.Metaspace.Used"
MANAGED = "Status.Flink.Memory.Managed.Used"
NETWORK = "Status.Shuffle.Netty.UsedMemory"
DIRECT = "Status.JVM.Memory.Direct.MemoryUsed"
METRICS = {HEAP: "heap", METASPACE: "metaspace", MANAGED: "managed", NETWORK: "network", DIRECT: "direct"}
"""Flink's metric name, and the peak it gives (``UsagePeaks``)."""
JOB_MANAGER_TIMEOUT = 10.0
"""Seconds for one request: a JobManager answers these in milliseconds; a silent one must not hold a slot."""
_VERSION = re.compile(r"[0-9]{1,4}(\.[0-9]{1,4}){1,3}([-.+][A-Za-z0-9]{1,16}){0,3}")
"""A Flink release as /config names it (2.2.1, 1.20-SNAPSHOT): the only text of the answer kept, so a
URL pointing elsewhere cannot carry anything else into the status."""
MAX_ANSWER_BYTES = 1 << 20
"""A JobManager's answers here are a few KiB; more is not a JobManager."""
MAX_METRIC_BYTES = 1 << 50
"""A metric above a PiB is not a TaskManager's memory."""

UNREACHABLE = "JobManagerUnreachable"
UNEXPECTED = "UnexpectedAnswer"
MISSING = "MetricsMissing"
MALFORMED = "MalformedMetrics"
NO_TASK_MANAGERS = "NoTaskManagers"


class _SampleError(Exception):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


class JobManagerClient:
    """Samples JobManagers over one HTTP session; at most ``concurrency`` requests at once."""

    def __init__(self, *, timeout: float = JOB_MANAGER_TIMEOUT, concurrency: int = 32) -> None:
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._slots = asyncio.Semaphore(concurrency)
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def sample(self, base_url: str) -> Sample:
        """The TaskManagers' peaks as the JobManager at ``base_url`` reports them now."""
        base = base_url.rstrip("/")
        version: str | None = None
        count: int | None = None
        try:
            config = await self._get(f"{base}/config")
            raw_version = config.get("flink-version") if isinstance(config, dict) else None
            version = (
                raw_version if isinstance(raw_version, str) and _VERSION.fullmatch(raw_version) else None
            )
            overview = await self._get(f"{base}/taskmanagers")
            managers = overview.get("taskmanagers") if isinstance(overview, dict) else None
            if not isinstance(managers, list):
                raise _SampleError(UNEXPECTED, f"{base}/taskmanagers has no list 'taskmanagers'")
            count = len(managers)
            if not managers:
                raise _SampleError(NO_TASK_MANAGERS, "no TaskManager is registered with the JobManager")
            names = ",".join(METRICS)
            answer = await self._get(f"{base}/taskmanagers/metrics?get={names}&agg=max")
            peaks = _peaks(answer)
        except _SampleError as failure:
            return Sample(failure.reason, failure.message, None, count, version)
        message = f"{count} TaskManager{'s' if count != 1 else ''} sampled"
        return Sample(SAMPLED, message, peaks, count, version)

    async def _get(self, url: str) -> Any:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        async with self._slots:
            try:
                async with self._session.get(url, allow_redirects=False) as response:
                    status = response.status
                    body = b""
                    while len(body) <= MAX_ANSWER_BYTES:
                        chunk = await response.content.read(MAX_ANSWER_BYTES + 1 - len(body))
                        if not chunk:
                            break
                        body += chunk
            except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as error:
                detail = str(error) or type(error).__name__
                raise _SampleError(UNREACHABLE, f"GET {url}: {detail}") from None
        if status != 200:
            raise _SampleError(UNEXPECTED, f"GET {url}: HTTP {status}")
        if len(body) > MAX_ANSWER_BYTES:
            raise _SampleError(UNEXPECTED, f"GET {url}: more than {MAX_ANSWER_BYTES} bytes")
        try:
            return json.loads(body)
        except ValueError:
            raise _SampleError(UNEXPECTED, f"GET {url}: not JSON") from None


def _peaks(answer: Any) -> dict[str, int]:
    """``[{"id": name, "max": value}, ...]`` read into peaks by name; every metric must be there."""
    if not isinstance(answer, list):
        raise _SampleError(MALFORMED, "the aggregated metrics are not a list")
    found: dict[str, int] = {}
    for entry in answer:
        if not isinstance(entry, dict) or entry.get("id") not in METRICS:
            continue
        name, value = entry["id"], entry.get("max")
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                raise _SampleError(MALFORMED, f"{name}: {value!r} is not a number") from None
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise _SampleError(MALFORMED, f"{name}: {value!r} is not a number")
        if not 0 <= value <= MAX_METRIC_BYTES:
            raise _SampleError(MALFORMED, f"{name}: {value!r} bytes is out of range")
        found[METRICS[name]] = math.ceil(value)
    missing = [name for name, peak in METRICS.items() if peak not in found]
    if missing:
        raise _SampleError(MISSING, f"the JobManager reports no {', '.join(missing)}")
    return found
