"""The workload kinds a FlinkTaskManagerMemory can size: one table, one entry per kind.

Everything that makes a kind a target lives in its entry of ``WorkloadKind``: its API group, version
and plural (the API path, and the RBAC rule the operator needs: ``get`` and ``patch``, nothing else),
the shape of the write (``PatchShape``), where the pod template is and which container is the
TaskManager's when the target names none. The CRD (the ``kind`` enum and its description), the
cluster layer (the API path), the renderer (the pod template, the containers), the admission's
SubjectAccessReviews and the chart's RBAC (checked against ``rbac_rules`` in ``tests/chart``) all read
it, so a new target kind is one entry here (and, for a new shape, its renderer).

``WorkloadKind`` is a string enum (its value is the Kubernetes kind, as the CRD stores it) whose members
carry their ``WorkloadKindSpec``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class PatchShape(StrEnum):
    """How the operator writes a kind of workload."""

    POD_TEMPLATE = "PodTemplate"
    """A strategic merge patch of the TaskManager container's requests and limits in the pod template."""
    FLINK_DEPLOYMENT = "FlinkDeployment"
    """A JSON merge patch of ``spec.taskManager.resource`` and the pinned keys of ``spec.flinkConfiguration``."""


@dataclass(frozen=True, slots=True)
class WorkloadKindSpec:
    """One kind of workload target."""

    kind: str
    group: str
    version: str
    plural: str
    shape: PatchShape
    written: str
    """What the operator sets on it, for the CRD's description."""
    pod_template: tuple[str, ...] = ()
    """The path to the pod template (``PatchShape.POD_TEMPLATE``)."""
    default_containers: tuple[str, ...] = ()
    """Containers tried, in order, when the target names none (then the only container, if just one)."""
    custom: bool = False
    """Served only where its CRD is installed (a missing target may then mean a missing kind)."""

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def api_path(self) -> str:
        """The group-version path the API server serves it under."""
        return f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"

    @property
    def has_containers(self) -> bool:
        """Whether a target of this kind may name its TaskManager container."""
        return self.shape is PatchShape.POD_TEMPLATE


WRITE_VERBS = ("get", "patch")
WATCH_VERBS = ("list", "watch")
"""What the watch of new workloads adds (``--no-workload-watch`` / ``workloadWatch.enabled=false``: none)."""
"""What the operator does to a workload: read it, patch it. Never create, update or delete."""
DEFAULT_CONTAINERS = ("flink-main-container", "taskmanager")
"""Container names tried, in order, when a Deployment or StatefulSet target names none."""


class WorkloadKind(StrEnum):
    """The table: each member is a kind (its value, as the CRD stores it) and its ``WorkloadKindSpec``."""

    spec: WorkloadKindSpec
    _value_: str

    def __new__(cls, spec: WorkloadKindSpec) -> WorkloadKind:
        member = str.__new__(cls, spec.kind)
        member._value_ = spec.kind
        member.spec = spec
        return member

    DEPLOYMENT = WorkloadKindSpec(
        kind="Deployment",
        group="apps",
        version="v1",
        plural="deployments",
        shape=PatchShape.POD_TEMPLATE,
        written="the TaskManager container's resources are set",
        pod_template=("spec", "template"),
        default_containers=DEFAULT_CONTAINERS,
    )
    STATEFUL_SET = WorkloadKindSpec(
        kind="StatefulSet",
        group="apps",
        version="v1",
        plural="statefulsets",
        shape=PatchShape.POD_TEMPLATE,
        written="the TaskManager container's resources are set",
        pod_template=("spec", "template"),
        default_containers=DEFAULT_CONTAINERS,
    )
    FLINK_DEPLOYMENT = WorkloadKindSpec(
        kind="FlinkDeployment",
        group="flink.apache.org",
        version="v1beta1",
        plural="flinkdeployments",
        shape=PatchShape.FLINK_DEPLOYMENT,
        custom=True,
        written="spec.taskManager.resource and spec.flinkConfiguration are set (the Flink Kubernetes Operator)",
    )

    @property
    def api_version(self) -> str:
        return self.spec.api_version


def kinds_description() -> str:
    """Every kind, its API version and what is written to it: the CRD's description of ``kind``."""
    return " ".join(f"{kind.value} ({kind.spec.api_version}): {kind.spec.written}." for kind in WorkloadKind)


def kinds_without_containers() -> list[str]:
    """The kinds whose targets may not name a container."""
    return [kind.value for kind in WorkloadKind if not kind.spec.has_containers]


def rbac_rules(
    kinds: Iterable[WorkloadKind] = WorkloadKind, *, watched: bool = False
) -> list[dict[str, Any]]:
    """The RBAC rules the operator needs for the kinds: one per API group, ``get`` and ``patch``, and
    ``list``/``watch`` when the workloads are ``watched`` (so a new target is sized at once)."""
    verbs = [*WRITE_VERBS, *WATCH_VERBS] if watched else list(WRITE_VERBS)
    by_group: dict[str, list[str]] = {}
    for kind in kinds:
        by_group.setdefault(kind.spec.group, []).append(kind.spec.plural)
    return [
        {"apiGroups": [group], "resources": plurals, "verbs": verbs} for group, plurals in by_group.items()
    ]
