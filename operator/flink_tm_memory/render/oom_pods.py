"""What a pod says about OOM kills: its OOMKilled containers, whose pod it is, and what it ran with.

Pure reading of a pod as the API server returns it (or a watch event carries it); nothing here
trusts the shape: a pod status written by a buggy kubelet, an emulator or a hostile test is read as
far as it makes sense and the rest ignored, never raising.

- **Terminations.** A container the kernel killed for memory has ``terminated.reason: OOMKilled`` in
  ``state`` (it has not been restarted: ``restartPolicy: Never``, or the kubelet has not restarted it
  yet) or in ``lastState`` (restarted since). One incident is seen in both places over its life
  (first ``state``, then ``lastState`` with ``restartCount`` one higher), so an incident's identity is
  the terminated container's ``containerID``, else its ``finishedAt``, else the restart count.
- **Owners.** Which workload a pod belongs to, from its metadata alone (no read of the workload): a
  Deployment's pod is owned by the ReplicaSet ``<deployment>-<pod-template-hash>``; a StatefulSet's
  by the StatefulSet; a FlinkDeployment's TaskManagers (Flink's native Kubernetes integration) carry
  ``app: <name>``, ``component: taskmanager`` and ``type: flink-native-kubernetes``; a pod sized by
  the mutating webhook carries ``flinkmemory.io/profile: <resource>``.
- **What it ran with.** The container's memory limit and request, its ``FLINK_PROPERTIES`` (the
  webhook's) and its ``-D key=value`` arguments (Flink's native integration), to compare with the
  layout the operator derived.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flink_tm_memory.api.workloads import WorkloadKind
from flink_tm_memory.render.pod_mutation import FLINK_PROPERTIES, PROFILE_LABEL

OOM_KILLED = "OOMKilled"
TEMPLATE_HASH_LABEL = "pod-template-hash"
FLINK_NATIVE_LABELS = {"component": "taskmanager", "type": "flink-native-kubernetes"}
_TEXT_LIMIT = 16384


@dataclass(frozen=True, slots=True)
class Termination:
    """One OOMKilled termination of one container."""

    container: str
    restart_count: int
    finished_at: datetime | None
    container_id: str | None

    def identity(self) -> tuple[str, str]:
        """What tells this incident from another of the same container in the same pod."""
        if self.container_id:
            return self.container, f"id:{self.container_id}"
        if self.finished_at is not None:
            return self.container, f"at:{self.finished_at.isoformat()}"
        return self.container, f"restart:{self.restart_count}"


@dataclass(frozen=True, slots=True)
class PodOwner:
    """Whose pod it is: the resource its profile label names, and the workloads that may target it."""

    profile: str | None
    workloads: tuple[tuple[WorkloadKind, str], ...]


@dataclass(frozen=True, slots=True)
class ContainerFacts:
    """What one container ran with, as its pod spec says."""

    limit: str | None
    request: str | None
    flink_properties: str | None
    arguments: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class OomSighting:
    """An OOM-killed container of a pod, with what is needed to attribute it (no pod body kept)."""

    namespace: str
    pod: str
    uid: str
    termination: Termination
    facts: ContainerFacts
    container_names: tuple[str, ...]

    def key(self) -> tuple[str, str, str, str]:
        return (self.namespace, self.uid, *self.termination.identity())


def oom_terminations(pod: Mapping[str, Any]) -> list[Termination]:
    """Every OOMKilled termination the pod's container statuses show (init containers excluded)."""
    statuses = _mapping(pod.get("status")).get("containerStatuses")
    found: list[Termination] = []
    for status in statuses if isinstance(statuses, list) else []:
        if not isinstance(status, Mapping):
            continue
        name = status.get("name")
        if not isinstance(name, str) or not name:
            continue
        restarts = status.get("restartCount")
        restart_count = restarts if isinstance(restarts, int) and restarts >= 0 else 0
        for place in ("lastState", "state"):
            terminated = _mapping(_mapping(status.get(place)).get("terminated"))
            if terminated.get("reason") != OOM_KILLED:
                continue
            termination = Termination(
                container=name,
                restart_count=restart_count,
                finished_at=parse_time(terminated.get("finishedAt")),
                container_id=_text(terminated.get("containerID")),
            )
            if all(termination.identity() != seen.identity() for seen in found):
                found.append(termination)
    return found


def pod_owner(pod: Mapping[str, Any]) -> PodOwner:
    """The resource named by the pod's profile label, and the workloads it belongs to."""
    metadata = _mapping(pod.get("metadata"))
    labels = _mapping(metadata.get("labels"))
    profile = _text(labels.get(PROFILE_LABEL))
    workloads: list[tuple[WorkloadKind, str]] = []
    references = metadata.get("ownerReferences")
    for reference in references if isinstance(references, list) else []:
        if not isinstance(reference, Mapping):
            continue
        kind, name = reference.get("kind"), _text(reference.get("name"))
        if name is None:
            continue
        if kind == "ReplicaSet":
            template_hash = _text(labels.get(TEMPLATE_HASH_LABEL))
            suffix = f"-{template_hash}" if template_hash else None
            if suffix and name.endswith(suffix) and len(name) > len(suffix):
                workloads.append((WorkloadKind.DEPLOYMENT, name[: -len(suffix)]))
        elif kind == "StatefulSet":
            workloads.append((WorkloadKind.STATEFUL_SET, name))
    app = _text(labels.get("app"))
    if app is not None and all(labels.get(key) == value for key, value in FLINK_NATIVE_LABELS.items()):
        workloads.append((WorkloadKind.FLINK_DEPLOYMENT, app))
    return PodOwner(profile, tuple(dict.fromkeys(workloads)))


def container_names(pod: Mapping[str, Any]) -> tuple[str, ...]:
    """The names of the pod's (regular) containers, in order."""
    return tuple(
        name for container in _containers(pod) if isinstance(name := container.get("name"), str) and name
    )


def container_facts(pod: Mapping[str, Any], name: str) -> ContainerFacts:
    """The memory limit and request, ``FLINK_PROPERTIES`` and arguments of container ``name``."""
    container = next((c for c in _containers(pod) if c.get("name") == name), {})
    resources = _mapping(container.get("resources"))
    properties = None
    env = container.get("env")
    for variable in env if isinstance(env, list) else []:
        if isinstance(variable, Mapping) and variable.get("name") == FLINK_PROPERTIES:
            value = variable.get("value")
            properties = value[:_TEXT_LIMIT] if isinstance(value, str) and value else None
    arguments = []
    for field in ("command", "args"):
        items = container.get(field)
        arguments += (
            [item[:_TEXT_LIMIT] for item in items if isinstance(item, str)] if isinstance(items, list) else []
        )
    return ContainerFacts(
        limit=_quantity_text(_mapping(resources.get("limits")).get("memory")),
        request=_quantity_text(_mapping(resources.get("requests")).get("memory")),
        flink_properties=properties,
        arguments=tuple(arguments[:256]),
    )


def oom_sightings(pod: Mapping[str, Any]) -> list[OomSighting]:
    """Every OOMKilled container of a pod, with what it ran with; empty for anything unreadable."""
    terminations = oom_terminations(pod)
    if not terminations:
        return []
    metadata = _mapping(pod.get("metadata"))
    namespace, name, uid = (_text(metadata.get(key)) for key in ("namespace", "name", "uid"))
    if namespace is None or name is None or uid is None:
        return []
    names = container_names(pod)
    return [
        OomSighting(namespace, name, uid, termination, container_facts(pod, termination.container), names)
        for termination in terminations
    ]


def parse_time(value: Any) -> datetime | None:
    """An RFC 3339 time as Kubernetes writes it (``2026-12-07T19:52:18Z``), in UTC; None if it is not one."""
    if not isinstance(value, str) or not 0 < len(value) <= 64:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return moment.astimezone(UTC) if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _containers(pod: Mapping[str, Any]) -> Sequence[Mapping[str, Any]]:
    containers = _mapping(pod.get("spec")).get("containers")
    return [c for c in containers if isinstance(c, Mapping)] if isinstance(containers, list) else []


def _quantity_text(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    return _text(value)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and 0 < len(value) <= 253 * 4 else None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
