"""Admission, composed: the FlinkTaskManagerMemory cache, both webhooks, their server, its readiness.

``Admission`` builds every piece from the operator's options; ``serving()`` runs them while its block
runs: the server's thread starts (listening, a certificate loaded) before the block, so before kopf,
and on the way out the replica first reports not ready (``drain``), keeps answering for
``WebhookOptions.drain_seconds`` so that the Service's endpoints drop it before it stops listening,
then stops the server last. Nothing here needs kopf or leadership: every replica serves.

The server's thread shares the process, and so Python's GIL, with reconciliation. A thread that
wants the GIL waits up to the interpreter's switch interval (5 ms by default) for the thread holding
it, and an admission request wants it again after each socket read and write, each a wait; while
kopf's loop is busy with a burst of reconciliations that alone would cost an answer 10 to 20 ms.
While admission is served the interval is ``SWITCH_INTERVAL`` (1 ms, ``sys.setswitchinterval``, put
back afterwards): a busy thread yields the GIL within a millisecond, at the cost of more frequent
switches between busy threads.

The validating webhook is ``control.admission.validating_steps(before)``: an authorisation step (a
SubjectAccessReview of the requesting user, ``control.authorization``) is passed as ``before``.
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
from flink_tm_memory.runtime.metrics import OperatorMetrics
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
        metrics: OperatorMetrics | None,
        *,
        validating_before: Sequence[AdmissionStep] = (),
    ) -> None:
        self._drain_seconds = webhook.drain_seconds
        self.cache = MemoryCache(client, options.namespaces)
        self.server = AdmissionServer(
            listen=webhook.listen,
            port=webhook.port,
            tls=ServingTls(certificates),
            webhooks=(
                Webhook(VALIDATE_ID, (GROUP, PLURAL), validating_steps(validating_before)),
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

    @contextlib.asynccontextmanager
    async def serving(self) -> AsyncIterator[None]:
        """Serves while the block runs; then drains (not ready, still answering) and stops."""
        previous = sys.getswitchinterval()
        sys.setswitchinterval(min(previous, SWITCH_INTERVAL))
        try:
            await self.server.start()
            try:
                yield
            finally:
                self.server.drain()
                try:
                    await asyncio.sleep(self._drain_seconds)
                finally:
                    await self.server.stop()
        finally:
            sys.setswitchinterval(previous)
