"""The connection to the API server: configuration, and one way to make a call.

The configuration comes from the environment as every Kubernetes client finds it (in-cluster service
account, else the kubeconfig), or from an explicit server URL (tests, the benchmark). kopf logs in
from the same configuration (see the handler layer), so the framework and this client always talk
to the same server with the same identity.

Each call runs the blocking client in a worker thread with a deadline, without the client's own
retries: retrying is the reconciler's decision (kopf retries a failed reconciliation with backoff),
and a request that hangs must surface as a timeout instead of stalling a reconciliation.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import kubernetes.client
import kubernetes.config
import urllib3
from kubernetes.client.exceptions import ApiException

from flink_tm_memory.cluster.contact import ApiContact, Outcome, outcome_of_failure, outcome_of_status
from flink_tm_memory.cluster.errors import ApiError, failure_for_status

Json = dict[str, Any]


class ConfigurationNotFoundError(Exception):
    """No service account and no usable kubeconfig."""


def load_configuration(server: str | None = None) -> kubernetes.client.Configuration:
    """A client configuration for ``server`` (no credentials), else in-cluster, else the kubeconfig."""
    configuration = kubernetes.client.Configuration()
    if server is not None:
        configuration.host = server.rstrip("/")
    else:
        _load_from_environment(configuration)
    configuration.retries = 0
    return configuration


def _load_from_environment(configuration: kubernetes.client.Configuration) -> None:
    try:
        kubernetes.config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
    except kubernetes.config.ConfigException:
        try:
            kubernetes.config.load_kube_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
        except (kubernetes.config.ConfigException, OSError) as error:
            raise ConfigurationNotFoundError(str(error)) from None


@dataclass(frozen=True, slots=True)
class Credentials:
    """How to reach and authenticate to the API server, for a second client (kopf's) to use."""

    server: str
    ca_path: str | None
    insecure: bool
    scheme: str | None
    token: str | None
    certificate_path: str | None
    private_key_path: str | None
    username: str | None
    password: str | None


def read_credentials(configuration: kubernetes.client.Configuration) -> Credentials:
    """The credentials of a configuration; asks again each time, so a rotated token is picked up."""
    header = configuration.get_api_key_with_prefix("BearerToken") or configuration.get_api_key_with_prefix(
        "authorization"
    )
    scheme, _, token = (header or "").rpartition(" ")
    return Credentials(
        server=configuration.host,
        ca_path=configuration.ssl_ca_cert,
        insecure=not configuration.verify_ssl,
        scheme=scheme or None,
        token=token or None,
        certificate_path=configuration.cert_file,
        private_key_path=configuration.key_file,
        username=configuration.username or None,
        password=configuration.password or None,
    )


class ClusterClient:
    """The API clients of one connection, and the way every request is made."""

    def __init__(
        self,
        configuration: kubernetes.client.Configuration,
        *,
        request_timeout: float,
        contact: ApiContact | None = None,
    ) -> None:
        self._api = kubernetes.client.ApiClient(configuration)
        self.core = kubernetes.client.CoreV1Api(self._api)
        self.apps = kubernetes.client.AppsV1Api(self._api)
        self.custom = kubernetes.client.CustomObjectsApi(self._api)
        self.admission = kubernetes.client.AdmissionregistrationV1Api(self._api)
        self.version = kubernetes.client.VersionApi(self._api)
        self._request_timeout = request_timeout
        self.contact = contact if contact is not None else ApiContact()
        """Every request's outcome, recorded here (metrics, readiness)."""

    async def call(self, method: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Json:
        """Runs one client method in a thread; returns the response's JSON, raises the errors' types."""
        kwargs.update(_preload_content=False, _request_timeout=self._request_timeout)
        try:
            response = await asyncio.to_thread(method, *args, **kwargs)
        except ApiException as error:
            self.contact.record(outcome_of_status(int(error.status or 0)))
            raise failure_for_status(int(error.status or 0), _reason(error)) from None
        except (urllib3.exceptions.HTTPError, OSError) as error:
            self.contact.record(outcome_of_failure(error))
            raise ApiError(f"the API server did not answer: {type(error).__name__}", transient=True) from None
        self.contact.record(Outcome.OK)
        document: Json = json.loads(response.data)
        return document

    def close(self) -> None:
        self._api.close()  # type: ignore[no-untyped-call]


def _reason(error: ApiException) -> str:
    try:
        status = json.loads(error.body or "")
    except ValueError:
        status = None
    if isinstance(status, dict) and isinstance(status.get("message"), str):
        return f"{error.reason or ''}: {status['message']}"
    return str(error.reason or "")
