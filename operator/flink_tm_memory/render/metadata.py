"""Who owns what: the custom resource's identity, the labels and owner references the operator writes.

A ConfigMap the operator creates is owned by its custom resource (an owner reference), so Kubernetes'
garbage collector deletes it with the resource; it carries the operator's ``managed-by`` label, so the
operator can watch its ConfigMaps through a server-side label selector instead of every ConfigMap of
the cluster. The last spec that was applied is kept in an annotation on the custom resource: when a
later spec has conflicts, that is what the ConfigMap and the workloads are kept at (and repaired to),
even after the operator restarts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flink_tm_memory.api.v1alpha1 import API_VERSION, GROUP, KIND

OPERATOR_NAME = "flink-tm-memory-operator"
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MEMORY_LABEL = f"{GROUP}/memory"
"""The name of the custom resource a ConfigMap was written for (when it fits a label value)."""
ANNOTATION_PREFIX = GROUP
"""The operator's annotations, kopf's progress and diff-base storage included, share this prefix."""
LAST_APPLIED_ANNOTATION = f"{ANNOTATION_PREFIX}/last-applied-spec"

_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_LABEL_VALUE_MAX = 63


@dataclass(frozen=True, slots=True)
class MemoryRef:
    """The identity of one FlinkTaskManagerMemory, as events and owner references name it."""

    name: str
    namespace: str
    uid: str
    generation: int

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> MemoryRef:
        metadata = body.get("metadata") or {}
        return cls(
            name=metadata["name"],
            namespace=metadata["namespace"],
            uid=metadata.get("uid") or "",
            generation=int(metadata.get("generation") or 0),
        )

    @property
    def key(self) -> tuple[str, str]:
        return self.namespace, self.name

    def owner_reference(self) -> dict[str, Any]:
        """The resource as the controlling owner of what it generated (garbage-collected with it)."""
        return {
            "apiVersion": API_VERSION,
            "kind": KIND,
            "name": self.name,
            "uid": self.uid,
            "controller": True,
            "blockOwnerDeletion": True,
        }


def config_map_labels(memory_name: str) -> dict[str, str]:
    """The labels of a generated ConfigMap: the operator's, and the resource's name when it is a valid value."""
    labels = {MANAGED_BY_LABEL: OPERATOR_NAME}
    if len(memory_name) <= _LABEL_VALUE_MAX and _LABEL_VALUE.match(memory_name):
        labels[MEMORY_LABEL] = memory_name
    return labels


def managed_label_selector() -> str:
    """The server-side label selector of the operator's ConfigMaps."""
    return f"{MANAGED_BY_LABEL}={OPERATOR_NAME}"


@dataclass(frozen=True, slots=True)
class AppliedSpec:
    """The last spec whose layout was written, and its generation."""

    generation: int
    spec: dict[str, Any]


def render_applied_spec(generation: int, spec: Mapping[str, Any]) -> str:
    """The annotation value recording an applied spec (canonical JSON, so equal specs compare equal)."""
    return json.dumps({"generation": generation, "spec": spec}, sort_keys=True, separators=(",", ":"))


def parse_applied_spec(annotations: Mapping[str, str] | None) -> AppliedSpec | None:
    """The applied spec recorded on a resource; ``None`` when absent or unreadable (someone edited it)."""
    text = (annotations or {}).get(LAST_APPLIED_ANNOTATION)
    if text is None:
        return None
    try:
        record = json.loads(text)
        generation, spec = record["generation"], record["spec"]
    except (ValueError, TypeError, KeyError):
        return None
    if not isinstance(generation, int) or not isinstance(spec, dict):
        return None
    return AppliedSpec(generation, spec)
