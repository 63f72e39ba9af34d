"""The expiry of the webhook certificates this replica serves, as a Prometheus gauge.

Renewal happens at two thirds of a lifetime, so an expiry that comes near (less than a third of the
validity away) means renewals have been failing: the alert an operator of the cluster wants, before
the API server starts refusing the webhook's certificate. Read when scraped, from what the keeper
last installed (``CertificateKeeper.expiries``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

EXPIRY = "flink_tm_memory_webhook_certificate_expiry_timestamp_seconds"


class HasExpiries(Protocol):
    @property
    def expiries(self) -> Mapping[str, float]: ...


class CertificateExpiryCollector(Collector):
    """``certificate="serving"`` (what this replica serves) and ``certificate="ca"`` (its signing CA)."""

    def __init__(self, keeper: HasExpiries) -> None:
        self._keeper = keeper

    def collect(self) -> Iterable[Metric]:
        gauge = GaugeMetricFamily(
            EXPIRY,
            "When the webhook certificate this replica serves, and its signing CA, expire (Unix time).",
            labels=["certificate"],
        )
        for certificate, expiry in sorted(self._keeper.expiries.items()):
            gauge.add_metric([certificate], expiry)
        yield gauge
