"""The validating webhook for FlinkTaskManagerMemory: its steps, composed, as admission answers.

``validate_memory`` translates the pure verdict of ``render.admission.admission_verdict`` into an
answer: its warnings (kubectl prints them), and a denial with the verdict's message and code 422, the
API server's own code for an invalid object (``Invalid``), which a bad memory spec is. A dry run
(``kubectl apply --dry-run=server``) gets the same verdict and warnings: the step has no side effects,
so it does not look at ``dryRun``. Only CREATE and UPDATE are judged (what the configuration sends);
the object judged is the new one, ``request.object``.

``validating_steps`` is the webhook: the verdict, then the steps given as ``after``, in order on the
whole request (``userInfo`` included); the first denial answers. ``authorization_step`` is the one the
operator adds: may the requesting user make, themselves, each write the operator would make for the
resource (``control.authorization``: SubjectAccessReviews)? A refusal is a 403 naming each object and
verb. It is skipped on an UPDATE that leaves the spec as it was (the operator's own annotation
writes, a label change: nothing new would be written), and after a denial by the verdict.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flink_tm_memory.control.authorization import Authorizer, target_denials
from flink_tm_memory.render.admission import admission_verdict
from flink_tm_memory.render.webhook_configurations import VALIDATE_MEMORY_PATH
from flink_tm_memory.runtime.admission.review import AdmissionAnswer, AdmissionStep, chain

VALIDATE_ID = VALIDATE_MEMORY_PATH
"""The webhook's URL path (``/validate-memory``) on the admission server, and its label in the metrics."""
DENIAL_CODE = 422
"""The API server's own code for an invalid object (``Invalid``), which a bad memory spec is."""
FORBIDDEN_CODE = 403
"""The API server's code for a request its user is not allowed to make: the targets' writes."""
JUDGED_OPERATIONS = frozenset({"CREATE", "UPDATE"})


async def validate_memory(request: dict[str, Any]) -> AdmissionAnswer:
    """Admits or denies a created or updated FlinkTaskManagerMemory."""
    if request.get("operation", "CREATE") not in JUDGED_OPERATIONS:
        return AdmissionAnswer(allowed=True)
    obj = request.get("object")
    if not isinstance(obj, Mapping):
        return AdmissionAnswer(False, "request.object: the FlinkTaskManagerMemory is missing", DENIAL_CODE)
    verdict = admission_verdict(obj)
    if not verdict.allowed:
        return AdmissionAnswer(False, verdict.message, DENIAL_CODE, tuple(verdict.warnings))
    return AdmissionAnswer(True, warnings=tuple(verdict.warnings))


def validating_steps(after: Sequence[AdmissionStep] = ()) -> AdmissionStep:
    """The validating webhook: the verdict, then ``after`` (e.g. ``authorization_step``)."""
    return chain(validate_memory, *after)


def authorization_step(authorizer: Authorizer) -> AdmissionStep:
    """The requester's own rights on every write the resource would have the operator make."""

    async def authorize(request: dict[str, Any]) -> AdmissionAnswer:
        if request.get("operation", "CREATE") not in JUDGED_OPERATIONS:
            return AdmissionAnswer(allowed=True)
        obj, old = request.get("object"), request.get("oldObject")
        if not isinstance(obj, Mapping):
            return AdmissionAnswer(allowed=True)  # the verdict has denied it already
        if (
            request.get("operation") == "UPDATE"
            and isinstance(old, Mapping)
            and old.get("spec") == obj.get("spec")
        ):
            return AdmissionAnswer(allowed=True)
        metadata = obj.get("metadata") or {}
        denials = await target_denials(
            authorizer,
            request.get("userInfo") or {},
            str(request.get("namespace") or metadata.get("namespace") or ""),
            str(metadata.get("name") or request.get("name") or ""),
            obj.get("spec"),
        )
        if denials:
            return AdmissionAnswer(False, "\n".join(denials), FORBIDDEN_CODE)
        return AdmissionAnswer(allowed=True)

    return authorize
