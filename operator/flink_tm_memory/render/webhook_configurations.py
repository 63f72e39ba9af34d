"""The ValidatingWebhookConfiguration and MutatingWebhookConfiguration that route admission to the operator.

One builder serves the shipped manifests (``manifests/webhooks/``, the Helm chart) and the
configurations the operator keeps in step (``flink-tm-memory run --webhook-manage-configurations``
patches the two the chart created), so both say the same thing; they differ only in how the API
server reaches the webhook (a Service in the cluster, or a URL in development) and in who fills
``caBundle`` (cert-manager's CA injector, from the ``cert-manager.io/inject-ca-from`` annotation, or
the operator, from the CAs it serves with).

The choices, per webhook:

- ``validate-memory.flinkmemory.io`` (FlinkTaskManagerMemory CREATE and UPDATE): ``failurePolicy:
  Fail``. A spec Flink would refuse must fail at ``kubectl apply`` / GitOps sync time, which only a
  failing-closed webhook guarantees. It touches nothing but our own custom resources: while the
  operator is down, creating or editing a FlinkTaskManagerMemory is refused (deleting is not), and
  nothing could have acted on the edit anyway. ``timeoutSeconds: 5``: a derivation takes well under a
  millisecond; the budget is for a slow network, not for us.
- ``mutate-pod.flinkmemory.io`` (Pod CREATE): ``failurePolicy: Ignore`` and ``timeoutSeconds: 2``:
  every opted-in pod creation waits on this call, and a webhook that is down or slow must never stop
  pods from being created (the pod then starts with its own resources, and the handler itself admits
  unchanged whatever it cannot size). ``objectSelector`` sends only pods labelled
  ``flinkmemory.io/profile``; ``reinvocationPolicy: IfNeeded`` lets us run again after a later
  webhook (a sidecar injector) changed the pod, which is safe because the mutation is idempotent.
- Both: a ``namespaceSelector`` that never matches ``kube-system``, ``kube-public`` nor
  ``kube-node-lease``, and for pods not the operator's own namespace either (the operator's pods
  must never wait on the operator); ``sideEffects: None`` (dry runs are answered the same way);
  AdmissionReview ``v1`` only.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flink_tm_memory.api.v1alpha1 import GROUP, PLURAL, VERSION
from flink_tm_memory.render.metadata import MANAGED_BY_LABEL, OPERATOR_NAME
from flink_tm_memory.render.pod_mutation import PROFILE_LABEL
from flink_tm_memory.render.writes import MERGE_PATCH, Absent, Decision, Patch, Unchanged

VALIDATE_MEMORY_PATH = "validate-memory"
"""The validating webhook's URL path on the operator's server (kopf routes by handler id)."""
MUTATE_POD_PATH = "mutate-pod"
"""The mutating webhook's URL path on the operator's server."""

CONFIGURATION_NAME = OPERATOR_NAME
"""The name of both configurations (they are of two kinds, so one name serves both)."""
VALIDATING_KIND = "ValidatingWebhookConfiguration"
MUTATING_KIND = "MutatingWebhookConfiguration"
API_VERSION = "admissionregistration.k8s.io/v1"

SYSTEM_NAMESPACES = ("kube-system", "kube-public", "kube-node-lease")
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
"""Set by the API server on every namespace (Kubernetes 1.21+): selecting by a namespace's name."""
INJECT_CA_ANNOTATION = "cert-manager.io/inject-ca-from"

DEFAULT_NAMESPACE = "flink-tm-memory"
"""The namespace the shipped manifests and the Helm chart install the operator into by default."""
DEFAULT_SERVICE = f"{OPERATOR_NAME}-webhook"
"""The webhook Service's name, and the cert-manager Certificate's, in the shipped manifests."""

VALIDATING_TIMEOUT_SECONDS = 5
MUTATING_TIMEOUT_SECONDS = 2

Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class ServiceEndpoint:
    """The webhook reached through a Service in the cluster (the production way)."""

    namespace: str
    name: str
    port: int = 443


@dataclass(frozen=True, slots=True)
class UrlEndpoint:
    """The webhook reached at ``https://host:port`` (an operator running outside the cluster)."""

    base_url: str


Endpoint = ServiceEndpoint | UrlEndpoint


@dataclass(frozen=True, slots=True)
class WebhookSetup:
    """Everything the two configurations depend on."""

    endpoint: Endpoint
    operator_namespace: str | None = None
    """Never sent to the pod webhook; the Service's namespace by default."""
    ca_bundle: bytes | None = None
    """The PEM of the CA that signed the serving certificate; ``None``: left to cert-manager."""
    cert_manager_certificate: str | None = None
    """``namespace/name`` of the cert-manager Certificate whose CA cert-manager injects."""
    name: str = CONFIGURATION_NAME

    @property
    def pod_excluded_namespaces(self) -> tuple[str, ...]:
        """The system namespaces and the operator's own."""
        own = self.operator_namespace
        if own is None and isinstance(self.endpoint, ServiceEndpoint):
            own = self.endpoint.namespace
        return SYSTEM_NAMESPACES if own is None or own in SYSTEM_NAMESPACES else (*SYSTEM_NAMESPACES, own)


def webhook_configurations(setup: WebhookSetup) -> list[Json]:
    """Both configurations, validating first, as the API server stores them (minus defaults)."""
    return [validating_configuration(setup), mutating_configuration(setup)]


def validating_configuration(setup: WebhookSetup) -> Json:
    webhook = _webhook(
        setup,
        name=f"{VALIDATE_MEMORY_PATH}.{GROUP}",
        path=VALIDATE_MEMORY_PATH,
        rule=_rule(GROUP, VERSION, PLURAL, ["CREATE", "UPDATE"]),
        failure_policy="Fail",
        timeout_seconds=VALIDATING_TIMEOUT_SECONDS,
        excluded_namespaces=SYSTEM_NAMESPACES,
    )
    return _configuration(VALIDATING_KIND, setup, webhook)


def mutating_configuration(setup: WebhookSetup) -> Json:
    webhook = _webhook(
        setup,
        name=f"{MUTATE_POD_PATH}.{GROUP}",
        path=MUTATE_POD_PATH,
        rule=_rule("", "v1", "pods", ["CREATE"]),
        failure_policy="Ignore",
        timeout_seconds=MUTATING_TIMEOUT_SECONDS,
        excluded_namespaces=setup.pod_excluded_namespaces,
    )
    webhook["objectSelector"] = {"matchExpressions": [{"key": PROFILE_LABEL, "operator": "Exists"}]}
    webhook["reinvocationPolicy"] = "IfNeeded"
    return _configuration(MUTATING_KIND, setup, webhook)


def _configuration(kind: str, setup: WebhookSetup, webhook: Json) -> Json:
    metadata: Json = {"name": setup.name, "labels": {MANAGED_BY_LABEL: OPERATOR_NAME}}
    if setup.cert_manager_certificate is not None:
        metadata["annotations"] = {INJECT_CA_ANNOTATION: setup.cert_manager_certificate}
    return {"apiVersion": API_VERSION, "kind": kind, "metadata": metadata, "webhooks": [webhook]}


def _webhook(
    setup: WebhookSetup,
    *,
    name: str,
    path: str,
    rule: Json,
    failure_policy: str,
    timeout_seconds: int,
    excluded_namespaces: Sequence[str],
) -> Json:
    return {
        "name": name,
        "admissionReviewVersions": ["v1"],
        "clientConfig": _client_config(setup, path),
        "rules": [rule],
        "failurePolicy": failure_policy,
        "matchPolicy": "Equivalent",
        "sideEffects": "None",
        "timeoutSeconds": timeout_seconds,
        "namespaceSelector": _namespaces_other_than(excluded_namespaces),
    }


def _client_config(setup: WebhookSetup, path: str) -> Json:
    endpoint = setup.endpoint
    config: Json
    if isinstance(endpoint, ServiceEndpoint):
        service = {"namespace": endpoint.namespace, "name": endpoint.name, "path": f"/{path}"}
        config = {"service": {**service, "port": endpoint.port}}
    else:
        config = {"url": f"{endpoint.base_url.rstrip('/')}/{path}"}
    if setup.ca_bundle is not None:
        config["caBundle"] = base64.b64encode(setup.ca_bundle).decode("ascii")
    return config


def _rule(group: str, version: str, plural: str, operations: list[str]) -> Json:
    return {
        "apiGroups": [group],
        "apiVersions": [version],
        "resources": [plural],
        "operations": operations,
        "scope": "Namespaced",
    }


def _namespaces_other_than(names: Sequence[str]) -> Json:
    return {"matchExpressions": [{"key": NAMESPACE_NAME_LABEL, "operator": "NotIn", "values": list(names)}]}


def configuration_decision(wanted: Json, current: Json | None) -> Decision:
    """How to bring a live configuration to ``wanted``: replace its webhooks, or nothing.

    A missing configuration is ``Absent``: the chart (or ``kubectl apply`` of this module's output)
    creates it, never the operator, which may only ``get`` and ``patch`` the two, by name.

    ``current`` holds ``wanted`` when every field ``wanted`` sets has that value there (the API server
    adds its defaults, e.g. an empty ``objectSelector``, which are not differences). Otherwise the
    webhooks are replaced whole (a merge patch replaces lists) and our label set, on the
    ``resourceVersion`` read, so a concurrent edit (Helm, cert-manager's injector) is re-read, not lost.
    """
    if current is None:
        return Absent()
    metadata = current.get("metadata") or {}
    labels = wanted["metadata"]["labels"]
    if holds(current.get("webhooks"), wanted["webhooks"]) and holds(metadata.get("labels"), labels):
        return Unchanged()
    patched_metadata = {"resourceVersion": metadata.get("resourceVersion"), "labels": labels}
    return Patch({"metadata": patched_metadata, "webhooks": wanted["webhooks"]}, MERGE_PATCH)


def holds(live: object, wanted: object) -> bool:
    """Whether ``live`` has every field of ``wanted`` with its value (lists: item by item, same length)."""
    if isinstance(wanted, dict):
        return isinstance(live, dict) and all(holds(live.get(key), value) for key, value in wanted.items())
    if isinstance(wanted, list):
        return (
            isinstance(live, list)
            and len(live) == len(wanted)
            and all(holds(item, value) for item, value in zip(live, wanted, strict=True))
        )
    return live == wanted
