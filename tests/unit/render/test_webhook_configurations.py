"""The webhook configurations: what each webhook selects, how it fails, where it is reached, when it is rewritten."""

from __future__ import annotations

import base64
import copy
from typing import Any

import pytest

from flink_tm_memory.control.admission import VALIDATE_ID
from flink_tm_memory.control.mutation import MUTATE_ID
from flink_tm_memory.render.webhook_configurations import (
    INJECT_CA_ANNOTATION,
    SYSTEM_NAMESPACES,
    ServiceEndpoint,
    UrlEndpoint,
    WebhookSetup,
    configuration_decision,
    holds,
    webhook_configurations,
)
from flink_tm_memory.render.writes import MERGE_PATCH, Create, Patch, Unchanged

SERVICE = ServiceEndpoint("flink-system", "memory-webhook")
Json = dict[str, Any]


def webhooks(setup: WebhookSetup) -> tuple[Json, Json]:
    validating, mutating = webhook_configurations(setup)
    assert (validating["kind"], mutating["kind"]) == (
        "ValidatingWebhookConfiguration",
        "MutatingWebhookConfiguration",
    )
    assert len(validating["webhooks"]) == len(mutating["webhooks"]) == 1
    return validating["webhooks"][0], mutating["webhooks"][0]


def excluded(webhook: Json) -> list[str]:
    [expression] = webhook["namespaceSelector"]["matchExpressions"]
    assert (expression["key"], expression["operator"]) == ("kubernetes.io/metadata.name", "NotIn")
    values: list[str] = expression["values"]
    return values


def test_the_paths_are_the_handler_ids_the_operator_serves() -> None:
    validating, mutating = webhooks(WebhookSetup(SERVICE))
    assert validating["clientConfig"]["service"]["path"] == f"/{VALIDATE_ID}"
    assert mutating["clientConfig"]["service"]["path"] == f"/{MUTATE_ID}"


def test_validation_fails_closed_on_our_resources_only_and_mutation_fails_open_on_labelled_pods() -> None:
    validating, mutating = webhooks(WebhookSetup(SERVICE))
    assert validating["rules"] == [
        {
            "apiGroups": ["flinkmemory.io"],
            "apiVersions": ["v1alpha1"],
            "resources": ["flinktaskmanagermemories"],
            "operations": ["CREATE", "UPDATE"],
            "scope": "Namespaced",
        }
    ]
    assert (validating["failurePolicy"], validating["timeoutSeconds"]) == ("Fail", 5)
    assert mutating["rules"][0]["resources"] == ["pods"]
    assert mutating["rules"][0]["operations"] == ["CREATE"]
    assert (mutating["failurePolicy"], mutating["timeoutSeconds"]) == ("Ignore", 2)
    assert mutating["objectSelector"] == {
        "matchExpressions": [{"key": "flinkmemory.io/profile", "operator": "Exists"}]
    }
    assert "objectSelector" not in validating
    for webhook in (validating, mutating):
        assert webhook["sideEffects"] == "None"  # dry runs are answered like real requests
        assert webhook["admissionReviewVersions"] == ["v1"]


def test_system_namespaces_never_reach_a_webhook_and_the_operators_own_never_reaches_the_pod_one() -> None:
    validating, mutating = webhooks(WebhookSetup(SERVICE))
    assert excluded(validating) == list(SYSTEM_NAMESPACES)
    assert excluded(mutating) == [*SYSTEM_NAMESPACES, "flink-system"]
    _, elsewhere = webhooks(WebhookSetup(SERVICE, operator_namespace="operators"))
    assert excluded(elsewhere) == [*SYSTEM_NAMESPACES, "operators"]
    _, by_url = webhooks(WebhookSetup(UrlEndpoint("https://127.0.0.1:9443")))
    assert excluded(by_url) == list(SYSTEM_NAMESPACES)


def test_a_url_endpoint_gets_one_url_per_webhook_and_the_ca_bundle_is_base64_pem() -> None:
    pem = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    validating, mutating = webhooks(WebhookSetup(UrlEndpoint("https://127.0.0.1:9443/"), ca_bundle=pem))
    assert validating["clientConfig"] == {
        "url": "https://127.0.0.1:9443/validate-memory",
        "caBundle": base64.b64encode(pem).decode("ascii"),
    }
    assert mutating["clientConfig"]["url"] == "https://127.0.0.1:9443/mutate-pod"


def test_cert_manager_is_asked_to_inject_its_ca_only_when_a_certificate_is_named() -> None:
    with_injection = webhook_configurations(
        WebhookSetup(SERVICE, cert_manager_certificate="flink-system/tls")
    )
    without = webhook_configurations(WebhookSetup(SERVICE))
    assert all(
        c["metadata"]["annotations"] == {INJECT_CA_ANNOTATION: "flink-system/tls"} for c in with_injection
    )
    assert all("annotations" not in c["metadata"] for c in without)
    assert all("caBundle" not in c["webhooks"][0]["clientConfig"] for c in with_injection)


def as_stored(configuration: Json) -> Json:
    """The configuration as an API server returns it: metadata filled in, defaults added."""
    stored = copy.deepcopy(configuration)
    stored["metadata"].update(uid="u-1", resourceVersion="42", generation=1)
    for webhook in stored["webhooks"]:
        webhook.setdefault("objectSelector", {})
        webhook["clientConfig"].get("service", {}).setdefault("port", 443)
    return stored


@pytest.mark.parametrize("index", [0, 1], ids=["validating", "mutating"])
def test_a_configuration_is_created_when_absent_and_left_alone_when_it_holds_what_is_wanted(
    index: int,
) -> None:
    wanted = webhook_configurations(WebhookSetup(SERVICE, ca_bundle=b"pem"))[index]
    assert configuration_decision(wanted, None) == Create(wanted)
    assert configuration_decision(wanted, as_stored(wanted)) == Unchanged()


def test_a_differing_configuration_has_its_webhooks_replaced_on_the_version_read() -> None:
    old, new = (webhook_configurations(WebhookSetup(SERVICE, ca_bundle=ca))[0] for ca in (b"old", b"new"))

    decision = configuration_decision(new, as_stored(old))

    assert decision == Patch(
        {
            "metadata": {"resourceVersion": "42", "labels": new["metadata"]["labels"]},
            "webhooks": new["webhooks"],
        },
        MERGE_PATCH,
    )


def test_a_configuration_without_our_label_or_with_an_extra_webhook_is_rewritten() -> None:
    wanted = webhook_configurations(WebhookSetup(SERVICE))[1]
    unlabelled = as_stored(wanted)
    unlabelled["metadata"]["labels"] = {}
    extra = as_stored(wanted)
    extra["webhooks"].append({**extra["webhooks"][0], "name": "other.example.com"})
    assert isinstance(configuration_decision(wanted, unlabelled), Patch)
    assert isinstance(configuration_decision(wanted, extra), Patch)


@pytest.mark.parametrize(
    ("live", "wanted", "expected"),
    [
        ({"a": 1, "b": 2}, {"a": 1}, True),
        ({"a": 1}, {"a": 1, "b": 0}, False),
        ({"a": [{"x": 1, "y": 2}]}, {"a": [{"x": 1}]}, True),
        ({"a": [{"x": 1}, {"x": 2}]}, {"a": [{"x": 1}]}, False),
        ({"a": "1"}, {"a": 1}, False),
        (None, {"a": 1}, False),
        ([1], [1], True),
    ],
)
def test_holds_means_every_wanted_field_has_its_value(live: object, wanted: object, expected: bool) -> None:
    assert holds(live, wanted) is expected
