"""Operator-managed webhook configurations: created at start, kept in step with the serving CA.

With ``--webhook-manage-configurations`` the operator writes the ValidatingWebhookConfiguration and
MutatingWebhookConfiguration itself (the same objects as the shipped manifests, from
``render.webhook_configurations``), with ``caBundle`` set to the CA its serving certificate comes
from. It checks them again every ``configuration_check_interval`` seconds, re-reading the CA file:
cert-manager may rotate the CA, someone may edit or delete a configuration, and a configuration
whose ``caBundle`` does not match makes every admission call fail TLS verification.

A failure to write (no RBAC yet, the API server away) is logged and retried at the next check; it
never stops the operator, which keeps reconciling without its webhooks meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
from functools import partial

from flink_tm_memory.cluster.apply import apply_object
from flink_tm_memory.cluster.client import ClusterClient
from flink_tm_memory.cluster.errors import ApiError
from flink_tm_memory.cluster.objects import WebhookConfigurations
from flink_tm_memory.render.webhook_configurations import (
    Endpoint,
    UrlEndpoint,
    WebhookSetup,
    configuration_decision,
    webhook_configurations,
)
from flink_tm_memory.render.writes import Create, Patch
from flink_tm_memory.runtime.certificates import ServingCertificates
from flink_tm_memory.runtime.health import CheckResult
from flink_tm_memory.runtime.options import WebhookOptions

logger = logging.getLogger(__name__)


class WebhookConfigurationKeeper:
    """Writes both configurations for one webhook server, as often as asked."""

    def __init__(
        self, client: ClusterClient, options: WebhookOptions, certificates: ServingCertificates
    ) -> None:
        self._client = client
        self._options = options
        self._certificates = certificates
        self.written = False
        """Both configurations said what they must at least once: the API server can trust our CA."""

    def setup(self) -> WebhookSetup:
        """What the configurations must say now (the CA file is read each time: it may rotate)."""
        endpoint: Endpoint = self._options.service or UrlEndpoint(self._options.url)
        return WebhookSetup(endpoint=endpoint, ca_bundle=self._certificates.ca_bundle())

    async def apply(self) -> bool:
        """Brings both configurations to what they must say; ``False`` (logged) when the API refused."""
        try:
            wanted = webhook_configurations(self.setup())
        except OSError as error:
            logger.error(f"Failed to read the webhook CA error={error!r}")
            return False
        succeeded = True
        for configuration in wanted:
            kind, name = configuration["kind"], configuration["metadata"]["name"]
            api = WebhookConfigurations(self._client, kind)
            try:
                applied = await apply_object(api, "", name, partial(configuration_decision, configuration))
            except ApiError as error:
                logger.error(f"Failed to write {kind} name={name} error={str(error)!r}")
                succeeded = False
                continue
            if isinstance(applied.decision, Create | Patch):
                verb = "Created" if isinstance(applied.decision, Create) else "Updated"
                logger.info(f"{verb} {kind} name={name}")
        self.written = self.written or succeeded
        return succeeded

    def check(self) -> CheckResult:
        """Readiness: until both configurations carry our CA, the API server cannot call us."""
        if self.written:
            return CheckResult(True, "the webhook configurations carry this server's CA")
        return CheckResult(False, "the webhook configurations do not carry this server's CA yet")

    async def keep(self, interval: float) -> None:
        """Applies now, then every ``interval`` seconds, until cancelled."""
        while True:
            await self.apply()
            await asyncio.sleep(interval)
