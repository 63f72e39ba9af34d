"""Admission, composed: the FlinkTaskManagerMemory cache, both webhooks, their server, its readiness.

``Admission`` builds every piece from the operator's options; this is what the admission process
runs (``service.admission_child``; the reconciling process supervises it, ``service.isolated_admission``).
``start`` returns once the server listens with a certificate; ``drain`` makes it report not ready
while it keeps answering; ``stop`` stops it. ``serving()`` runs the three around a block (the
server's own thread then shares the process with the block: tests). Nothing here needs kopf or
leadership: every replica serves.

In the admission process the server's loop still shares the GIL with the worker threads of its
own API client (the watch of the cache reads its stream in one). A thread that wants the GIL waits
up to the interpreter's switch interval (5 ms by default) for the thread holding it, and an admission
request wants it again after each socket read and write, each a wait. While admission is served the
interval is ``SWITCH_INTERVAL`` (1 ms, ``sys.setswitchinterval``, put back afterwards): a busy thread
yields the GIL within a millisecond, at the cost of more frequent switches between busy threads.

The validating webhook is ``control.admission.validating_steps(after)``: the verdict, then the
authorisation step (SubjectAccessReviews of the requesting user, ``control.authorization``).
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator, Sequence

from flink_tm_memory.api.v1alpha1 import GROUP, PLURAL
from flink_tm_memory.cluster.client import ClusterClient
from flink_tm_memory.cluster.memory_cache import MemoryCache
from flink_tm_memory.control.admission import VALIDATE_ID, validating_steps
from flink_tm_memory.control.mutation import MUTATE_ID, PODS, PodMutator
from flink_tm_memory.runtime.admission.review import AdmissionStep
from flink_tm_memory.runtime.admission.server import AdmissionServer, Webhook
from flink_tm_memory.runtime.admission.tls import ServingTls
from flink_tm_memory.runtime.certificates import ServingCertificates
from flink_tm_memory.runtime.health import Check, CheckResult
from flink_tm_memory.runtime.metrics import WebhookCounter
from flink_tm_memory.runtime.options import OperatorOptions, WebhookOptions

ADMISSION_CHECK = "admission-server"
"""Readiness: the webhooks' server listens with a valid certificate and is not draining."""
MEMORY_CACHE_CHECK = "memory-cache"
"""Readiness: the FlinkTaskManagerMemory cache of the mutating webhook has listed every namespace once."""
SWITCH_INTERVAL = 0.001
"""Seconds a thread may hold the GIL while another waits for it, while admission is served."""


class Admission:
    """The admission webhooks of one operator run."""

    def __init__(
        self,
        client: ClusterClient,
        options: OperatorOptions,
        webhook: WebhookOptions,
        certificates: ServingCertificates,
        metrics: WebhookCounter | None,
        *,
        validating_after: Sequence[AdmissionStep] = (),
    ) -> None:
        self._drain_seconds = webhook.drain_seconds
        self._switch_interval = sys.getswitchinterval()
        self.cache = MemoryCache(client, options.namespaces)
        self.server = AdmissionServer(
            listen=webhook.listen,
            port=webhook.port,
            tls=ServingTls(certificates),
            webhooks=(
                Webhook(VALIDATE_ID, (GROUP, PLURAL), validating_steps(validating_after)),
                Webhook(MUTATE_ID, PODS, PodMutator(client, self.cache)),
            ),
            metrics=metrics,
            background=(self.cache.run,),
            certificate_check_interval=webhook.certificate_check_interval,
        )

    def checks(self) -> dict[str, Check]:
        return {ADMISSION_CHECK: self.server.check, MEMORY_CACHE_CHECK: self._cache_check}

    def _cache_check(self) -> CheckResult:
        return CheckResult(self.cache.synced, self.cache.describe())

    async def start(self) -> None:
        """Serves from now on; raises ``AdmissionServerError`` if the server cannot listen or has no certificate."""
        self._switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(min(self._switch_interval, SWITCH_INTERVAL))
        try:
            await self.server.start()
        except BaseException:
            sys.setswitchinterval(self._switch_interval)
            raise

    def drain(self) -> None:
        """Reports not ready from now on; requests are still answered until ``stop``."""
        self.server.drain()

    async def stop(self) -> None:
        try:
            await self.server.stop()
        finally:
            sys.setswitchinterval(self._switch_interval)

    @contextlib.asynccontextmanager
    async def serving(self) -> AsyncIterator[None]:
        """Serves while the block runs; then drains (not ready, still answering) and stops."""
        await self.start()
        try:
            yield
        finally:
            self.drain()
            try:
                await asyncio.sleep(self._drain_seconds)
            finally:
                await self.stop()
