"""The requester's own rights on each target, asked of an injected authorizer: who, which verb, which object."""

from __future__ import annotations

import asyncio
from typing import Any

from flink_tm_memory.cluster.access_reviews import (
    AccessReview,
    Requester,
    ResourceAccess,
    read_review,
    review_body,
)
from flink_tm_memory.cluster.errors import ApiError
from flink_tm_memory.control.authorization import target_denials

SPEC: dict[str, Any] = {
    "flinkVersion": "2.2",
    "resources": {"memory": "4Gi"},
    "targets": {
        "configMap": {"name": "flink-config"},
        "workloads": [
            {"kind": "Deployment", "name": "tm"},
            {"kind": "FlinkDeployment", "name": "orders"},
        ],
    },
}
USER = {"username": "bob", "groups": ["devs"]}


class FakeAuthorizer:
    """Allows what ``allowed`` lists as (verb, resource); records every review; may fail."""

    def __init__(
        self, allowed: set[tuple[str, str]], *, config_map: bool = False, failing: bool = False
    ) -> None:
        self.allowed = allowed
        self.config_map = config_map
        self.failing = failing
        self.asked: list[tuple[Requester, ResourceAccess]] = []
        self.in_flight = 0
        self.most_in_flight = 0

    async def review(self, requester: Requester, access: ResourceAccess) -> AccessReview:
        self.asked.append((requester, access))
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        await asyncio.sleep(0)
        self.in_flight -= 1
        if self.failing:
            raise ApiError("the API server answered 503 Service Unavailable", transient=True)
        return AccessReview((access.verb, access.resource) in self.allowed, "RBAC: no rule")

    async def config_map_exists(self, namespace: str, name: str) -> bool:
        return self.config_map


ALL = {
    ("create", "configmaps"),
    ("patch", "configmaps"),
    ("patch", "deployments"),
    ("patch", "flinkdeployments"),
}


async def test_everything_allowed_means_no_denial_and_one_review_per_write_at_once() -> None:
    authorizer = FakeAuthorizer(ALL)
    assert await target_denials(authorizer, USER, "flink", "orders-memory", SPEC) == []
    accesses = [access for _, access in authorizer.asked]
    assert accesses == [
        ResourceAccess("create", "", "configmaps", "flink"),
        ResourceAccess("patch", "apps", "deployments", "flink", "tm"),
        ResourceAccess("patch", "flink.apache.org", "flinkdeployments", "flink", "orders"),
    ]
    assert all(requester == Requester("bob", groups=("devs",)) for requester, _ in authorizer.asked)
    assert authorizer.most_in_flight == 3


async def test_each_refused_write_is_one_message_naming_user_verb_and_object() -> None:
    authorizer = FakeAuthorizer({("create", "configmaps")})
    denials = await target_denials(authorizer, USER, "flink", "orders-memory", SPEC)
    assert denials == [
        "bob may not patch Deployment flink/tm (RBAC: no rule), which FlinkTaskManagerMemory orders-memory "
        "would have the operator do on their behalf: ask for patch on deployments.apps in namespace flink, "
        "or target an object you may patch.",
        "bob may not patch FlinkDeployment flink/orders (RBAC: no rule), which FlinkTaskManagerMemory "
        "orders-memory would have the operator do on their behalf: ask for patch on "
        "flinkdeployments.flink.apache.org in namespace flink, or target an object you may patch.",
    ]


async def test_an_existing_configmap_is_patched_by_name() -> None:
    authorizer = FakeAuthorizer(ALL - {("patch", "configmaps")}, config_map=True)
    [denial] = await target_denials(authorizer, USER, "flink", "orders-memory", SPEC)
    assert denial.startswith("bob may not patch ConfigMap flink/flink-config (RBAC: no rule)")
    assert ResourceAccess("patch", "", "configmaps", "flink", "flink-config") in [
        a for _, a in authorizer.asked
    ]


async def test_the_default_configmap_name_is_the_resources() -> None:
    authorizer = FakeAuthorizer(set())
    denials = await target_denials(authorizer, USER, "flink", "orders-memory", {"flinkVersion": "2.2"})
    assert denials == [
        "bob may not create configmaps in namespace flink (RBAC: no rule), which FlinkTaskManagerMemory "
        "orders-memory would have the operator do to make ConfigMap flink/orders-memory-flink-tm-memory: "
        "ask for create on configmaps in namespace flink, or target an object you may create."
    ]


async def test_an_unanswered_review_is_a_denial_saying_so() -> None:
    denials = await target_denials(FakeAuthorizer(ALL, failing=True), USER, "flink", "m", SPEC)
    assert len(denials) == 3
    assert denials[1] == (
        "Could not check whether bob may patch Deployment flink/tm: the API server answered 503 Service Unavailable"
    )


async def test_nothing_to_review_for_off_unreadable_or_malformed_specs() -> None:
    authorizer = FakeAuthorizer(set())
    assert await target_denials(authorizer, USER, "flink", "m", {**SPEC, "updateMode": "Off"}) == []
    assert await target_denials(authorizer, USER, "flink", "m", {"resources": {"memory": []}}) == []
    assert await target_denials(authorizer, USER, "flink", "m", ["not", "a", "spec"]) == []
    assert authorizer.asked == []


async def test_malformed_user_info_is_reviewed_as_what_it_says_never_raised_on() -> None:
    authorizer = FakeAuthorizer(set())
    denials = await target_denials(authorizer, {"groups": "admins", "extra": {"a": "b"}}, "flink", "m", SPEC)
    assert denials[0].startswith("the requesting user may not")
    assert authorizer.asked[0][0] == Requester("")
    assert Requester.from_user_info(None) == Requester("")


def test_the_review_body_and_its_answer() -> None:
    requester = Requester("bob", "u", ("devs",), {"scope": ("a", "b")})
    body = review_body(requester, ResourceAccess("patch", "apps", "deployments", "flink", "tm"))
    assert body == {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SubjectAccessReview",
        "spec": {
            "user": "bob",
            "uid": "u",
            "groups": ["devs"],
            "extra": {"scope": ["a", "b"]},
            "resourceAttributes": {
                "verb": "patch",
                "group": "apps",
                "resource": "deployments",
                "namespace": "flink",
                "name": "tm",
            },
        },
    }
    assert read_review({"status": {"allowed": True}}) == AccessReview(True, "")
    assert read_review({"status": {"allowed": True, "denied": True, "reason": "no"}}) == AccessReview(
        False, "no"
    )
    assert not read_review({"status": "junk"}).allowed
    assert not read_review({}).allowed
