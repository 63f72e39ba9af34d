"""Operator-kept webhook configurations: their ``caBundle`` in step with the serving CAs, by patches only.

With ``--webhook-manage-configurations`` the operator keeps the ValidatingWebhookConfiguration and
MutatingWebhookConfiguration named ``flink-tm-memory-operator`` saying what they must (the same
objects as the shipped manifests, from ``render.webhook_configurations``), with ``caBundle`` set to
the CAs its serving certificates come from (during a rotation: the old and the new). It checks them
again every ``configuration_check_interval`` seconds, re-reading the CA file: the CAs rotate, and
someone may edit a configuration, and a configuration whose ``caBundle`` does not match makes every
admission call fail TLS verification.

It only ``get``s and ``patch``es those two, by name: it never creates nor deletes one (``create``
cannot be limited to names in RBAC, so it would be a right over every webhook of the cluster). The
chart creates them; outside the chart, ``flink-tm-memory webhook-configurations --operator-ca`` prints
them for ``kubectl apply``. A missing one is logged with that advice and looked for again at the next
check.

A failure to write never stops the operator, which keeps reconciling without its webhooks meanwhile.
It is retried soon (``RETRY_DELAY`` seconds, doubled after each failed round up to the check
interval): the replica is not ready until the configurations carry its CA, and the first start of a
cluster is when the API server still answers ``429 storage is (re)initializing``. A transient failure
(5xx, 429, a timeout: ``ApiError.transient``) is a WARNING, since it is retried and nothing is lost
yet; what needs a person (forbidden, invalid, a configuration missing) is an ERROR.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Awaitable, Callable
from functools import partial

from flink_tm_memory.cluster.apply import apply_object
from flink_tm_memory.cluster.client import ClusterClient
from flink_tm_memory.cluster.errors import ApiError
from flink_tm_memory.cluster.objects import WebhookConfigurations
from flink_tm_memory.render.webhook_configurations import (
    CONFIGURATION_NAME,
    MUTATING_KIND,
    VALIDATING_KIND,
    Endpoint,
    UrlEndpoint,
    WebhookSetup,
    configuration_decision,
    webhook_configurations,
)
from flink_tm_memory.render.writes import Absent, Patch
from flink_tm_memory.runtime.certificates import ServingCertificates
from flink_tm_memory.runtime.health import CheckResult
from flink_tm_memory.runtime.options import WebhookOptions

logger = logging.getLogger(__name__)

RETRY_DELAY = 1.0
"""Seconds before a failed round is tried again the first time (doubled per failed round)."""


class WebhookConfigurationKeeper:
    """Patches both configurations for one webhook server, as often as asked."""

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
        """Brings both configurations to what they must say; ``False`` (logged) when that failed."""
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
                logger.log(
                    logging.WARNING if error.transient else logging.ERROR,
                    f"Failed to write {kind} name={name}, retrying error={str(error)!r}",
                )
                succeeded = False
                continue
            if isinstance(applied.decision, Absent):
                logger.error(
                    f"Missing {kind} name={name}: the operator only patches it; the chart creates it, or "
                    f"'flink-tm-memory webhook-configurations --operator-ca ... | kubectl apply -f -'"
                )
                succeeded = False
            elif isinstance(applied.decision, Patch):
                logger.info(f"Updated {kind} name={name}")
        self.written = self.written or succeeded
        return succeeded

    async def carries(self, bundle: bytes) -> bool:
        """Whether every webhook of both configurations has ``bundle`` as its ``caBundle`` now."""
        encoded = base64.b64encode(bundle).decode("ascii")
        for kind in (VALIDATING_KIND, MUTATING_KIND):
            live = await WebhookConfigurations(self._client, kind).read("", CONFIGURATION_NAME)
            webhooks = (live or {}).get("webhooks") or []
            if not webhooks or any(
                (webhook.get("clientConfig") or {}).get("caBundle") != encoded for webhook in webhooks
            ):
                return False
        return True

    def check(self) -> CheckResult:
        """Readiness: until both configurations carry our CA, the API server cannot call us."""
        if self.written:
            return CheckResult(True, "the webhook configurations carry this server's CA")
        return CheckResult(False, "the webhook configurations do not carry this server's CA yet")

    async def keep(
        self,
        interval: float,
        before: Callable[[], Awaitable[bool]] | None = None,
        *,
        retry_delay: float = RETRY_DELAY,
    ) -> None:
        """Applies now, then every ``interval`` seconds (sooner after a failed round), until cancelled.

        ``before`` runs first each time (the certificate check, so the bundle applied is the one just
        read from the store); when it fails, nothing is applied that time: a bundle from an older read
        could take back a CA another replica has already switched to. A failed round (either step) is
        tried again after ``retry_delay`` seconds, doubled per failed round, never beyond ``interval``.
        """
        delay = retry_delay
        while True:
            succeeded = (before is None or await before()) and await self.apply()
            if succeeded:
                delay = retry_delay
                await asyncio.sleep(interval)
            else:
                await asyncio.sleep(min(delay, interval))
                delay *= 2
