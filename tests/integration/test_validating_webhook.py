"""The validating webhook, served by the real operator over HTTPS, answers real AdmissionReview v1 requests.

The operator runs with its webhook server on a free loopback port and a development CA it generated;
the test verifies the server's certificate against that CA, posts AdmissionReviews as the API server
sends them to kopf's endpoint for the handler (``/validate-memory``) and reads the answers. Bad bodies
get a 4xx, never a 500, and the server keeps answering afterwards.
"""

from __future__ import annotations

import copy
import io
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from flink_tm_memory.api.v1alpha1 import GROUP, KIND, PLURAL, VERSION
from flink_tm_memory.control.admission import VALIDATE_ID
from tests.integration.conftest import StartOperator
from tests.integration.webhooks import webhook_session

SAMPLES = Path(__file__).parents[2] / "manifests" / "samples"
Json = dict[str, Any]


def sample(name: str) -> Json:
    loaded: Json = yaml.safe_load((SAMPLES / f"{name}.yaml").read_text())
    loaded["metadata"]["namespace"] = "default"
    return loaded


def review(operation: str, obj: Json | None, *, old: Json | None = None, dry_run: bool = False) -> Json:
    """An AdmissionReview v1 request as the API server sends it."""
    group_version = {"group": GROUP, "version": VERSION}
    return {
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": str(uuid.uuid4()),
            "kind": {**group_version, "kind": KIND},
            "resource": {**group_version, "resource": PLURAL},
            "requestKind": {**group_version, "kind": KIND},
            "requestResource": {**group_version, "resource": PLURAL},
            "name": (obj or old or {}).get("metadata", {}).get("name", ""),
            "namespace": "default",
            "operation": operation,
            "userInfo": {
                "username": "kubernetes-admin",
                "groups": ["system:masters", "system:authenticated"],
            },
            "object": obj,
            "oldObject": old,
            "dryRun": dry_run,
            "options": {"apiVersion": "meta.k8s.io/v1", "kind": f"{operation.title()}Options"},
        },
    }


class Webhook:
    """An HTTPS client of the operator's webhook server, trusting only the generated CA."""

    def __init__(self, session: aiohttp.ClientSession, base: str) -> None:
        self.session = session
        self.url = f"{base}/{VALIDATE_ID}"

    async def post(self, body: bytes | Json) -> tuple[int, Any]:
        data = io.BytesIO(body) if isinstance(body, bytes) else None
        payload = None if isinstance(body, bytes) else body
        async with self.session.post(self.url, data=data, json=payload) as answer:
            parsed = await answer.json() if answer.content_type == "application/json" else None
            return answer.status, parsed

    async def admit(self, request: Json) -> Json:
        status, answer = await self.post(request)
        assert status == 200, answer
        response: Json = answer["response"]
        assert response["uid"] == request["request"]["uid"]
        return response


@pytest.fixture
async def webhook(start_operator: StartOperator, tmp_path: Path) -> AsyncIterator[Webhook]:
    async with webhook_session(start_operator, tmp_path) as (session, base):
        yield Webhook(session, base)


async def test_a_valid_resource_is_allowed_and_the_response_echoes_the_request_uid(webhook: Webhook) -> None:
    response = await webhook.admit(review("CREATE", sample("kubernetes-quantity")))

    assert response["allowed"] is True
    assert "status" not in response
    assert "warnings" not in response


async def test_the_conflicting_sample_is_denied_with_flinks_message_first(webhook: Webhook) -> None:
    response = await webhook.admit(review("CREATE", sample("conflicting")))

    assert response["allowed"] is False
    assert response["status"]["code"] == 422
    first = response["status"]["message"].splitlines()[0]
    assert first.startswith("spec.resources.memory")
    assert "is less than the sum of the derived Total Flink Memory size" in first
    assert any("may easily lead to memory configuration conflicts" in line for line in response["warnings"])


async def test_an_ambiguous_decimal_gigabyte_memory_is_allowed_with_a_warning_giving_both_byte_counts(
    webhook: Webhook,
) -> None:
    resource = sample("kubernetes-quantity")
    resource["spec"]["resources"]["memory"] = "4G"

    response = await webhook.admit(review("CREATE", resource))

    assert response["allowed"] is True
    [warning] = response["warnings"]
    assert warning.startswith("spec.resources.memory: ambiguous size")
    assert "4000000000 bytes" in warning
    assert "4294967296 bytes" in warning


async def test_an_update_is_judged_on_the_new_object_not_the_old_one(webhook: Webhook) -> None:
    valid, conflicting = sample("kubernetes-quantity"), sample("conflicting")
    conflicting["metadata"]["name"] = valid["metadata"]["name"]

    breaking = await webhook.admit(review("UPDATE", conflicting, old=valid))
    repairing = await webhook.admit(review("UPDATE", valid, old=conflicting))

    assert breaking["allowed"] is False
    assert repairing["allowed"] is True


@pytest.mark.parametrize("name", ["conflicting", "kubernetes-quantity", "heap-managed"])
async def test_a_dry_run_gets_the_same_verdict_and_warnings(webhook: Webhook, name: str) -> None:
    real = await webhook.admit(review("CREATE", sample(name)))
    dry = await webhook.admit(review("CREATE", sample(name), dry_run=True))

    assert {**dry, "uid": None} == {**real, "uid": None}


async def test_an_object_of_another_kind_is_denied_naming_the_kind(webhook: Webhook) -> None:
    resource = sample("kubernetes-quantity")
    resource["kind"] = "Pod"

    response = await webhook.admit(review("CREATE", resource))

    assert response["allowed"] is False
    assert response["status"]["message"].startswith("kind: expected FlinkTaskManagerMemory")


async def test_an_object_without_a_spec_is_denied_naming_the_spec(webhook: Webhook) -> None:
    resource = sample("kubernetes-quantity")
    del resource["spec"]

    response = await webhook.admit(review("CREATE", resource))

    assert response["allowed"] is False
    assert response["status"]["message"] == "spec: required"


def _without(path: str) -> Json:
    request = review("CREATE", sample("kubernetes-quantity"))
    *parents, last = path.split(".")
    target = request
    for key in parents:
        target = target[key]
    del target[last]
    return request


def _replaced(path: str, value: Any) -> Json:
    request = review("CREATE", sample("kubernetes-quantity"))
    *parents, last = path.split(".")
    target = request
    for key in parents:
        target = target[key]
    target[last] = copy.deepcopy(value)
    return request


BAD_BODIES: dict[str, bytes | Json] = {
    "garbage": b"\x00\xffnot json at all",
    "empty": b"",
    "a JSON list": b"[1, 2, 3]",
    "a JSON string": b'"AdmissionReview"',
    "an empty object": {},
    "a request that is a string": {"request": "CREATE"},
    "no resource": _without("request.resource"),
    "a resource missing its plural": _without("request.resource.resource"),
    "a resource no handler serves (configmaps)": _replaced(
        "request.resource", {"group": "", "version": "v1", "resource": "configmaps"}
    ),
    "an object that is a string": _replaced("request.object", "spec"),
    "an old object that is a list": _replaced("request.oldObject", []),
    "a uid that is a number": _replaced("request.uid", 42),
    "no user info": _without("request.userInfo"),
    "neither object nor old object": _replaced("request.object", None),
    "a huge body": b'{"pad": "' + b"x" * (3 << 20) + b'"}',
}


@pytest.mark.parametrize("body", BAD_BODIES.values(), ids=BAD_BODIES.keys())
async def test_a_bad_body_gets_a_client_error_and_the_server_keeps_answering(
    webhook: Webhook, body: bytes | Json
) -> None:
    status, _ = await webhook.post(body)

    assert 400 <= status < 500
    response = await webhook.admit(review("CREATE", sample("conflicting")))
    assert response["allowed"] is False


async def test_the_denial_ends_flinks_conflict_with_the_fix_that_changes_least(webhook: Webhook) -> None:
    response = await webhook.admit(review("CREATE", sample("conflicting")))

    first = response["status"]["message"].splitlines()[0]
    assert " Fix: raise spec.resources.memory from 2Gi to " in first
    assert first.endswith("Mi")
