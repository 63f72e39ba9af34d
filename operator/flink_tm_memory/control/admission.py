"""The validating webhook for FlinkTaskManagerMemory: its steps, composed, as admission answers.

``validate_memory`` translates the pure verdict of ``render.admission.admission_verdict`` into an
answer: its warnings (kubectl prints them), and a denial with the verdict's message and code 422, the
API server's own code for an invalid object (``Invalid``), which a bad memory spec is. A dry run
(``kubectl apply --dry-run=server``) gets the same verdict and warnings: the step has no side effects,
so it does not look at ``dryRun``. Only CREATE and UPDATE are judged (what the configuration sends);
the object judged is the new one, ``request.object``.

``validating_steps`` is the webhook: the steps run in order on the whole request (``userInfo``
included), the first denial answers. An authorisation step (may the requesting user write the
targets the resource names?) goes before the verdict: pass it as ``before``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flink_tm_memory.render.admission import admission_verdict
from flink_tm_memory.render.webhook_configurations import VALIDATE_MEMORY_PATH
from flink_tm_memory.runtime.admission.review import AdmissionAnswer, AdmissionStep, chain

VALIDATE_ID = VALIDATE_MEMORY_PATH
"""The webhook's URL path (``/validate-memory``) on the admission server, and its label in the metrics."""
DENIAL_CODE = 422
"""The API server's own code for an invalid object (``Invalid``), which a bad memory spec is."""
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


def validating_steps(before: Sequence[AdmissionStep] = ()) -> AdmissionStep:
    """The validating webhook: ``before`` (e.g. an authorisation check), then the verdict."""
    return chain(*before, validate_memory)
