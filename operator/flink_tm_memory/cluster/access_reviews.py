"""SubjectAccessReviews: asking the API server whether a user may do something, as RBAC decides it.

The validating webhook asks, for the user who sent a FlinkTaskManagerMemory, whether they may
themselves write what the operator would write for them (``control.authorization``). The review is
the user's identity as the admission request carries it (``userInfo``: username, uid, groups,
extra) and one resource attribute set (verb, group, resource, namespace, name); the API server runs
its authorizers (RBAC, webhook authorizers, ...) and answers ``allowed``, with a reason. Creating a
review needs ``create`` on ``subjectaccessreviews.authorization.k8s.io``, nothing else: nothing is
stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flink_tm_memory.cluster.client import ClusterClient, Json
from flink_tm_memory.cluster.objects import config_map_api

REVIEWS = "/apis/authorization.k8s.io/v1/subjectaccessreviews"


@dataclass(frozen=True, slots=True)
class Requester:
    """Who sent a request, as the API server authenticated them."""

    username: str
    uid: str = ""
    groups: tuple[str, ...] = ()
    extra: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def from_user_info(cls, user_info: Any) -> Requester:
        """From an admission request's ``userInfo``; anything malformed is left out, never raised on."""
        info = user_info if isinstance(user_info, Mapping) else {}
        groups = info.get("groups")
        extra = info.get("extra")
        return cls(
            username=str(info.get("username") or ""),
            uid=str(info.get("uid") or ""),
            groups=tuple(str(group) for group in groups) if isinstance(groups, list) else (),
            extra={
                str(key): tuple(str(value) for value in values)
                for key, values in (extra.items() if isinstance(extra, Mapping) else ())
                if isinstance(values, list)
            },
        )


@dataclass(frozen=True, slots=True)
class ResourceAccess:
    """One verb on one resource (a named object, or the collection when ``name`` is ``None``)."""

    verb: str
    group: str
    resource: str
    namespace: str
    name: str | None = None

    def attributes(self) -> Json:
        attributes: Json = {
            "verb": self.verb,
            "group": self.group,
            "resource": self.resource,
            "namespace": self.namespace,
        }
        if self.name is not None:
            attributes["name"] = self.name
        return attributes


@dataclass(frozen=True, slots=True)
class AccessReview:
    """The API server's answer: allowed or not, and the authorizer's reason (often empty)."""

    allowed: bool
    reason: str = ""


def review_body(requester: Requester, access: ResourceAccess) -> Json:
    """The SubjectAccessReview to create for ``requester`` doing ``access``."""
    spec: Json = {"user": requester.username, "resourceAttributes": access.attributes()}
    if requester.uid:
        spec["uid"] = requester.uid
    if requester.groups:
        spec["groups"] = list(requester.groups)
    if requester.extra:
        spec["extra"] = {key: list(values) for key, values in requester.extra.items()}
    return {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview", "spec": spec}


def read_review(answer: Mapping[str, Any]) -> AccessReview:
    """The verdict of a created review: allowed only when it says so and no authorizer denied it."""
    status = answer.get("status")
    if not isinstance(status, Mapping):
        return AccessReview(False, "the API server's answer has no status")
    allowed = status.get("allowed") is True and status.get("denied") is not True
    return AccessReview(allowed, str(status.get("reason") or status.get("evaluationError") or ""))


class SubjectAccessReviews:
    """The authorizer the validating webhook uses: reviews by the API server, ConfigMaps looked up."""

    def __init__(self, client: ClusterClient) -> None:
        self._client = client

    async def review(self, requester: Requester, access: ResourceAccess) -> AccessReview:
        """Raises ``ApiError`` when the API server does not answer the review."""
        return read_review(await self._client.create(REVIEWS, review_body(requester, access)))

    async def config_map_exists(self, namespace: str, name: str) -> bool:
        """Raises ``ApiError`` when the API server does not answer."""
        return await config_map_api(self._client).read(namespace, name) is not None
