"""The validating webhook asks the API server whether the requester may write the targets themselves.

The real operator serves AdmissionReviews over HTTPS; the emulated API server answers its
SubjectAccessReviews by a policy each test sets. A requester who may create the resource but not
patch its Deployment is denied (403) with a message naming the user, the verb and the object; with
the right, admitted. (Against the real API server's RBAC: ``tests/e2e/test_target_authorization.py``.)
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.integration.conftest import StartOperator
from tests.integration.emulator import ACCESS_REVIEWS, ApiEmulator, kubernetes_status
from tests.integration.kubectl import CONFIG_MAPS, Json, Kubectl
from tests.integration.test_validating_webhook import Webhook, review, sample
from tests.integration.webhooks import webhook_session

ALICE = {
    "username": "alice",
    "uid": "u-1",
    "groups": ["team-a", "system:authenticated"],
    "extra": {"scope": ["x"]},
}


@pytest.fixture
async def webhook(start_operator: StartOperator, tmp_path: Path) -> AsyncIterator[Webhook]:
    async with webhook_session(start_operator, tmp_path) as (session, base):
        yield Webhook(session, base)


def as_alice(request: Json) -> Json:
    request["request"]["userInfo"] = copy.deepcopy(ALICE)
    return request


def denying(resource: str, verb: str) -> object:
    def policy(spec: Json) -> bool:
        attributes = spec.get("resourceAttributes") or {}
        return not (attributes.get("resource") == resource and attributes.get("verb") == verb)

    return policy


async def test_a_requester_with_the_rights_is_admitted_after_one_review_per_write(
    webhook: Webhook, emulator: ApiEmulator
) -> None:
    response = await webhook.admit(as_alice(review("CREATE", sample("deployment-target"))))
    assert response["allowed"] is True
    reviews = sorted(emulator.access_reviews, key=lambda spec: spec["resourceAttributes"]["resource"])
    assert reviews == [
        {
            "user": "alice",
            "uid": "u-1",
            "groups": ["team-a", "system:authenticated"],
            "extra": {"scope": ["x"]},
            "resourceAttributes": {
                "verb": "create",
                "group": "",
                "resource": "configmaps",
                "namespace": "default",
            },
        },
        {
            "user": "alice",
            "uid": "u-1",
            "groups": ["team-a", "system:authenticated"],
            "extra": {"scope": ["x"]},
            "resourceAttributes": {
                "verb": "patch",
                "group": "apps",
                "resource": "deployments",
                "namespace": "default",
                "name": "flink-taskmanager",
            },
        },
    ]


async def test_a_requester_who_may_not_patch_the_deployment_is_denied_naming_it(
    webhook: Webhook, emulator: ApiEmulator
) -> None:
    emulator.access_policy = denying("deployments", "patch")  # type: ignore[assignment]
    response = await webhook.admit(as_alice(review("CREATE", sample("deployment-target"))))
    assert response["allowed"] is False
    assert response["status"]["code"] == 403
    assert response["status"]["message"] == (
        "alice may not patch Deployment default/flink-taskmanager (no RBAC rule allows it), which "
        "FlinkTaskManagerMemory deployment-target would have the operator do on their behalf: ask for patch "
        "on deployments.apps in namespace default, or target an object you may patch."
    )


async def test_an_existing_configmap_needs_patch_on_it_a_new_one_create(
    webhook: Webhook, emulator: ApiEmulator, kubectl: Kubectl
) -> None:
    await kubectl.create(
        CONFIG_MAPS, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "flink-config"}}
    )
    emulator.access_policy = denying("configmaps", "patch")  # type: ignore[assignment]
    response = await webhook.admit(as_alice(review("CREATE", sample("deployment-target"))))
    assert response["allowed"] is False
    assert response["status"]["message"].startswith("alice may not patch ConfigMap default/flink-config ")

    emulator.access_policy = denying("configmaps", "create")  # type: ignore[assignment]
    response = await webhook.admit(as_alice(review("CREATE", sample("process-size"))))
    assert response["allowed"] is False
    assert response["status"]["message"].startswith(
        "alice may not create configmaps in namespace default (no RBAC rule allows it), which "
        "FlinkTaskManagerMemory process-size would have the operator do to make ConfigMap "
        "default/process-size-flink-tm-memory"
    )


async def test_an_update_that_keeps_the_spec_and_an_off_spec_need_no_review(
    webhook: Webhook, emulator: ApiEmulator
) -> None:
    emulator.access_policy = lambda _spec: False
    memory = sample("deployment-target")
    annotated = copy.deepcopy(memory)
    annotated["metadata"]["annotations"] = {"flinkmemory.io/last-applied-spec": "{}"}
    assert (await webhook.admit(as_alice(review("UPDATE", annotated, old=memory))))["allowed"] is True
    off = copy.deepcopy(memory)
    off["spec"]["updateMode"] = "Off"
    assert (await webhook.admit(as_alice(review("CREATE", off))))["allowed"] is True
    assert emulator.access_reviews == []

    changed = copy.deepcopy(memory)
    changed["spec"]["resources"]["memory"] = "8Gi"
    response = await webhook.admit(as_alice(review("UPDATE", changed, old=memory)))
    assert response["allowed"] is False
    assert len(emulator.access_reviews) == 2


async def test_a_review_the_api_server_does_not_answer_is_a_denial_saying_so(
    webhook: Webhook, emulator: ApiEmulator
) -> None:
    emulator.matching("POST", ACCESS_REVIEWS) << 500 << kubernetes_status(500, "InternalError", "etcd down")
    response = await webhook.admit(as_alice(review("CREATE", sample("deployment-target"))))
    assert response["allowed"] is False
    assert (
        "Could not check whether alice may patch Deployment default/flink-taskmanager"
        in (response["status"]["message"])
    )
