"""May the requester write, themselves, what the operator would write for them? (asked at admission)

Whoever creates or changes a FlinkTaskManagerMemory makes the operator write its ConfigMap and patch
its workloads with the operator's own rights. ``target_denials`` closes that confused deputy at the
door: for each target it asks the API server (a SubjectAccessReview through the injected
``Authorizer``) whether the requesting user may do that write themselves:

- the ConfigMap: ``patch`` on it by name when it exists, else ``create`` ConfigMaps in the namespace
  (``create`` cannot be limited to names in RBAC, so none is asked);
- each workload: ``patch`` on it by name (its API group and plural from ``api.workloads``).

Every refusal is one message naming the user, the verb and the object. A spec the schema refuses, or
one with ``updateMode: Off`` (nothing is written), needs no review: the first is denied by the
verdict anyway. A review the API server does not answer is a denial too (the webhook fails closed),
saying so. Reviews run concurrently. The reconciliation keeps its own check (``render.claims``): a
target must also be the resource's (created for it, or opted in).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, Protocol

from pydantic import ValidationError

from flink_tm_memory.api.v1alpha1 import FlinkTaskManagerMemorySpec, UpdateMode
from flink_tm_memory.cluster.access_reviews import AccessReview, Requester, ResourceAccess
from flink_tm_memory.cluster.errors import ApiError
from flink_tm_memory.render.configmap import config_map_name

MESSAGE_LIMIT = 256
"""Characters of an authorizer's reason quoted in a denial."""


class Authorizer(Protocol):
    """What the check needs from the cluster; ``cluster.access_reviews.SubjectAccessReviews`` is it."""

    async def review(self, requester: Requester, access: ResourceAccess) -> AccessReview: ...

    async def config_map_exists(self, namespace: str, name: str) -> bool: ...


async def target_denials(
    authorizer: Authorizer, user_info: Any, namespace: str, name: str, spec: Any
) -> list[str]:
    """One message per write of the spec's targets the requester may not do themselves (none: admitted)."""
    if not isinstance(spec, Mapping):
        return []
    try:
        parsed = FlinkTaskManagerMemorySpec.model_validate(spec)
    except ValidationError:
        return []
    if parsed.update_mode is UpdateMode.OFF:
        return []
    requester = Requester.from_user_info(user_info)
    config_map = config_map_name(parsed, name)
    try:
        exists = await authorizer.config_map_exists(namespace, config_map)
    except ApiError as error:
        return [f"Could not check whether ConfigMap {namespace}/{config_map} exists: {error}"]
    accesses = {
        (
            ResourceAccess("patch", "", "configmaps", namespace, config_map)
            if exists
            else ResourceAccess("create", "", "configmaps", namespace)
        ): f"ConfigMap {namespace}/{config_map}",
    }
    for target in parsed.targets.workloads:
        access = ResourceAccess(
            "patch", target.kind.spec.group, target.kind.spec.plural, namespace, target.name
        )
        accesses[access] = f"{target.kind.value} {namespace}/{target.name}"
    reviews = await asyncio.gather(*(_review(authorizer, requester, access) for access in accesses))
    return [
        message
        for (access, subject), review in zip(accesses.items(), reviews, strict=True)
        if (message := _denial(requester, access, subject, name, review)) is not None
    ]


async def _review(authorizer: Authorizer, requester: Requester, access: ResourceAccess) -> AccessReview | str:
    try:
        return await authorizer.review(requester, access)
    except ApiError as error:
        return str(error)


def _denial(
    requester: Requester, access: ResourceAccess, subject: str, memory: str, review: AccessReview | str
) -> str | None:
    user = requester.username or "the requesting user"
    resource = f"{access.resource}.{access.group}" if access.group else access.resource
    if isinstance(review, str):
        return f"Could not check whether {user} may {access.verb} {subject}: {review[:MESSAGE_LIMIT]}"
    if review.allowed:
        return None
    if access.name is None:
        what = f"{access.verb} {resource} in namespace {access.namespace}"
        object_ = f"which FlinkTaskManagerMemory {memory} would have the operator do to make {subject}"
    else:
        what = f"{access.verb} {subject}"
        object_ = f"which FlinkTaskManagerMemory {memory} would have the operator do on their behalf"
    reason = f" ({review.reason[:MESSAGE_LIMIT]})" if review.reason else ""
    return (
        f"{user} may not {what}{reason}, {object_}: ask for {access.verb} on {resource} "
        f"in namespace {access.namespace}, or target an object you may {access.verb}."
    )
