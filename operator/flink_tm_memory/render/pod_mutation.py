"""The mutating webhook's decision for one Pod CREATE: an RFC 6902 JSONPatch, or why the pod is left alone.

A pod opts in with the ``flinkmemory.io/profile`` label naming a FlinkTaskManagerMemory in its
namespace. For such a pod, with a valid custom resource, the TaskManager container (the one a target
of the resource names, else ``flink-main-container``, else ``taskmanager``, else the only container,
as for workloads) gets:

- its memory and CPU requests and limits, exactly as the operator writes them on workloads (memory to
  the byte, never rounded down; limits from the limit factors); other resources (GPUs, ephemeral
  storage) stay;
- every option Flink pins for the derived layout, in the ``FLINK_PROPERTIES`` environment variable.

Why ``FLINK_PROPERTIES``: it is the knob of Flink's official docker image. Its ``docker-entrypoint.sh``
appends each ``key: value`` line to the configuration before starting the TaskManager (from 1.19 it
sets each key in ``config.yaml``; before, it appends the text to ``flink-conf.yaml``, whose last
occurrence of a key wins). ``taskmanager.sh`` then derives the JVM flags from that configuration, and
with every component pinned Flink derives exactly the layout the operator derived. The alternatives
are worse for a webhook that must not break pods: ``-D`` arguments depend on the pod's command (a
pod with its own ``command`` never reaches the entrypoint's argument handling), and mounting the
operator's ConfigMap over ``conf/`` would replace the user's whole configuration directory (logging
included) and add volumes to a pod the user wrote. Lines the user already had in ``FLINK_PROPERTIES``
stay, in their order; a line setting a pinned key is dropped and the pinned value appended, so ours
win and a second pass gives the same text. Only pinned values are written: they hold no whitespace,
which the 1.19+ entrypoint strips from every line.

An annotation, ``flinkmemory.io/mutated``, records what was set and from which generation of the
resource, as VPA's ``vpaUpdates`` does. A pod whose resource is missing, invalid, in ``updateMode:
Off``, whose TaskManager container cannot be told, or whose ``FLINK_PROPERTIES`` comes from a
``valueFrom`` (its text cannot be merged here) is admitted unchanged with a warning saying why: a
webhook must not block pod creation, and a half-applied layout (resources without the options, or
the reverse) is worse than none. A pod that did not opt in gets no patch and no warning. A pod that
already holds everything (a reinvocation) gets no patch, so its first annotation stays.

Pods created by Flink's native Kubernetes integration receive the layout from their JobManager as
``-D`` arguments, which win over the configuration file; those are sized through a FlinkDeployment
target instead, not by this webhook.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flink_tm_memory.api.v1alpha1 import FlinkTaskManagerMemorySpec, PodResources, UpdateMode
from flink_tm_memory.render.plan import MemoryPlan, derive_memory_plan
from flink_tm_memory.render.pod_resources import container_resources, render_pod_resources, same_quantity
from flink_tm_memory.render.recommendation import effective_raw_spec
from flink_tm_memory.render.workloads import select_container
from flink_tm_memory.render.writes import Refused

PROFILE_LABEL = "flinkmemory.io/profile"
MUTATED_ANNOTATION = "flinkmemory.io/mutated"
FLINK_PROPERTIES = "FLINK_PROPERTIES"

Operation = dict[str, Any]


@dataclass(frozen=True, slots=True)
class PodMutation:
    """The JSONPatch for a pod (empty when nothing changes) and the warnings saying why nothing did."""

    patch: list[Operation]
    warnings: list[str]

    @property
    def changed(self) -> bool:
        return bool(self.patch)


def pod_mutation(pod: Mapping[str, Any], resource: Mapping[str, Any] | None) -> PodMutation:
    """What to change in ``pod`` (an AdmissionReview CREATE's object) for the ``resource`` its label names.

    ``resource`` is the FlinkTaskManagerMemory named by the pod's ``flinkmemory.io/profile`` label in
    the pod's namespace, as the API server stores it, or None when there is none.
    """
    metadata = _mapping(pod.get("metadata"))
    profile = _mapping(metadata.get("labels")).get(PROFILE_LABEL)
    if not profile:
        return PodMutation([], [])
    subject = f"FlinkTaskManagerMemory {profile}"
    if resource is None:
        namespace = metadata.get("namespace") or "the pod's namespace"
        return _unchanged(f"{subject} (label {PROFILE_LABEL}) does not exist in {namespace}.")
    # Initial and Auto: new pods get the recommendation the operator applied (status.autoUpdates).
    plan = derive_memory_plan(
        effective_raw_spec(_mapping(resource.get("spec")), _mapping(resource.get("status")))
    )
    if plan.update_mode is UpdateMode.OFF:
        return _unchanged(f"{subject} has updateMode Off: it recommends a layout but does not apply it.")
    if plan.layout is None or plan.resolved is None:
        return _unchanged(f"{subject} is invalid: {_first_conflict(plan)}")
    containers = [_mapping(entry) for entry in _sequence(_mapping(pod.get("spec")).get("containers"))]
    names = [str(entry.get("name", "")) for entry in containers]
    chosen = _task_manager_container(names, plan.spec)
    if isinstance(chosen, Refused):
        return _unchanged(f"{subject}: {chosen.message.replace('pod template', 'pod')}")
    index = names.index(chosen)  # the names as read: a container without one is "", not None
    container = containers[index]
    base = pointer("spec", "containers", index)
    pinned = plan.layout.pinned_options()
    env_patch = _env_patch(base, container.get("env"), pinned)
    if isinstance(env_patch, str):
        return _unchanged(f"{subject}: container {chosen}: {env_patch}")
    resolved = plan.resolved
    resources = render_pod_resources(plan.layout, resolved.memory_limit_factor, resolved.cpu_limit_factor)
    patch = [*_resources_patch(base, container.get("resources"), container_resources(resources)), *env_patch]
    if patch:
        note = _audit(resource, chosen, resources, len(pinned))
        patch.append(_annotation_operation(metadata, MUTATED_ANNOTATION, note))
    return PodMutation(patch, [])


def pointer(*parts: str | int) -> str:
    """An RFC 6901 JSON pointer: ``~`` is ``~0`` and ``/`` is ``~1`` inside each part."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


def merge_flink_properties(current: str, pinned: Mapping[str, str]) -> str:
    """The user's ``FLINK_PROPERTIES`` lines without those setting a pinned key, then one line per pin."""
    kept = [line for line in current.splitlines() if _property_key(line) not in pinned and line.strip()]
    return "\n".join([*kept, *(f"{key}: {value}" for key, value in pinned.items())])


def _unchanged(warning: str) -> PodMutation:
    return PodMutation([], [f"{warning} The pod is admitted unchanged."])


def _first_conflict(plan: MemoryPlan) -> str:
    conflict = next((entry for entry in plan.conflicts if entry.primary), None) or (
        plan.conflicts[0] if plan.conflicts else None
    )
    if conflict is None:
        return "Flink could not derive a layout."
    return f"{conflict.reason}: {conflict.message}"


def _task_manager_container(names: Sequence[str], spec: FlinkTaskManagerMemorySpec | None) -> str | Refused:
    # A pod does not say which target's workload made it, so the first container a target names wins.
    named = (
        [
            target.container
            for target in spec.targets.workloads
            if target.kind.spec.has_containers and target.container is not None
        ]
        if spec is not None
        else []
    )
    for name in named:
        if name in names:
            return name
    return select_container(names, None)


def _resources_patch(base: str, current: Any, wanted: Mapping[str, Mapping[str, str]]) -> list[Operation]:
    if not isinstance(current, Mapping):
        return [
            _add(base + pointer("resources"), {section: dict(amounts) for section, amounts in wanted.items()})
        ]
    patch: list[Operation] = []
    for section, amounts in wanted.items():
        present = current.get(section)
        path = base + pointer("resources", section)
        if not isinstance(present, Mapping):
            patch.append(_add(path, dict(amounts)))
            continue
        for name, value in amounts.items():
            if not same_quantity(present.get(name), value):
                patch.append(_set(path + pointer(name), value, name in present))
    return patch


def _env_patch(base: str, current: Any, pinned: Mapping[str, str]) -> list[Operation] | str:
    """The operations setting ``FLINK_PROPERTIES``, or why it cannot be set."""
    if not isinstance(current, list):
        return [_add(base + pointer("env"), [_env_entry(merge_flink_properties("", pinned))])]
    # Kubernetes lets a name repeat; the kubelet keeps the last one, so that is the one to merge into.
    index = next(
        (
            position
            for position in reversed(range(len(current)))
            if _mapping(current[position]).get("name") == FLINK_PROPERTIES
        ),
        None,
    )
    if index is None:
        return [_add(base + pointer("env", "-"), _env_entry(merge_flink_properties("", pinned)))]
    entry = _mapping(current[index])
    if entry.get("valueFrom") is not None:
        return (
            f"{FLINK_PROPERTIES} is set from valueFrom, whose text cannot be merged with the pinned options."
        )
    existing = entry.get("value")
    merged = merge_flink_properties(existing if isinstance(existing, str) else "", pinned)
    if merged == existing:
        return []
    return [_set(base + pointer("env", index, "value"), merged, "value" in entry)]


def _env_entry(value: str) -> dict[str, str]:
    return {"name": FLINK_PROPERTIES, "value": value}


def _audit(resource: Mapping[str, Any], container: str, resources: PodResources, pinned: int) -> str:
    metadata = _mapping(resource.get("metadata"))
    requests, limits = resources.requests, resources.limits
    return (
        f"{metadata.get('name')} generation {metadata.get('generation')}: container {container}: "
        f"memory={requests.memory} (limit {limits.memory}), cpu={requests.cpu} (limit {limits.cpu}), "
        f"pinned {pinned} options in {FLINK_PROPERTIES}"
    )


def _annotation_operation(metadata: Mapping[str, Any], key: str, value: str) -> Operation:
    annotations = metadata.get("annotations")
    if not isinstance(annotations, Mapping):
        return _add(pointer("metadata", "annotations"), {key: value})
    return _set(pointer("metadata", "annotations", key), value, key in annotations)


def _add(path: str, value: Any) -> Operation:
    return {"op": "add", "path": path, "value": value}


def _set(path: str, value: Any, present: bool) -> Operation:
    # "add" on an existing member replaces it too; "replace" says so, and fails if the member vanished.
    return {"op": "replace" if present else "add", "path": path, "value": value}


def _property_key(line: str) -> str:
    return line.split(":", 1)[0].strip()


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _sequence(value: Any) -> Sequence[Any]:
    return value if isinstance(value, list) else []
