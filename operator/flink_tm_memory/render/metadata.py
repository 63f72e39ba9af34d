"""Who owns what: the custom resource's identity, the labels and owner references the operator writes.

A ConfigMap the operator creates is owned by its custom resource (an owner reference), so Kubernetes'
garbage collector deletes it with the resource; it carries the operator's ``managed-by`` label, so the
operator can watch its ConfigMaps through a server-side label selector instead of every ConfigMap of
the cluster. The last spec that was applied is kept in an annotation on the custom resource: when a
later spec has conflicts, that is what the ConfigMap and the workloads are kept at (and repaired to),
even after the operator restarts.

That record is bounded: a spec is at most ``SPEC_SIZE_LIMIT`` bytes as JSON (``render.plan``), and a
record longer than ``PLAIN_RECORD_LIMIT`` characters is stored compressed (zlib, base64, after the
``COMPRESSED_PREFIX``), usually a fraction of the spec. Reading it back is bounded too: a record that
would inflate past ``MAX_RECORD_BYTES`` (someone edited it) is unreadable, not a memory bomb.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import zlib
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

PLAIN_RECORD_LIMIT = 4096
"""Records up to this many characters stay plain JSON (readable with kubectl); longer ones are compressed."""
COMPRESSED_PREFIX = "zlib+base64:"
MAX_RECORD_BYTES = 256 * 1024
"""The most a record may inflate to: more than any spec the operator applies (64 KiB as JSON)."""

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
    """The annotation value recording an applied spec (canonical JSON, so equal specs compare equal).

    Compressed when longer than ``PLAIN_RECORD_LIMIT`` (zlib's output is deterministic, so equal specs
    still give equal records).
    """
    text = json.dumps({"generation": generation, "spec": spec}, sort_keys=True, separators=(",", ":"))
    if len(text) <= PLAIN_RECORD_LIMIT:
        return text
    packed = base64.b64encode(zlib.compress(text.encode(), 9)).decode("ascii")
    return f"{COMPRESSED_PREFIX}{packed}" if len(packed) + len(COMPRESSED_PREFIX) < len(text) else text


def parse_applied_spec(annotations: Mapping[str, str] | None) -> AppliedSpec | None:
    """The applied spec recorded on a resource; ``None`` when absent or unreadable (someone edited it)."""
    text = (annotations or {}).get(LAST_APPLIED_ANNOTATION)
    if text is None:
        return None
    if text.startswith(COMPRESSED_PREFIX):
        inflated = _inflate(text[len(COMPRESSED_PREFIX) :])
        if inflated is None:
            return None
        text = inflated
    try:
        record = json.loads(text)
        generation, spec = record["generation"], record["spec"]
    except (ValueError, TypeError, KeyError):
        return None
    if not isinstance(generation, int) or not isinstance(spec, dict):
        return None
    return AppliedSpec(generation, spec)


def _inflate(packed: str) -> str | None:
    """A compressed record's JSON text; ``None`` when it is damaged or inflates past ``MAX_RECORD_BYTES``."""
    try:
        inflater = zlib.decompressobj()
        raw = inflater.decompress(base64.b64decode(packed, validate=True), MAX_RECORD_BYTES)
        if inflater.unconsumed_tail or not inflater.eof:
            return None
        return raw.decode()
    except (binascii.Error, zlib.error, UnicodeDecodeError, ValueError):
        return None


ANNOTATIONS_LIMIT = 256 * 1024
"""Bytes the API server allows for all of an object's annotations (keys and values)."""
KUBECTL_LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def render_not_recorded(
    spec: Mapping[str, Any], annotations: Mapping[str, str], record_size: int, error: str
) -> str:
    """Why a valid spec was not recorded (and so not written), naming what takes the room."""
    others = {
        key: len(key) + len(str(value))
        for key, value in annotations.items()
        if key != LAST_APPLIED_ANNOTATION
    }
    total = sum(others.values()) + len(LAST_APPLIED_ANNOTATION) + record_size
    message = (
        f"metadata.annotations[{LAST_APPLIED_ANNOTATION}]: the applied spec could not be recorded "
        f"({record_size} bytes; the annotations would hold {total} bytes, the API server allows "
        f"{ANNOTATIONS_LIMIT}): {error[:512]}. Nothing is written until it can be."
    )
    if others:
        largest = max(others, key=others.__getitem__)
        message += f" The largest annotation is {largest[:253]} ({others[largest]} bytes)"
        if largest == KUBECTL_LAST_APPLIED:
            message += " (kubectl apply's copy of the resource: kubectl apply --server-side keeps none)"
        message += "."
    sizes = {
        str(name): len(json.dumps(value, separators=(",", ":"), default=str)) for name, value in spec.items()
    }
    if sizes:
        name = max(sizes, key=sizes.__getitem__)
        message += f" The largest field of the spec is spec.{name[:253]} ({sizes[name]} bytes as JSON)."
    return message
