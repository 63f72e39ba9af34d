"""Writing one valid plan: its ConfigMap, then every workload target, each read, decided and written.

Each object is brought to what the plan wants independently: a missing workload, a pod template
without a TaskManager container, an object that is not the resource's to write (``render.claims``:
not created by the operator and not opted in, or another resource's) or a failed write is recorded
as that target's outcome, never raised, so one bad target cannot keep the ConfigMap or the other
targets from being written.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from flink_tm_memory.api.v1alpha1 import PodResources, WorkloadTarget
from flink_tm_memory.api.workloads import PatchShape, WorkloadKind
from flink_tm_memory.cluster.apply import apply_object
from flink_tm_memory.cluster.client import ClusterClient, Json
from flink_tm_memory.cluster.discovery import kind_is_served
from flink_tm_memory.cluster.errors import ApiError
from flink_tm_memory.cluster.objects import config_map_api, workload_api
from flink_tm_memory.render.claims import claim_denial
from flink_tm_memory.render.configmap import (
    DesiredConfigMap,
    config_map_name,
    plan_config_map_write,
    render_config_map,
)
from flink_tm_memory.render.metadata import MemoryRef
from flink_tm_memory.render.outcomes import (
    KIND_NOT_SERVED,
    ApplyOutcome,
    ConfigMapOutcome,
    TargetOutcome,
    WriteState,
    state_of,
)
from flink_tm_memory.render.plan import MemoryPlan
from flink_tm_memory.render.pod_resources import render_pod_resources
from flink_tm_memory.render.workloads import (
    plan_container_write,
    plan_flink_deployment_write,
    render_flink_deployment_resources,
)
from flink_tm_memory.render.writes import Absent, Decision, Denied, Patch, Refused, Unchanged


@dataclass(frozen=True, slots=True)
class AppliedPlan:
    """What was written for a plan, and the ConfigMap it wants (for the ConfigMap watch)."""

    outcome: ApplyOutcome
    config_map: DesiredConfigMap


def plan_pod_resources(plan: MemoryPlan) -> PodResources | None:
    """The TaskManager container's resources for a valid plan."""
    if plan.layout is None or plan.resolved is None:
        return None
    resolved = plan.resolved
    return render_pod_resources(plan.layout, resolved.memory_limit_factor, resolved.cpu_limit_factor)


def desired_config_map(memory: MemoryRef, plan: MemoryPlan) -> DesiredConfigMap:
    """The ConfigMap a valid plan wants."""
    assert plan.spec is not None
    assert plan.resolved is not None
    assert plan.layout is not None
    resolved = plan.resolved
    name = config_map_name(plan.spec, memory.name)
    return render_config_map(memory, name, resolved.version, resolved.configuration, plan.layout)


async def apply_plan(
    client: ClusterClient, memory: MemoryRef, plan: MemoryPlan, generation: int
) -> AppliedPlan:
    """Writes the ConfigMap and the workloads of a valid plan, the layout of spec ``generation``."""
    assert plan.spec is not None
    config_map = desired_config_map(memory, plan)
    config_map_outcome = await _apply_config_map(client, config_map)
    targets = await asyncio.gather(
        *(_apply_target(client, memory, target, plan) for target in plan.spec.targets.workloads)
    )
    return AppliedPlan(ApplyOutcome(generation, config_map_outcome, tuple(targets)), config_map)


async def _apply_config_map(client: ClusterClient, desired: DesiredConfigMap) -> ConfigMapOutcome:
    decide = partial(plan_config_map_write, desired=desired)
    try:
        applied = await apply_object(config_map_api(client), desired.namespace, desired.name, decide)
    except ApiError as error:
        return ConfigMapOutcome(
            desired.name, WriteState.FAILED, message=str(error), transient=error.transient
        )
    decision = applied.decision
    if isinstance(decision, Denied):
        return ConfigMapOutcome(
            desired.name, WriteState.DENIED, message=decision.message, reason=decision.reason
        )
    return ConfigMapOutcome(desired.name, state_of(decision), hash=desired.hash)


async def _apply_target(
    client: ClusterClient, memory: MemoryRef, target: WorkloadTarget, plan: MemoryPlan
) -> TargetOutcome:
    decide = partial(_claimed, memory=memory, kind=target.kind.value, decide=_target_decision(target, plan))
    try:
        applied = await apply_object(workload_api(client, target.kind), memory.namespace, target.name, decide)
    except ApiError as error:
        return TargetOutcome(
            target.kind, target.name, WriteState.FAILED, message=str(error), transient=error.transient
        )
    decision = applied.decision
    if isinstance(decision, Absent) and target.kind.spec.custom:
        return await _absent_target(client, target)
    return TargetOutcome(
        target.kind,
        target.name,
        state_of(decision),
        container=decision.container if isinstance(decision, Patch | Unchanged) else None,
        message=decision.message if isinstance(decision, Refused | Denied) else None,
        reason=decision.reason if isinstance(decision, Denied) else None,
    )


async def _absent_target(client: ClusterClient, target: WorkloadTarget) -> TargetOutcome:
    """A custom-resource target that is not there: missing, or its kind not served by this cluster."""
    spec = target.kind.spec
    try:
        served = await kind_is_served(client, spec)
    except ApiError:
        served = True  # unsure: the usual "does not exist", and the next check asks again
    if served:
        return TargetOutcome(target.kind, target.name, WriteState.MISSING)
    return TargetOutcome(
        target.kind,
        target.name,
        WriteState.MISSING,
        message=(
            f"{spec.kind} {target.name} cannot be written: this cluster does not serve the kind "
            f"{spec.kind} ({spec.plural}.{spec.group}/{spec.version}); install its CRD (the Flink "
            "Kubernetes Operator's) or target the TaskManager Deployment instead."
        ),
        reason=KIND_NOT_SERVED,
    )


def _claimed(
    workload: Json | None, *, memory: MemoryRef, kind: str, decide: Callable[[Json | None], Decision]
) -> Decision:
    """The decision for a workload, unless it is not the resource's to write."""
    return claim_denial(workload, memory, kind) or decide(workload)


def _target_decision(target: WorkloadTarget, plan: MemoryPlan) -> partial[Decision]:
    assert plan.layout is not None
    assert plan.spec is not None
    assert plan.resolved is not None
    if target.kind.spec.shape is PatchShape.FLINK_DEPLOYMENT:
        wanted = render_flink_deployment_resources(plan.layout, plan.spec, plan.resolved)
        return partial(plan_flink_deployment_write, wanted=wanted)
    resources = plan_pod_resources(plan)
    assert resources is not None
    return partial(_container_decision, container=target.container, resources=resources, kind=target.kind)


def _container_decision(
    workload: Json | None, *, container: str | None, resources: PodResources, kind: WorkloadKind
) -> Decision:
    return plan_container_write(workload, container, resources, kind)
