"""Whose object a write would touch: a resource writes only what is its own or what opts in to it.

Whoever may create a FlinkTaskManagerMemory must not gain, through the operator, a write right on
objects of the namespace they do not hold (the confused deputy). So before any write the object as
read is checked:

- absent: the ConfigMap is created (owned by the resource); a workload is never created;
- controlled by a FlinkTaskManagerMemory (the owner reference the operator puts on the ConfigMaps it
  creates): written only for that resource (same uid), refused (``ClaimedByAnother``) for any other;
- anything else (made by someone else): written only if it opts in with the annotation
  ``flinkmemory.io/memory: <name of the FlinkTaskManagerMemory>``, refused otherwise (``NotOptedIn``,
  or ``ClaimedByAnother`` when it names another resource).

The claim is the object's own metadata, so it survives operator restarts and shows on the object.
Since a name is unique in a namespace, at most one resource may write an object: two resources aimed
at the same object cannot take turns at it. A ConfigMap whose owning resource was deleted is removed
by the garbage collector and is free again; an opt-in naming a deleted resource lets only a new
resource of that name write it, which is for the object's owner to change.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flink_tm_memory.api.v1alpha1 import GROUP, KIND
from flink_tm_memory.render.metadata import MemoryRef
from flink_tm_memory.render.writes import Denied

OPT_IN_ANNOTATION = f"{GROUP}/memory"
"""Set on a ConfigMap or workload the operator did not create, naming the one resource that may write it."""
NOT_OPTED_IN = "NotOptedIn"
CLAIMED_BY_ANOTHER = "ClaimedByAnother"


def claim_denial(current: Mapping[str, Any] | None, memory: MemoryRef, kind: str) -> Denied | None:
    """Why ``memory`` may not write ``current`` (a ``kind``), or ``None`` when it may (or it is absent)."""
    if current is None:
        return None
    metadata = current.get("metadata") or {}
    name = metadata.get("name") or "?"
    owner = controlling_memory(metadata)
    if owner is not None:
        owner_name, owner_uid = owner
        if owner_uid == memory.uid:
            return None
        return Denied(
            CLAIMED_BY_ANOTHER,
            f"{kind} {name} belongs to FlinkTaskManagerMemory {owner_name} (its controlling owner "
            f"reference, uid {owner_uid}): only that resource writes it. Name another {kind} in "
            f"FlinkTaskManagerMemory {memory.name}.",
        )
    annotations = metadata.get("annotations") or {}
    opted_in = annotations.get(OPT_IN_ANNOTATION) if isinstance(annotations, Mapping) else None
    if opted_in == memory.name:
        return None
    if opted_in is None:
        return Denied(
            NOT_OPTED_IN,
            f"{kind} {name} was not created by the operator and does not opt in to be written: add the "
            f"annotation {OPT_IN_ANNOTATION}={memory.name} to it (kubectl annotate {kind.lower()} {name} "
            f"{OPT_IN_ANNOTATION}={memory.name} -n {memory.namespace}) to let FlinkTaskManagerMemory "
            f"{memory.name} write it.",
        )
    return Denied(
        CLAIMED_BY_ANOTHER,
        f"{kind} {name} opts in for FlinkTaskManagerMemory {str(opted_in)[:253]} (annotation "
        f"{OPT_IN_ANNOTATION}), not {memory.name}: only that resource writes it.",
    )


def controlling_memory(metadata: Mapping[str, Any]) -> tuple[str, str] | None:
    """The name and uid of the FlinkTaskManagerMemory that controls an object, if one does."""
    references = metadata.get("ownerReferences") or []
    for reference in references if isinstance(references, list) else []:
        if not isinstance(reference, Mapping) or not reference.get("controller"):
            continue
        api_version = str(reference.get("apiVersion") or "")
        if reference.get("kind") == KIND and api_version.split("/", 1)[0] == GROUP:
            return str(reference.get("name") or "?"), str(reference.get("uid") or "")
    return None
