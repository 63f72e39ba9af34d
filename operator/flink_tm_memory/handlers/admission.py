"""The validating webhook for FlinkTaskManagerMemory: the pure verdict, as kopf's admission answer.

``admission_verdict`` (render layer) decides; this handler only translates: its warnings go to kopf's
``warnings`` list (kubectl prints them), a denial becomes ``kopf.AdmissionError`` with the verdict's
message, which kopf puts in ``response.status``. A dry run (``kubectl apply --dry-run=server``) gets
the same verdict and warnings: the handler has no side effects, so it does not look at ``dryrun``.
"""

from __future__ import annotations

from typing import Any

import kopf

from flink_tm_memory.render.admission import admission_verdict
from flink_tm_memory.render.webhook_configurations import VALIDATE_MEMORY_PATH

VALIDATE_ID = VALIDATE_MEMORY_PATH
"""The handler id, and so the webhook's URL path (``/validate-memory``) on kopf's server."""
DENIAL_CODE = 422
"""The API server's own code for an invalid object (``Invalid``), which a bad memory spec is."""


def validate_memory(body: kopf.Body, warnings: list[str], **_: Any) -> None:
    """Admits or denies a created or updated FlinkTaskManagerMemory."""
    verdict = admission_verdict(body)
    warnings.extend(verdict.warnings)
    if not verdict.allowed:
        raise kopf.AdmissionError(verdict.message, code=DENIAL_CODE)
