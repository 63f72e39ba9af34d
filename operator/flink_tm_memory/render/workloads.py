"""Writes to the workloads that run TaskManagers: only the fields the operator owns, nothing else.

Deployment and StatefulSet: the memory and CPU requests and limits of the TaskManager container in
the pod template. The patch is a *strategic merge patch*: the API server merges the ``containers``
list by container ``name``, and the ``requests``/``limits`` maps key by key, so the patch names one
container and four quantities, and every other container, field and resource (GPUs, ephemeral
storage) stays as it is. A JSON merge patch would replace the whole ``containers`` list (the operator
would have to send every container back and would own them all); a JSON patch addresses containers
by index, which another writer can shift. The patch carries the ``resourceVersion`` it was computed
from, so a concurrent change fails it (409) instead of being overwritten.

FlinkDeployment (a custom resource: strategic merge is not available): a JSON merge patch of
``spec.taskManager.resource.memory``/``cpu`` and of the pinned keys in ``spec.flinkConfiguration``,
both maps, so only those keys change. The Flink Kubernetes Operator reads ``resource.memory`` the
Flink way first (``2G`` is 2 GiB to it) and as a Kubernetes quantity second, so the size is written
in a form both read alike: a binary quantity (``4Gi``, ``1728Mi``) or a plain byte count.

The TaskManager container: the one named in the target, else the kind's default containers
(``flink-main-container``, else ``taskmanager``), else the only container of the pod template, which
is where the kind's entry in ``api.workloads`` says. Anything else is refused, with the reason,
rather than guessed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flink_tm_memory.api.quantity import QuantityError, format_memory_quantity, parse_memory_quantity
from flink_tm_memory.api.resolve import CPU_LIMIT_FACTOR, MEMORY_LIMIT_FACTOR, ResolvedSpec
from flink_tm_memory.api.v1alpha1 import FlinkTaskManagerMemorySpec, PodResources
from flink_tm_memory.api.workloads import WorkloadKind
from flink_tm_memory.memory.configuration import java_string
from flink_tm_memory.memory.failures import JavaError
from flink_tm_memory.memory.javanum import java_double_to_string
from flink_tm_memory.memory.layout import MemoryLayout
from flink_tm_memory.memory.options import EXTERNAL_RESOURCES
from flink_tm_memory.memory.sizes import parse_memory_size
from flink_tm_memory.render.pod_resources import container_resources, missing_resources
from flink_tm_memory.render.writes import (
    MERGE_PATCH,
    STRATEGIC_MERGE_PATCH,
    Absent,
    Decision,
    Patch,
    Refused,
    Unchanged,
)

_NO_EXTERNAL_RESOURCES = "none"


def plan_container_write(
    workload: Mapping[str, Any] | None,
    container: str | None,
    resources: PodResources,
    kind: WorkloadKind = WorkloadKind.DEPLOYMENT,
) -> Decision:
    """The resources of the TaskManager container in the pod template of a ``kind`` (the table's path)."""
    if workload is None:
        return Absent()
    template: Any = workload
    for step in kind.spec.pod_template:
        template = (template.get(step) if isinstance(template, Mapping) else None) or {}
    pod_spec = (template.get("spec") if isinstance(template, Mapping) else None) or {}
    containers = [entry for entry in pod_spec.get("containers") or [] if isinstance(entry, Mapping)]
    chosen = select_container([str(entry.get("name", "")) for entry in containers], container, kind)
    if isinstance(chosen, Refused):
        return chosen
    wanted = container_resources(resources)
    current = next(entry for entry in containers if entry.get("name") == chosen)
    if not missing_resources(current.get("resources"), wanted):
        return Unchanged(container=chosen)
    patch: dict[str, Any] = {"spec": {"containers": [{"name": chosen, "resources": wanted}]}}
    for step in reversed(kind.spec.pod_template):
        patch = {step: patch}
    body = {"metadata": {"resourceVersion": _resource_version(workload)}, **patch}
    return Patch(body, STRATEGIC_MERGE_PATCH, container=chosen)


def select_container(
    names: Sequence[str], wanted: str | None, kind: WorkloadKind = WorkloadKind.DEPLOYMENT
) -> str | Refused:
    """The TaskManager container among a pod template's ``names``, or why there is none."""
    listed = ", ".join(names) or "none"
    if wanted is not None:
        if wanted in names:
            return wanted
        return Refused(f"The pod template has no container named {wanted} (it has: {listed}).")
    defaults = kind.spec.default_containers
    for default in defaults:
        if default in names:
            return default
    if len(names) == 1:
        return names[0]
    return Refused(
        f"The pod template has no container named {' or '.join(defaults)} and {len(names)} "
        f"containers ({listed}): name the TaskManager container in the target's container field."
    )


@dataclass(frozen=True, slots=True)
class FlinkDeploymentResources:
    """What a FlinkDeployment's TaskManager should get: its resource and the options to pin."""

    memory: str
    cpu: float
    options: dict[str, str]


def render_flink_deployment_resources(
    layout: MemoryLayout, spec: FlinkTaskManagerMemorySpec, resolved: ResolvedSpec
) -> FlinkDeploymentResources:
    """The memory (process size), CPU cores and pinned options, plus the limit factors the spec sets.

    The limit factors are how the Flink Kubernetes Operator derives limits; one the spec leaves unset
    is not written, so a factor set on the FlinkDeployment itself stays.
    """
    factors = {
        MEMORY_LIMIT_FACTOR: (spec.resources.memory_limit_factor, resolved.memory_limit_factor),
        CPU_LIMIT_FACTOR: (spec.resources.cpu_limit_factor, resolved.cpu_limit_factor),
    }
    options = {
        key: value for key, value in layout.pinned_options().items() if not _default_external(key, value)
    }
    options.update(
        {
            key: java_double_to_string(factor)
            for key, (field, factor) in factors.items()
            if field is not None or key in spec.flink_configuration
        }
    )
    return FlinkDeploymentResources(
        memory=flink_deployment_memory(layout.total_process_bytes), cpu=layout.cpu_cores, options=options
    )


def plan_flink_deployment_write(
    workload: Mapping[str, Any] | None, wanted: FlinkDeploymentResources
) -> Decision:
    """``spec.taskManager.resource`` and the pinned options of a FlinkDeployment."""
    if workload is None:
        return Absent()
    spec = workload.get("spec") or {}
    current_options = spec.get("flinkConfiguration") or {}
    resource_patch = _resource_patch((spec.get("taskManager") or {}).get("resource") or {}, wanted)
    options_patch = {
        key: value for key, value in wanted.options.items() if _text(current_options.get(key)) != value
    }
    if not resource_patch and not options_patch:
        return Unchanged()
    body: dict[str, Any] = {"metadata": {"resourceVersion": _resource_version(workload)}, "spec": {}}
    if resource_patch:
        body["spec"]["taskManager"] = {"resource": resource_patch}
    if options_patch:
        body["spec"]["flinkConfiguration"] = options_patch
    return Patch(body, MERGE_PATCH)


def flink_deployment_memory(size_bytes: int) -> str:
    """A size both the Flink parser and the Kubernetes one read as ``size_bytes``: ``4Gi`` or ``1073741825``.

    A decimal suffix (``1500M``) would mean MiB to Flink, which the Flink Kubernetes Operator tries first.
    """
    if size_bytes >= 1024 and size_bytes % 1024 == 0:
        return format_memory_quantity(size_bytes)
    return str(size_bytes)


def _default_external(key: str, value: str) -> bool:
    # "none" is Flink's default; pinning it would wipe external resources set on the FlinkDeployment.
    return key == EXTERNAL_RESOURCES.key and value == _NO_EXTERNAL_RESOURCES


def _resource_patch(current: Mapping[str, Any], wanted: FlinkDeploymentResources) -> dict[str, Any]:
    patch: dict[str, Any] = {}
    if _flink_operator_bytes(current.get("memory")) != _flink_operator_bytes(wanted.memory):
        patch["memory"] = wanted.memory
    cpu = current.get("cpu")
    if isinstance(cpu, bool) or not isinstance(cpu, int | float) or float(cpu) != wanted.cpu:
        patch["cpu"] = wanted.cpu
    return patch


def _flink_operator_bytes(value: Any) -> int | None:
    """How the Flink Kubernetes Operator reads ``resource.memory``: Flink's parser first, Kubernetes' second."""
    if value is None:
        return None
    text = str(value)
    try:
        return parse_memory_size(text)
    except JavaError:
        pass
    try:
        return parse_memory_quantity(text).rounded_up
    except QuantityError:
        return None


def _text(value: Any) -> str | None:
    return (
        None if value is None else java_string(value) if isinstance(value, bool | int | float) else str(value)
    )


def _resource_version(workload: Mapping[str, Any]) -> Any:
    return (workload.get("metadata") or {}).get("resourceVersion")
