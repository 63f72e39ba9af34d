"""The connection to the API server: configuration, and one way to make a call.

The configuration comes from the environment as every Kubernetes client finds it (in-cluster service
account, else the kubeconfig), or from an explicit server URL (tests, the benchmark). kopf logs in
from the same configuration (see the handler layer), so the framework and this client always talk
to the same server with the same identity.

Each call runs the blocking client in a worker thread with a deadline, without the client's own
retries: retrying is the reconciler's decision (kopf retries a failed reconciliation with backoff),
and a request that hangs must surface as a timeout instead of stalling a reconciliation.

Requests go through the client's ``ApiClient`` (authentication, the kubeconfig's TLS settings, the
REST layer) by path, never through its typed API classes: those wrap each of their ~700 methods in
a pydantic validator, and merely touching the five the operator would use costs a large share of
the operator's memory (``benchmarks/README.md``, "Operator"), and a validation per call. The operator reads and
writes JSON anyway (it never used the client's models).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any

import kubernetes.client
import kubernetes.config
import urllib3
from kubernetes.client.exceptions import ApiException
from kubernetes.client.rest import RESTResponse
from urllib3 import BaseHTTPResponse

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
    """One connection to the API server, and the way every request is made."""

    def __init__(
        self,
        configuration: kubernetes.client.Configuration,
        *,
        request_timeout: float,
        contact: ApiContact | None = None,
    ) -> None:
        self._api = kubernetes.client.ApiClient(configuration)
        self._request_timeout = request_timeout
        self.contact = contact if contact is not None else ApiContact()
        """Every request's outcome, recorded here (metrics, readiness)."""

    async def get(self, path: str, query: Mapping[str, str] | None = None, **names: str) -> Json:
        """GETs ``path``, a template whose ``{placeholders}`` are filled from ``names`` (quoted)."""
        return await self.request("GET", path, names, query=query)

    async def create(self, path: str, body: Json, **names: str) -> Json:
        return await self.request("POST", path, names, body=body, content_type="application/json")

    async def patch(self, path: str, body: Json, content_type: str, **names: str) -> Json:
        return await self.request("PATCH", path, names, body=body, content_type=content_type)

    async def replace(self, path: str, body: Json, **names: str) -> Json:
        """PUTs the whole object: refused with a conflict unless its ``resourceVersion`` is the stored one."""
        return await self.request("PUT", path, names, body=body, content_type="application/json")

    async def request(
        self,
        method: str,
        path: str,
        names: Mapping[str, str],
        *,
        body: Json | None = None,
        content_type: str | None = None,
        query: Mapping[str, str] | None = None,
    ) -> Json:
        """Sends one request in a thread; returns the response's JSON, raises the errors' types."""
        with self._answered():
            data = await asyncio.to_thread(
                partial(self._send, method, path, names, body=body, content_type=content_type, query=query)
            )
        document: Json = json.loads(data)
        return document

    def _send(
        self,
        method: str,
        path: str,
        names: Mapping[str, str],
        *,
        body: Json | None,
        content_type: str | None,
        query: Mapping[str, str] | None = None,
    ) -> bytes:
        response = self._call(
            method,
            path,
            names,
            body=body,
            content_type=content_type,
            query=query,
            timeout=self._request_timeout,
        )
        data: bytes = response.read()  # type: ignore[no-untyped-call]
        if not 200 <= response.status <= 299:
            raise ApiException.from_response(http_resp=response, body=None, data=None)
        return data

    def open_stream(self, path: str, query: Mapping[str, str], read_timeout: float) -> BaseHTTPResponse:
        """Opens a streamed GET (a watch) and returns the unread response; blocking: call it in a thread.

        The caller reads it (``stream()``), and may end it from another thread with ``shutdown()``.
        A status other than 2xx raises as ``request`` does, and is recorded in ``contact`` like any
        request; a stream that opens counts as contact.
        """
        with self._answered():
            timeout = (self._request_timeout, read_timeout)
            response = self._call("GET", path, {}, body=None, content_type=None, query=query, timeout=timeout)
            if not 200 <= response.status <= 299:
                response.read()  # type: ignore[no-untyped-call]
                raise ApiException.from_response(http_resp=response, body=None, data=None)
        stream: BaseHTTPResponse = response.response
        return stream

    @contextmanager
    def _answered(self) -> Iterator[None]:
        """Records how a request went in ``contact``, and raises its failure as an ``ApiError``."""
        try:
            yield
        except ApiException as error:
            self.contact.record(outcome_of_status(int(error.status or 0)))
            raise failure_for_status(int(error.status or 0), _reason(error)) from None
        except (urllib3.exceptions.HTTPError, OSError) as error:
            self.contact.record(outcome_of_failure(error))
            raise ApiError(f"the API server did not answer: {type(error).__name__}", transient=True) from None
        self.contact.record(Outcome.OK)

    def _call(
        self,
        method: str,
        path: str,
        names: Mapping[str, str],
        *,
        body: Json | None,
        content_type: str | None,
        query: Mapping[str, str] | None,
        timeout: float | tuple[float, float],
    ) -> RESTResponse:
        headers = {"Accept": "application/json"}
        if content_type is not None:
            headers["Content-Type"] = content_type
        method, url, headers, serialized, _ = self._api.param_serialize(
            method=method,
            resource_path=path,
            path_params=dict(names),
            query_params=list((query or {}).items()),
            header_params=headers,
            body=body,
            auth_settings=["BearerToken"],
        )
        return self._api.call_api(
            method, url, header_params=headers, body=serialized, _request_timeout=timeout
        )

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
