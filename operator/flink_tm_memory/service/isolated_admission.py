"""Admission in a process of its own, seen from the reconciling process: its setup, readiness, lifecycle.

``IsolatedAdmission`` starts ``service.admission_child`` under an ``AdmissionSupervisor`` with the
setup drawn from the operator's options (the API server, the namespaces, the webhook's address, the
certificate files to follow) and, for its metrics, a private directory that the parent's ``/metrics``
reads (``runtime.metrics``). Why a process, and why a child that dies is restarted rather than the
pod: ``runtime.admission.supervisor``.

Readiness keeps its two checks and their names: ``admission-server`` (the child serves with a valid
certificate and is not draining) and ``memory-cache`` (the child's cache has listed once), as the
child reports them, failed while the child is down, silent, or (``admission-server``) draining.

``serving()`` keeps the order of the in-process server: the child serves before the block (so before
kopf), and on the way out the replica first reports not ready (``drain``), keeps answering for
``WebhookOptions.drain_seconds`` so that the Service's endpoints drop it, then the child stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from flink_tm_memory.runtime.admission.supervisor import AdmissionSupervisor
from flink_tm_memory.runtime.certificates import ServingCertificates
from flink_tm_memory.runtime.health import Check, CheckResult
from flink_tm_memory.runtime.metrics import PREFIX
from flink_tm_memory.runtime.options import OperatorOptions, WebhookOptions
from flink_tm_memory.service.admission import ADMISSION_CHECK, MEMORY_CACHE_CHECK
from flink_tm_memory.service.admission_child import (
    CHILD_MODULE,
    METRICS_DIR_ENV,
    SETUP_ENV,
    AdmissionSetup,
)


def child_command() -> list[str]:
    """This interpreter running the admission module; ``-P``: no working directory on ``sys.path``."""
    return [sys.executable, "-P", "-m", CHILD_MODULE]


class IsolatedAdmission:
    """The admission webhooks of one operator run, served by a supervised child process."""

    def __init__(
        self,
        options: OperatorOptions,
        webhook: WebhookOptions,
        certificates: ServingCertificates,
        *,
        metrics_dir: Path | None,
        restart_delay: float = 1.0,
    ) -> None:
        setup = AdmissionSetup(
            parent_pid=os.getpid(),
            server=options.server,
            namespaces=options.namespaces,
            request_timeout=options.request_timeout,
            listen=webhook.listen,
            port=webhook.port,
            certfile=str(certificates.certfile),
            pkeyfile=str(certificates.pkeyfile),
            cafile=None if certificates.cafile is None else str(certificates.cafile),
            certificate_check_interval=webhook.certificate_check_interval,
            log_format=options.log_format,
            verbose=options.verbose,
            metrics=metrics_dir is not None,
        )
        environment = {key: value for key, value in os.environ.items() if key != METRICS_DIR_ENV}
        environment[SETUP_ENV] = setup.to_json()
        if metrics_dir is not None:
            environment[METRICS_DIR_ENV] = str(metrics_dir)
        self._drain_seconds = webhook.drain_seconds
        self.supervisor = AdmissionSupervisor(child_command(), environment, restart_delay=restart_delay)

    def collector(self) -> Collector:
        """``flink_tm_memory_admission_process_starts_total``: the children started (restarts: all but one)."""
        return _StartsCollector(self.supervisor)

    def api_requests(self) -> dict[str, int]:
        """The admission process's requests to the API server so far, by outcome (restarts included)."""
        return self.supervisor.api_requests()

    def checks(self) -> dict[str, Check]:
        return {ADMISSION_CHECK: self._admission_check, MEMORY_CACHE_CHECK: self._cache_check}

    def _admission_check(self) -> CheckResult:
        if self.supervisor.draining:
            return CheckResult(False, "shutting down: draining admission requests")
        return self.supervisor.result(ADMISSION_CHECK)

    def _cache_check(self) -> CheckResult:
        return self.supervisor.result(MEMORY_CACHE_CHECK)

    @contextlib.asynccontextmanager
    async def serving(self) -> AsyncIterator[None]:
        """Serves while the block runs; then drains (not ready, still answering) and stops."""
        await self.supervisor.start()
        try:
            yield
        finally:
            self.supervisor.drain()
            try:
                await asyncio.sleep(self._drain_seconds)
            finally:
                await self.supervisor.stop()


class _StartsCollector(Collector):
    def __init__(self, supervisor: AdmissionSupervisor) -> None:
        self._supervisor = supervisor

    def collect(self) -> Iterator[Metric]:
        yield CounterMetricFamily(
            f"{PREFIX}_admission_process_starts",
            "Admission processes this replica started: 1, plus one per restart after an unexpected end.",
            value=self._supervisor.starts,
        )
