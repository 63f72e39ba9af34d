"""The validating webhook for FlinkTaskManagerMemory: the pure verdict, then the requester's own rights.

``admission_verdict`` (render layer) decides on the spec; this handler translates: its warnings go to
kopf's ``warnings`` list (kubectl prints them), a denial becomes ``kopf.AdmissionError`` with the
verdict's message (422, ``Invalid``), which kopf puts in ``response.status``. An admitted spec is then
checked against the requesting user's own rights (``control.authorization``: SubjectAccessReviews of
each write the operator would make for them); a refusal is a 403 naming each object and verb. That
check is skipped on an UPDATE that leaves the spec as it was (the operator's own annotation writes,
a label change: nothing new would be written). A dry run (``kubectl apply --dry-run=server``) gets the
same answers: neither check has side effects, so the handler does not look at ``dryrun``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import kopf

from flink_tm_memory.control.authorization import Authorizer, target_denials
from flink_tm_memory.render.admission import admission_verdict
from flink_tm_memory.render.webhook_configurations import VALIDATE_MEMORY_PATH

VALIDATE_ID = VALIDATE_MEMORY_PATH
"""The handler id, and so the webhook's URL path (``/validate-memory``) on kopf's server."""
DENIAL_CODE = 422
"""The API server's own code for an invalid object (``Invalid``), which a bad memory spec is."""
FORBIDDEN_CODE = 403
"""The API server's code for a request its user is not allowed to make: the targets' writes."""


def memory_validator(authorizer: Authorizer) -> Callable[..., Awaitable[None]]:
    """The validating handler, asking ``authorizer`` about the requester's rights on the targets."""

    async def validate_memory(
        body: kopf.Body,
        old: kopf.Body | None,
        warnings: list[str],
        userinfo: kopf.UserInfo,
        operation: str | None,
        **_: Any,
    ) -> None:
        """Admits or denies a created or updated FlinkTaskManagerMemory."""
        verdict = admission_verdict(body)
        warnings.extend(verdict.warnings)
        if not verdict.allowed:
            raise kopf.AdmissionError(verdict.message, code=DENIAL_CODE)
        if operation == "UPDATE" and old is not None and old.get("spec") == body.get("spec"):
            return
        metadata = body.get("metadata") or {}
        denials = await target_denials(
            authorizer,
            userinfo,
            str(metadata.get("namespace") or ""),
            str(metadata.get("name") or ""),
            body.get("spec"),
        )
        if denials:
            raise kopf.AdmissionError("\n".join(denials), code=FORBIDDEN_CODE)

    return validate_memory
