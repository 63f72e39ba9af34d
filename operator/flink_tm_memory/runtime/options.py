"""The operator's knobs: what it watches, how often it checks for drift, how patient it is with the API.

Production defaults are kopf's own where kopf has one. The tests shorten the timings (the drift
interval, the retry delay, kopf's backoffs) to keep a whole scenario within a second or two; nothing
else differs between the tested operator and the shipped one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from flink_tm_memory.render.webhook_configurations import ServiceEndpoint
from flink_tm_memory.runtime.certificate_schedule import Validity

DEFAULT_VALIDITY = Validity(
    ca=timedelta(days=3 * 365), serving=timedelta(days=90), overlap=timedelta(minutes=10)
)
"""A CA lives three years (rotated after two), a serving certificate 90 days (renewed after 60); old
and new CAs are trusted together for 10 minutes on each side of a switch (replicas check every minute)."""


@dataclass(frozen=True, slots=True)
class SecretReference:
    """The one Secret holding the shared certificates, in the operator's namespace."""

    namespace: str
    name: str


@dataclass(frozen=True, slots=True)
class WebhookOptions:
    """The admission webhooks' HTTPS server; certificates from ``cert_dir`` or made for ``self_signed_hosts``."""

    port: int
    listen: str = "0.0.0.0"
    """The address the server binds (all interfaces by default, as a pod's service needs)."""
    cert_dir: Path | None = None
    """Mounted certificates (cert-manager: tls.crt, tls.key, ca.crt), or where self-signed ones are written."""
    self_signed_hosts: tuple[str, ...] = ()
    """Host names and IPs the operator's own serving certificate names; empty: use ``cert_dir``'s files."""
    secret: SecretReference | None = None
    """With ``self_signed_hosts``: the Secret every replica shares its CA and certificate through;
    ``None``: they live in memory (development: one process)."""
    validity: Validity = DEFAULT_VALIDITY
    """How long the operator's own CA and serving certificate live, and the rotation overlap."""
    host: str | None = None
    """The host the API server calls (``https://host:port``) without a Service; the first self-signed host."""
    manage_configurations: bool = False
    """Keep the (existing) webhook configurations, their ``caBundle`` from the serving CAs, by patches."""
    service: ServiceEndpoint | None = None
    """The Service in front of the webhook, for managed configurations; ``None``: ``https://host:port``."""
    configuration_check_interval: float = 60.0
    """Seconds between two checks of the operator's own certificates (renewed when due) and of the
    managed configurations (which must hold the CAs)."""
    certificate_check_interval: float = 60.0
    """Seconds between two reads of the certificate files; changed ones are served without a restart."""
    drain_seconds: float = 5.0
    """On shutdown, seconds the server still answers while reporting not ready, so endpoints drop it."""

    @property
    def url(self) -> str:
        """Where the API server reaches the webhook without a Service."""
        host = self.host or (self.self_signed_hosts[0] if self.self_signed_hosts else "localhost")
        return f"https://{f'[{host}]' if ':' in host else host}:{self.port}"

    def validity_problem(self) -> str | None:
        """Why the operator's own certificates could not rotate without failed requests, or ``None``."""
        if not self.self_signed_hosts:
            return None
        interval = max(self.configuration_check_interval, self.certificate_check_interval)
        return self.validity.problem(interval)


@dataclass(frozen=True, slots=True)
class LeaderElectionOptions:
    """Leader election through a Lease, with client-go's timings (``runtime.leader``)."""

    namespace: str
    """The namespace of the Lease: the operator's own."""
    identity: str
    """This replica's name in the Lease's ``holderIdentity``: its pod's name."""
    name: str = "flink-tm-memory-operator"
    """The Lease's name (the chart grants ``get``/``update`` on this one name only)."""
    lease_duration: float = 15.0
    """Seconds a standby waits, after it last saw the Lease change, before it takes the Lease over."""
    renew_deadline: float = 10.0
    """Seconds the leader keeps trying to renew before it gives up leading (less than the duration)."""
    retry_period: float = 2.0
    """Seconds between two attempts to acquire or renew."""

    def problems(self) -> list[str]:
        """What makes these settings unusable (client-go's rules), each naming its flag; empty: none."""
        problems = [
            f"{flag} must not be empty"
            for flag, value in (
                ("--leader-election-lease", self.name),
                ("--leader-election-namespace", self.namespace),
                ("--leader-election-identity", self.identity),
            )
            if not value
        ]
        if self.retry_period <= 0:
            problems.append(f"--retry-period ({self.retry_period:g} s) must be positive")
        if self.renew_deadline <= self.retry_period:
            problems.append(
                f"--renew-deadline ({self.renew_deadline:g} s) must be longer than --retry-period "
                f"({self.retry_period:g} s)"
            )
        if self.lease_duration <= self.renew_deadline:
            problems.append(
                f"--lease-duration ({self.lease_duration:g} s) must be longer than --renew-deadline "
                f"({self.renew_deadline:g} s): the leader must give up before a standby may take over"
            )
        return problems


@dataclass(frozen=True, slots=True)
class OperatorOptions:
    namespaces: tuple[str, ...] = ()
    """Namespaces (or kopf's globs) to serve; empty serves every namespace."""
    server: str | None = None
    """An API server URL to talk to without credentials; ``None``: in-cluster, else the kubeconfig."""
    liveness_endpoint: str | None = None
    """Where kopf serves its liveness probe, e.g. ``http://0.0.0.0:8080/healthz``."""
    drift_interval: float = 60.0
    """Seconds between two checks that the ConfigMap and the workloads still hold the layout."""
    retry_delay: float = 5.0
    """Seconds before a reconciliation that hit a transient API failure is retried the first time."""
    max_retry_delay: float = 120.0
    """The longest wait between retries: each failed retry doubles the delay up to this (an outage)."""
    request_timeout: float = 30.0
    """Seconds an API request may take before it counts as failed (and is retried)."""
    api_backoffs: tuple[float, ...] = (1, 1, 2, 3, 5, 8, 13, 21)
    """kopf's retry delays for its own API requests after 5xx and timeouts; its patches and listings then
    keep retrying at the last delay (never given up: see ``settings``), its Events give up."""
    consistency_timeout: float = 5.0
    """How long kopf waits to see its own last write come back on the watch before acting again."""
    watch_reconnect_backoff: float = 0.1
    """Seconds before a dropped watch stream is reopened."""
    reconcile_concurrency: int = 8
    """Reconciliations in progress at once; the others wait (see ``control.reconcile``)."""
    webhook: WebhookOptions | None = None
    """Serve the admission webhooks; ``None``: no webhook."""
    metrics_port: int | None = None
    """Serve ``/metrics``, ``/livez`` and ``/readyz`` over HTTP on this port; ``None``: not served."""
    metrics_listen: str = "0.0.0.0"
    """The address the metrics and health server binds."""
    api_unready_after: float = 60.0
    """Seconds without an answer from the API server after which ``/readyz`` fails."""
    api_check_interval: float = 10.0
    """Seconds of silence after which the operator asks the API server for its version, to know it is there."""
    per_resource_metrics: bool = True
    """Serve the series labelled by each resource's namespace and name (one series per resource)."""
    leader_election: LeaderElectionOptions | None = None
    """Reconcile only while this replica holds the Lease; ``None``: at once, as the only replica."""
    workload_watch: bool = True
    """Watch the workload kinds, so a target created after its resource is sized at once."""
    workload_selector: str | None = None
    """A label selector the API server applies to the workload watch (``None``: every workload)."""
    reconcile_nice: int = 0
    """Nice steps the reconciling process's threads are moved down once the admission process runs, so
    that admission gets the CPU first (``runtime.priority``); 0: unchanged."""
    log_format: str = "full"
    """How the admission process writes its log lines (``runtime.log_format``), as the command line says."""
    verbose: bool = False
    """The admission process logs DEBUG lines too."""
    oom_watch: bool = True
    """Watch the TaskManager pods for OOM kills (``control.oom``): status.oomKills, Events, metrics."""

    def retry_delay_after(self, retries: int) -> float:
        """The delay before retry number ``retries + 1``: ``retry_delay``, doubled per retry, capped."""
        return min(self.retry_delay * 2.0 ** min(retries, 32), self.max_retry_delay)
