"""The operator's metrics and health server as the tests reach it: scraped and probed over plain HTTP.

``/metrics`` is parsed with ``prometheus_client``'s own parser, as Prometheus would read it; a sample
is looked up by its full name (``..._total``, ``..._bucket``) and labels.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import aiohttp
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample


class HealthClient:
    """An HTTP client of ``http://127.0.0.1:<port>``: ``/metrics``, ``/readyz``, ``/livez``."""

    def __init__(self, session: aiohttp.ClientSession, port: int) -> None:
        self.session = session
        self.base = f"http://127.0.0.1:{port}"

    async def get(self, path: str) -> tuple[int, str]:
        async with self.session.get(f"{self.base}{path}") as answer:
            return answer.status, await answer.text()

    async def scrape(self) -> Metrics:
        status, text = await self.get("/metrics")
        assert status == 200, text
        return Metrics(sample for family in text_string_to_metric_families(text) for sample in family.samples)

    async def wait_listening(self, timeout: float = 10.0) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            try:
                await self.get("/livez")
                return
            except aiohttp.ClientConnectionError:
                if loop.time() > deadline:
                    raise
                await asyncio.sleep(0.05)


class Metrics:
    """The samples of one scrape."""

    def __init__(self, samples: Iterable[Sample]) -> None:
        self.samples = list(samples)

    def all(self, name: str, **labels: str) -> list[Sample]:
        """Every sample named ``name`` whose labels include ``labels``."""
        return [
            sample
            for sample in self.samples
            if sample.name == name and labels.items() <= sample.labels.items()
        ]

    def value(self, name: str, **labels: str) -> float:
        """The value of the one sample with exactly these labels (0 when absent, as for a counter)."""
        found = [sample.value for sample in self.all(name, **labels) if sample.labels == labels]
        assert len(found) <= 1, found
        return found[0] if found else 0.0

    def total(self, name: str, **labels: str) -> float:
        """The sum over every sample named ``name`` whose labels include ``labels``."""
        return sum(sample.value for sample in self.all(name, **labels))
