"""A fleet of FlinkTaskManagerMemory resources, its seeded edits, and what it must converge to.

The fleet mixes every sample of ``manifests/samples/`` (process, Flink and explicit heap/managed sizes,
RocksDB with Python, ``updateMode: Off``, a conflicting spec, Deployment, StatefulSet and
FlinkDeployment targets), each resource with workloads of its own. Edits are seeded: size changes,
edits that make a valid spec conflicting (JVM overhead min above max) and fix it again, and
ConfigMap renames.

``fleet_problems`` states the guarantees, checked on the emulator's store (``problems_of`` on any
``History``: the e2e tests' is what watches of a real API server saw) and computed from the engine
and the render layer, never hard-coded:

- every resource's status describes its current generation (``observedGeneration``), with the
  conditions, conflicts, breakdown, summary, pod resources and JVM parameters the render layer derives;
- a valid spec in Apply mode: its ConfigMap holds exactly the operator's keys rendered for that spec
  and every target carries its resources (the render layer plans no write);
- a conflicting spec: the ConfigMap and targets hold the layout of the last valid generation whose
  layout was ever written (never an older one: no lost update), or nothing if none was;
- ``updateMode: Off``: nothing written;
- every ConfigMap the operator made is owned by a live resource (no orphan), and each resource has
  exactly its current ConfigMap, plus the ones of names it used earlier (kept, owned, no longer
  written: see ``docs/reliability.md``).
"""

from __future__ import annotations

import asyncio
import copy
import json
import random
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import kmock

from flink_tm_memory.api.v1alpha1 import UpdateMode
from flink_tm_memory.api.workloads import WorkloadKind
from flink_tm_memory.control.apply import desired_config_map, plan_pod_resources
from flink_tm_memory.render.configmap import OWNED_KEYS, DesiredConfigMap
from flink_tm_memory.render.metadata import MANAGED_BY_LABEL, MemoryRef, parse_applied_spec
from flink_tm_memory.render.outcomes import ApplyOutcome, ConfigMapOutcome, TargetOutcome, WriteState
from flink_tm_memory.render.plan import MemoryPlan, derive_memory_plan
from flink_tm_memory.render.status import StatusInput, render_status
from flink_tm_memory.render.workloads import (
    plan_container_write,
    plan_flink_deployment_write,
    render_flink_deployment_resources,
)
from flink_tm_memory.render.writes import Unchanged
from tests.integration.emulator import ApiEmulator
from tests.integration.kubectl import (
    CONFIG_MAPS,
    DEPLOYMENTS,
    FLINK_DEPLOYMENTS,
    MEMORIES,
    NAMESPACE,
    STATEFUL_SETS,
    Json,
    collection_url,
    deployment,
    opt_in,
    sample,
)

SAMPLES = (
    "process-size",
    "flink-size",
    "heap-managed",
    "rocksdb-python",
    "kubernetes-quantity",
    "conflicting",
    "deployment-target",
    "statefulset-target",
    "flinkdeployment-target",
)
SIZES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # sample: (path of its size field in the spec, sizes an edit chooses from)
    "process-size": (("flinkConfiguration", "taskmanager.memory.process.size"), ("1g", "1728m", "3g", "4g")),
    "flink-size": (("flinkConfiguration", "taskmanager.memory.flink.size"), ("1g", "2g", "4g", "6g")),
    "heap-managed": (("flinkConfiguration", "taskmanager.memory.task.heap.size"), ("512m", "1g", "2g")),
    "rocksdb-python": (("flinkConfiguration", "taskmanager.memory.process.size"), ("4g", "6g", "8g")),
    "kubernetes-quantity": (("resources", "memory"), ("2Gi", "4Gi", "6Gi")),
    "conflicting": (("resources", "memory"), ("2Gi", "3Gi", "4Gi", "6Gi")),
    "deployment-target": (("resources", "memory"), ("2Gi", "3Gi", "4Gi")),
    "statefulset-target": (("flinkConfiguration", "taskmanager.memory.process.size"), ("2g", "6g", "7g")),
    "flinkdeployment-target": (("resources", "memory"), ("2Gi", "3Gi", "5Gi")),
}
BREAK = {"taskmanager.memory.jvm-overhead.min": "2g", "taskmanager.memory.jvm-overhead.max": "1g"}
"""Flink refuses a JVM overhead minimum above its maximum, whatever the rest of the spec says."""
FIX = dict.fromkeys(BREAK)
MERGE_PATCH = "application/merge-patch+json"


class History(Protocol):
    """What the guarantees are checked on: the emulator's store, or what a test saw of a real cluster."""

    def stored(self, resource: str, namespace: str | None, name: str) -> Json | None:
        """The object now, or ``None``."""

    def versions(self, resource: str, namespace: str | None, name: str) -> list[Json]:
        """Every state of the object since it was created, oldest first."""


@dataclass
class Fleet:
    """The resources of one scenario and the edits made to them."""

    count: int
    seed: int
    samples: tuple[str, ...] = SAMPLES
    names: list[str] = field(default_factory=list)
    edits: int = 0
    edit_kinds: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.names = [f"{self.samples[index % len(self.samples)]}-{index:05d}" for index in range(self.count)]
        self._random = random.Random(self.seed)

    def manifests(self) -> list[tuple[str, Json]]:
        """(resource, body) of every workload, then every FlinkTaskManagerMemory, to create in order."""
        workloads: list[tuple[str, Json]] = []
        memories: list[tuple[str, Json]] = []
        for name in self.names:
            kind = _sample_of(name)
            manifest = copy.deepcopy(sample(kind))
            manifest["metadata"] = {"name": name}
            spec = manifest["spec"]
            for target in spec.get("targets", {}).get("workloads", []):
                target["name"] = f"{name}-tm"
                workloads.append(_workload(target["kind"], target["name"], target.get("container"), name))
            if spec.get("targets", {}).get("configMap"):
                spec["targets"]["configMap"]["name"] = f"{name}-config"
            memories.append((MEMORIES, manifest))
        return workloads + memories

    def edit_round(self, share: float) -> list[tuple[str, Json]]:
        """Seeded edits (name, merge patch of the spec) for about ``share`` of the fleet."""
        patches = []
        for name in self.names:
            if self._random.random() >= share:
                continue
            kind, patch = self._edit(name)
            self.edit_kinds[kind] = self.edit_kinds.get(kind, 0) + 1
            patches.append((name, {"spec": patch}))
        self.edits += len(patches)
        return patches

    def _edit(self, name: str) -> tuple[str, Json]:
        sample_name = _sample_of(name)
        draw = self._random.random()
        if sample_name != "kubernetes-quantity":  # updateMode Off: sizes only
            if draw < 0.2:
                return "made conflicting", {"flinkConfiguration": dict(BREAK)}
            if draw < 0.4:
                return "conflict removed", {"flinkConfiguration": dict(FIX)}
            if draw < 0.45:
                suffix = self._random.randrange(1000)
                return "ConfigMap renamed", {"targets": {"configMap": {"name": f"{name}-cm-{suffix}"}}}
        (section, key), sizes = SIZES[sample_name]
        return "resized", {section: {key: self._random.choice(sizes)}}


def _sample_of(name: str) -> str:
    return name.rsplit("-", 1)[0]


def _workload(kind: str, name: str, container: str | None, memory: str) -> tuple[str, Json]:
    if kind == WorkloadKind.FLINK_DEPLOYMENT.value:
        return FLINK_DEPLOYMENTS, {
            "apiVersion": "flink.apache.org/v1beta1",
            "kind": "FlinkDeployment",
            "metadata": {"name": name, **opt_in(memory)},
            "spec": {"image": "flink:1.20", "flinkVersion": "v1_20", "flinkConfiguration": {}},
        }
    resource = DEPLOYMENTS if kind == WorkloadKind.DEPLOYMENT.value else STATEFUL_SETS
    containers = [{"name": container or "flink-main-container", "image": "flink"}]
    containers.append({"name": "log-shipper", "image": "fluent-bit"})
    return resource, deployment(name, containers, kind=kind, for_memory=memory)


async def send_all(
    emulator: ApiEmulator, requests: Iterable[tuple[str, str, str | None, Json]], concurrency: int = 32
) -> None:
    """Sends (method, resource, name, body) requests as a user would, ``concurrency`` at a time."""
    gate = asyncio.Semaphore(concurrency)

    async def send(method: str, resource: str, name: str | None, body: Json) -> None:
        url = collection_url(resource, NAMESPACE) + (f"/{name}" if name else "")
        headers = {"Content-Type": MERGE_PATCH} if method == "PATCH" else {}
        async with gate, emulator.request(method, url, json=body, headers=headers) as response:
            if response.status >= 300:
                raise AssertionError(f"{method} {url}: {response.status} {await response.text()}")

    await asyncio.gather(*(send(*request) for request in requests))


async def create_fleet(emulator: ApiEmulator, fleet: Fleet) -> None:
    await send_all(emulator, [("POST", resource, None, body) for resource, body in fleet.manifests()])


async def edit_fleet(emulator: ApiEmulator, fleet: Fleet, share: float) -> None:
    await send_all(emulator, [("PATCH", MEMORIES, name, patch) for name, patch in fleet.edit_round(share)])


# ------------------------------------------------------------------------------------ the guarantees


def stored(emulator: ApiEmulator, resource: str) -> list[Json]:
    """The live objects of a resource in the namespace (the store's own: read, never change them)."""
    kind = kmock.resource(resource)
    return [
        entry.raw
        for (key, namespace, _), entry in emulator.objects.items()
        if key == kind and namespace == NAMESPACE and not entry.deleted
    ]


def all_observed(emulator: ApiEmulator) -> bool:
    """Every resource's status describes its current generation (a cheap first check)."""
    return all(
        (body.get("status") or {}).get("observedGeneration") == body["metadata"]["generation"]
        for body in stored(emulator, MEMORIES)
    )


def fleet_problems(emulator: ApiEmulator) -> list[str]:
    """Every broken guarantee, one line each; empty when the fleet has converged."""
    return problems_of(stored(emulator, MEMORIES), stored(emulator, CONFIG_MAPS), emulator)


def problems_of(memories: list[Json], config_maps_now: list[Json], emulator: History) -> list[str]:
    """Every broken guarantee of ``memories`` and ``config_maps_now`` (one namespace's, live)."""
    config_maps = {body["metadata"]["name"]: body for body in config_maps_now}
    problems: list[str] = []
    expected_names: dict[str, set[str]] = {}
    for memory in memories:
        expectation = _expectation(emulator, memory)
        problems.extend(_memory_problems(emulator, memory, expectation, config_maps))
        expected_names[memory["metadata"]["uid"]] = expectation.config_map_names
    for name, config_map in config_maps.items():
        if (config_map["metadata"].get("labels") or {}).get(MANAGED_BY_LABEL) is None:
            continue
        owners = [owner["uid"] for owner in config_map["metadata"].get("ownerReferences", [])]
        if not any(uid in expected_names for uid in owners):
            problems.append(f"ConfigMap {name}: orphaned (owners {owners} are gone)")
        elif not any(name in expected_names.get(uid, set()) for uid in owners):
            problems.append(f"ConfigMap {name}: a duplicate, never a name of its owner")
    return problems


@dataclass(frozen=True)
class Expectation:
    current: MemoryPlan
    effective: MemoryPlan | None
    effective_generation: int | None
    config_map: DesiredConfigMap | None
    config_map_names: set[str]
    """Every ConfigMap name a valid spec of this resource ever had (renamed ones stay, owned)."""


def _expectation(emulator: History, memory: Json) -> Expectation:
    ref = MemoryRef.from_body(memory)
    current = _plan(memory["spec"])
    history = _valid_generations(emulator, memory)
    names = {desired.name for _, _, desired, _ in history}
    if current.update_mode is UpdateMode.OFF:
        valid = current.layout is not None
        return Expectation(
            current, current if valid else None, ref.generation if valid else None, None, names
        )
    if current.layout is not None:
        return Expectation(current, current, ref.generation, desired_config_map(ref, current), names)
    for generation, plan, desired, since in reversed(history):  # the last valid layout that was written
        # Written for this generation: after it existed. An earlier generation's ConfigMap with the
        # same keys (6g, 7g, 6g) is no evidence that a later one was ever applied.
        versions = emulator.versions(CONFIG_MAPS, NAMESPACE, desired.name)
        if any(
            _owned(_plain(version)) == desired.data and int(version["metadata"]["resourceVersion"]) > since
            for version in versions
        ):
            return Expectation(current, plan, generation, desired, names)
    return Expectation(current, None, None, None, names)


def _valid_generations(
    emulator: History, memory: Json
) -> list[tuple[int, MemoryPlan, DesiredConfigMap, int]]:
    """(generation, plan, ConfigMap, resourceVersion it first had) of every valid Apply-mode spec the
    resource had, oldest first."""
    by_generation: dict[int, Json] = {}
    first_seen: dict[int, int] = {}
    for version in emulator.versions(MEMORIES, NAMESPACE, memory["metadata"]["name"]):
        if version["metadata"].get("uid") == memory["metadata"]["uid"]:
            generation = version["metadata"]["generation"]
            by_generation[generation] = _plain(version["spec"])
            first_seen.setdefault(generation, int(version["metadata"]["resourceVersion"]))
    valid = []
    for generation, spec in sorted(by_generation.items()):
        plan = _plan(spec)
        if plan.layout is not None and plan.update_mode is UpdateMode.APPLY:
            ref = MemoryRef.from_body(
                {**memory, "metadata": {**memory["metadata"], "generation": generation}}
            )
            valid.append((generation, plan, desired_config_map(ref, plan), first_seen[generation]))
    return valid


def _plain(value: Any) -> Any:
    """kmock's stored versions as plain JSON values."""
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


_PLANS: dict[str, MemoryPlan] = {}


def _plan(spec: Mapping[str, Any]) -> MemoryPlan:
    key = json.dumps(spec, sort_keys=True)
    if key not in _PLANS:
        _PLANS[key] = derive_memory_plan(spec)
    return _PLANS[key]


def _owned(config_map: Mapping[str, Any]) -> dict[str, str]:
    data = config_map.get("data") or {}
    return {key: data[key] for key in OWNED_KEYS if key in data}


def _memory_problems(
    emulator: History, memory: Json, expected: Expectation, config_maps: Mapping[str, Json]
) -> list[str]:
    name = memory["metadata"]["name"]
    generation = memory["metadata"]["generation"]
    status = memory.get("status") or {}
    problems = []
    if status.get("observedGeneration") != generation:
        problems.append(f"{name}: observedGeneration {status.get('observedGeneration')} != {generation}")
    wanted = _expected_status(memory, expected)
    for key in (
        "breakdown",
        "summary",
        "podResources",
        "jvmParameters",
        "dynamicConfigs",
        "conflicts",
        "flinkVersion",
    ):
        if status.get(key) != wanted.get(key):
            problems.append(
                f"{name}: status.{key} is {status.get(key)!r:.120}, expected {wanted.get(key)!r:.120}"
            )
    if _conditions(status, with_messages=expected.current.layout is not None) != _conditions(
        wanted, with_messages=expected.current.layout is not None
    ):
        problems.append(f"{name}: conditions {_conditions(status, with_messages=True)}")
    owned_here = {
        cm_name
        for cm_name, body in config_maps.items()
        if any(
            owner["uid"] == memory["metadata"]["uid"] for owner in body["metadata"].get("ownerReferences", [])
        )
    }
    if expected.config_map is None:
        if owned_here:
            problems.append(
                f"{name}: ConfigMaps {sorted(owned_here)} written for a spec never valid in Apply mode"
            )
        return problems
    config_map = config_maps.get(expected.config_map.name)
    if config_map is None:
        return [*problems, f"{name}: ConfigMap {expected.config_map.name} missing"]
    if _owned(config_map) != expected.config_map.data:
        problems.append(
            f"{name}: ConfigMap {expected.config_map.name} does not hold generation "
            f"{expected.effective_generation}'s layout"
        )
    if expected.effective is not None:
        problems.extend(_target_problems(emulator, name, expected.effective))
    return problems


def _expected_status(memory: Json, expected: Expectation) -> Json:
    """The status the render layer gives for the expected outcome (every write in place)."""
    outcome = None
    if (
        expected.config_map is not None
        and expected.effective is not None
        and expected.effective.spec is not None
    ):
        targets = tuple(
            TargetOutcome(target.kind, target.name, WriteState.UNCHANGED)
            for target in expected.effective.spec.targets.workloads
        )
        config_map = ConfigMapOutcome(
            expected.config_map.name, WriteState.UNCHANGED, hash=expected.config_map.hash
        )
        outcome = ApplyOutcome(expected.effective_generation or 0, config_map, targets)
    effective = expected.effective
    return render_status(
        StatusInput(
            generation=memory["metadata"]["generation"],
            current=expected.current,
            effective=effective,
            effective_generation=expected.effective_generation,
            pod_resources=plan_pod_resources(effective) if effective is not None else None,
            outcome=outcome,
            previous={},
            now=datetime.now(UTC),
        )
    )


def _conditions(status: Mapping[str, Any], *, with_messages: bool) -> list[tuple[str, ...]]:
    # A conflicting spec's messages name the kept generation, which may be any of several that
    # rendered the same layout; the layout itself is compared exactly above.
    return sorted(
        (entry["type"], entry["status"], entry["reason"], *((entry["message"],) if with_messages else ()))
        for entry in status.get("conditions", [])
    )


def _target_problems(emulator: History, name: str, plan: MemoryPlan) -> list[str]:
    assert plan.spec is not None
    assert plan.layout is not None
    assert plan.resolved is not None
    problems = []
    for target in plan.spec.targets.workloads:
        if target.kind is WorkloadKind.FLINK_DEPLOYMENT:
            current = emulator.stored(FLINK_DEPLOYMENTS, NAMESPACE, target.name)
            wanted = render_flink_deployment_resources(plan.layout, plan.spec, plan.resolved)
            decision = plan_flink_deployment_write(current, wanted)
        else:
            resource = DEPLOYMENTS if target.kind is WorkloadKind.DEPLOYMENT else STATEFUL_SETS
            current = emulator.stored(resource, NAMESPACE, target.name)
            resources = plan_pod_resources(plan)
            assert resources is not None
            decision = plan_container_write(current, target.container, resources)
        if not isinstance(decision, Unchanged):
            problems.append(f"{name}: {target.kind} {target.name} does not carry the layout ({decision})")
    return problems


def config_map_count(emulator: ApiEmulator) -> int:
    return sum(
        1
        for body in stored(emulator, CONFIG_MAPS)
        if (body["metadata"].get("labels") or {}).get(MANAGED_BY_LABEL) is not None
    )


async def converged(emulator: ApiEmulator, timeout: float) -> list[str]:
    """Waits until every guarantee holds; the broken ones if they still do not after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all_observed(emulator) and not fleet_problems(emulator):
            return []
        await asyncio.sleep(1.0)
    return fleet_problems(emulator)


def broken(problems: list[str], report: str, emulator: ApiEmulator) -> str:
    """A failure's message: the broken guarantees, the run's figures and seed, the first object's requests."""
    listed = "\n".join(problems[:30])
    return (
        f"{len(problems)} broken guarantees ({report}):\n{listed}{requests_about(emulator, problems[0])}"
        f"{versions_of(emulator, problems[0])}"
    )


def versions_of(emulator: ApiEmulator, problem: str) -> str:
    """Every stored state of the first failing resource: its generation, applied record and observed one."""
    name = problem.split(":", 1)[0]
    lines = []
    for version in emulator.versions(MEMORIES, NAMESPACE, name):
        metadata = version.get("metadata") or {}
        record = parse_applied_spec(metadata.get("annotations"))
        spec = _plain(version.get("spec") or {})
        lines.append(
            f"rv {metadata.get('resourceVersion')} generation {metadata.get('generation')}"
            f" recorded {record.generation if record else None}"
            f" observed {(version.get('status') or {}).get('observedGeneration')}"
            f" spec {json.dumps(spec.get('flinkConfiguration'), sort_keys=True)}"
        )
    return f"\nstored versions of {name}:\n" + "\n".join(lines)


def requests_about(emulator: ApiEmulator, problem: str) -> str:
    """The requests that named the first failing object, with the faults they got, to diagnose it."""
    name = problem.split(":", 1)[0]
    faults = dict(getattr(emulator, "injected", []))
    lines = [
        f"{request.method.value} {request.url.path_qs} {request.headers.get('User-Agent', '')[:12]}"
        f" {faults.get(request.id, '')}"
        for request in list(emulator)
        if name in request.url.path or name in request.text[:500]
    ]
    return f"\nrequests about {name}:\n" + "\n".join(lines[-60:])
