"""kopf's diff base as digests: what kopf records on each resource stays a few hundred bytes.

kopf keeps the last handled "essence" of every resource (its spec, labels and annotations) to tell a
real change from its own writes, by default as a full copy in an annotation. With the spec already
copied by the operator (the last applied spec) and by ``kubectl apply``
(``kubectl.kubernetes.io/last-applied-configuration``), a large spec pushed the resource's
annotations past the 256 KiB the API server allows: kopf's patch was refused, and the status, which
kopf patches after its annotations, was never written.

The operator needs nothing of that copy but change detection: its handlers read the body, never
kopf's ``old``/``diff``. So ``DigestDiffBaseStorage`` stores one SHA-256 per top-level field of the
essence (``spec``, ``metadata.labels``, ``metadata.annotations``) and, when kopf fetches the base,
rebuilds it from the current body: a field whose digest matches is the current value (no change),
one that does not is a placeholder holding the old digest, which kopf's diff sees as changed. kopf's
decisions (created, changed and in which field, unchanged) are the same as with the full copy;
only ``old`` and ``diff`` lose the old values. A full essence written by an earlier version is read
as it is. Only kopf's public storage API is used (``fetch``, ``store`` and ``build``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any, cast

import kopf

DIGESTS_KEY = "sha256"
"""The stored document's one key (never a field of this CRD's essence): field path → digest."""


class DigestDiffBaseStorage(kopf.AnnotationsDiffBaseStorage):
    """kopf's annotation diff-base storage, holding digests of the essence's fields instead of a copy."""

    def store(self, *, body: kopf.Body, patch: kopf.Patch, essence: kopf.BodyEssence) -> None:
        digests = {DIGESTS_KEY: essence_digests(cast(Mapping[str, Any], essence))}
        super().store(body=body, patch=patch, essence=cast(kopf.BodyEssence, digests))

    def fetch(self, *, body: kopf.Body) -> kopf.BodyEssence | None:
        stored = super().fetch(body=body)
        if stored is None:
            return None
        digests = cast(Mapping[str, Any], stored).get(DIGESTS_KEY)
        if not isinstance(digests, Mapping) or len(stored) != 1:
            return stored  # a full essence, stored by an earlier version: still a valid base
        current = cast(Mapping[str, Any], self.build(body=body))
        return cast(kopf.BodyEssence, rebuild_essence(current, digests))


def essence_digests(essence: Mapping[str, Any]) -> dict[str, str]:
    """One digest per top-level field of an essence, and per field of its ``metadata``."""
    return {path: digest(value) for path, value in _fields(essence).items()}


def rebuild_essence(current: Mapping[str, Any], digests: Mapping[str, Any]) -> dict[str, Any]:
    """The essence as it was: each field the current value if its digest matches, else a placeholder."""
    fields = _fields(current)
    rebuilt: dict[str, Any] = {}
    for path, stored in digests.items():
        value = fields.get(str(path))
        kept = value if value is not None and digest(value) == stored else {DIGESTS_KEY: stored}
        top, _, sub = str(path).partition(".")
        if sub:
            rebuilt.setdefault(top, {})[sub] = kept
        else:
            rebuilt[top] = kept
    return rebuilt


def digest(value: Any) -> str:
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _fields(essence: Mapping[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for name, value in essence.items():
        if name == "metadata" and isinstance(value, Mapping):
            fields.update({f"metadata.{key}": item for key, item in value.items()})
        else:
            fields[str(name)] = value
    return fields
