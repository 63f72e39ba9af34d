"""An OOM-killed TaskManager container, attributed in Flink's terms, and the fix that gives it room.

**Which budget ran out.** The JVM caps three of Flink's components with the flags the operator
derived: the heap (``-Xmx``), direct memory (``-XX:MaxDirectMemorySize``: framework and task
off-heap plus network) and metaspace (``-XX:MaxMetaspaceSize``). Outgrowing one of them is a Java
``OutOfMemoryError`` inside the JVM, never a kill by the kernel. A kernel OOM kill (``OOMKilled``)
therefore means the memory *outside* those caps outgrew what the container's limit leaves for it:

- the JVM overhead (thread stacks, GC and JIT structures, code cache, glibc arenas, native
  libraries and agents), always;
- managed memory, when a consumer allocates it natively and can outgrow it: the RocksDB or ForSt
  state backend (a ``STATE_BACKEND`` share), Python workers (a ``PYTHON`` share). Batch operators'
  managed memory is allocated in exact pages by Flink's MemoryManager and is not counted;
- whatever the limit grants beyond the process size (a memory limit factor above 1).

``budgetBytes`` is the sum of these, as the pod ran them. The evidence says what the attribution
rests on: the state backend, the limit against the request and the process size, restarts in a
row, and whether the pod ran the layout the operator derived (its memory request and limit, and the
pinned options it carried, against the status). A pod that did not run that layout (someone else's
sizes, or a spec changed since it started) is reported so, and no fix is proposed: it is not this
layout that failed.

**The fix.** The budget gets ``step`` more room (``spec.oomKills.step``, default 25 %), rounded up
to a whole MiB, by the smallest change Flink accepts, each candidate derived by the engine with the
spec changed and checked to keep heap, managed, direct memory and metaspace exactly and to give the
budget at least that much more:

1. raise the JVM overhead by pinning ``jvm-overhead.min`` and ``.max`` (Flink takes the overhead as
   ``fraction * process size`` clamped between them, so equal bounds make it exact), and the process
   size by the same bytes when the process size is what the spec fixes (so total Flink memory, and
   with it every other component, is unchanged);
2. raise the process size alone (Flink's fractions then grow the overhead and managed memory): the
   smallest whole MiB giving the room, when the overhead or managed memory follows it at all;
3. raise the memory limit factor: room beyond the request, which the node does not reserve.

The first that exists is ``fix``; the others are ``alternatives``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from typing import Any

from pydantic import ValidationError

from flink_tm_memory.api.quantity import QuantityError, format_memory_quantity, parse_memory_quantity
from flink_tm_memory.api.resolve import MEMORY_LIMIT_FACTOR, flink_field
from flink_tm_memory.api.v1alpha1 import (
    OOM_STEP_DEFAULT,
    FlinkTaskManagerMemorySpec,
    OomFix,
    PodResources,
    Resources,
)
from flink_tm_memory.memory import options as opt
from flink_tm_memory.memory.failures import JavaError
from flink_tm_memory.memory.layout import MemoryLayout
from flink_tm_memory.memory.sizes import format_human, parse_memory_size
from flink_tm_memory.memory.weights_parsing import ManagedMemoryUseCase
from flink_tm_memory.render.oom_pods import ContainerFacts
from flink_tm_memory.render.plan import MemoryPlan, derive_memory_plan
from flink_tm_memory.render.pod_resources import render_pod_resources

MIB = 1 << 20
MEMORY_FIELD = "spec.resources.memory"
LIMIT_FACTOR_FIELD = "spec.resources.memoryLimitFactor"
OVERHEAD = "JVM overhead"
_BACKEND_NAMES = {"rocksdb": "RocksDB", "forst": "ForSt", "hashmap": "hashmap"}
_PROCESS_SEARCH_LIMIT = 64
"""The process size is searched up to this many times the room wanted above the current one."""


@dataclass(frozen=True, slots=True)
class Budget:
    """Memory outside the JVM's caps, as a layout and a container limit leave it."""

    overhead: int
    managed: int
    """Managed memory counted in the budget (0 when no native consumer uses it)."""
    beyond_process: int
    """What the limit grants beyond the process size (0 when it grants none, or less)."""

    @property
    def total(self) -> int:
        return self.overhead + self.managed + self.beyond_process


@dataclass(frozen=True, slots=True)
class Attribution:
    """Which budget ran out, its size, the evidence, and the engine-checked fixes."""

    budget: str
    budget_bytes: int
    evidence: list[str]
    ran_derived_layout: bool | None
    fixes: list[OomFix]


UNATTRIBUTED = "memory outside the JVM's caps"


def unattributed(why: str) -> Attribution:
    """What is recorded when the attribution itself failed: the incident, without a budget or a fix."""
    return Attribution(UNATTRIBUTED, 0, [f"the attribution failed ({why[:512]}): no budget or fix"], None, [])


def native_managed_consumers(plan: MemoryPlan) -> list[str]:
    """The consumers that allocate their managed memory natively and may outgrow it, by display name."""
    if plan.split is None:
        return []
    users = {share.use_case for share in plan.split.shares if share.bytes}
    names = []
    if ManagedMemoryUseCase.STATE_BACKEND in users:
        names.append(_BACKEND_NAMES.get(state_backend(plan)[0], "state backend"))
    if ManagedMemoryUseCase.PYTHON in users:
        names.append("Python")
    return names


def state_backend(plan: MemoryPlan) -> tuple[str, str]:
    """The state backend (hashmap, rocksdb, forst or what the configuration names) and where it came from."""
    resolved = plan.resolved
    if resolved is None:
        return "hashmap", "Flink's default"
    if resolved.state_backend is not None:
        return resolved.state_backend.value, "spec.consumers.stateBackend"
    for key in ("state.backend.type", "state.backend"):
        value = resolved.configuration.get(key)
        if isinstance(value, str) and value.strip():
            text = value.strip().lower()
            for name in ("rocksdb", "forst", "hashmap"):
                if name in text:
                    return name, flink_field(key)
            return text[:64], flink_field(key)
    return "hashmap", "Flink's default"


def budget_name(consumers: list[str]) -> str:
    return f"{OVERHEAD} + managed ({', '.join(consumers)})" if consumers else OVERHEAD


def layout_budget(layout: MemoryLayout, consumers: list[str], limit_bytes: int | None) -> Budget:
    beyond = max(0, limit_bytes - layout.total_process_bytes) if limit_bytes is not None else 0
    return Budget(layout.jvm_overhead_bytes, layout.managed_bytes if consumers else 0, beyond)


def attribute(
    raw_spec: Mapping[str, Any],
    status: Mapping[str, Any],
    facts: ContainerFacts,
    *,
    restart_count: int,
    kills_of_pod: int,
) -> Attribution:
    """Attributes one OOM kill of a container that ran with ``facts`` to a budget, with evidence and fixes.

    ``raw_spec`` and ``status`` are the resource's as stored; ``kills_of_pod`` counts this pod's OOM
    kills seen so far, this one included.
    """
    plan = derive_memory_plan(raw_spec)
    layout = plan.layout
    limit_bytes = _bytes(facts.limit)
    request_bytes = _bytes(facts.request)
    evidence = [
        "heap (-Xmx), direct memory (-XX:MaxDirectMemorySize) and metaspace (-XX:MaxMetaspaceSize) are "
        "capped by the JVM: outgrowing them is a Java OutOfMemoryError, not a kill by the kernel"
    ]
    backend, source = state_backend(plan)
    consumers = native_managed_consumers(plan)
    managed_note = (
        f"its managed memory is native and counted in the budget ({', '.join(consumers)})"
        if consumers
        else "no consumer allocates managed memory natively, so it is not counted"
    )
    evidence.append(f"state backend: {backend} ({source}); {managed_note}")
    evidence.extend(_limit_evidence(facts, limit_bytes, request_bytes, layout))
    evidence.append(
        f"restartCount {restart_count}; {kills_of_pod} OOM kill{'s' if kills_of_pod != 1 else ''} of this "
        "pod seen"
    )
    if layout is None:
        evidence.append(
            "the spec has conflicts, so there is no derived layout to compare the pod with and no fix"
        )
        return Attribution(budget_name(consumers), 0, evidence, None, [])
    ran, differences = ran_layout(status, facts)
    if ran is False:
        evidence.append(
            "the pod did not run the layout in the status (" + "; ".join(differences) + "): it is not "
            "this layout that failed, so no fix is proposed"
        )
    elif ran is True:
        evidence.append("the pod ran the layout in the status (memory request, limit and pinned options)")
    budget = layout_budget(layout, consumers, limit_bytes)
    evidence.append(_budget_evidence(budget))
    if limit_bytes is not None and limit_bytes < layout.total_process_bytes:
        fixes: list[OomFix] = []
    else:
        fixes = [] if ran is False else propose_oom_fixes(raw_spec, plan, budget, limit_bytes)
    return Attribution(budget_name(consumers), budget.total, evidence, ran, fixes)


def _limit_evidence(
    facts: ContainerFacts, limit_bytes: int | None, request_bytes: int | None, layout: MemoryLayout | None
) -> list[str]:
    if limit_bytes is None:
        return [
            "the container has no memory limit: the node ran out of memory and the kernel chose it, "
            "not the container's own limit"
        ]
    found = [f"container memory limit {facts.limit} ({format_human(limit_bytes)})"]
    if request_bytes:
        factor = Decimal(limit_bytes) / Decimal(request_bytes)
        found.append(f"limit / request = {factor.quantize(Decimal('0.01'))} (request {facts.request})")
    if layout is not None:
        process = layout.total_process_bytes
        if limit_bytes < process:
            found.append(
                f"the limit is below the process size Flink derived ({format_human(process)}): the layout "
                "did not fit the container, raise the limit to at least the process size"
            )
        elif limit_bytes == process:
            found.append("the limit equals the process size: nothing beyond Flink's own budgets")
        else:
            found.append(f"the limit grants {format_human(limit_bytes - process)} beyond the process size")
    return found


def _budget_evidence(budget: Budget) -> str:
    parts = [f"JVM overhead {format_human(budget.overhead)}"]
    if budget.managed:
        parts.append(f"managed {format_human(budget.managed)}")
    if budget.beyond_process:
        parts.append(f"limit beyond the process size {format_human(budget.beyond_process)}")
    return f"budget outside the JVM's caps: {' + '.join(parts)} = {format_human(budget.total)}"


def ran_layout(status: Mapping[str, Any], facts: ContainerFacts) -> tuple[bool | None, list[str]]:
    """Whether the container ran the status's layout: its resources, and any pinned option it carries.

    None when the status has no layout to compare with. Options come from the ConfigMap for
    Deployment and StatefulSet targets (not in the pod); the webhook's ``FLINK_PROPERTIES`` and
    Flink's native ``-D`` arguments are compared where present.
    """
    resources = status.get("podResources")
    dynamic = status.get("dynamicConfigs")
    if not isinstance(resources, Mapping):
        return None, []
    try:
        wanted = PodResources.model_validate(resources)
    except ValidationError:
        return None, []
    differences = []
    request, limit = _bytes(facts.request), _bytes(facts.limit)
    if request != wanted.requests.memory_bytes:
        differences.append(
            f"memory request {facts.request or 'none'}, the status says {wanted.requests.memory}"
        )
    if limit != wanted.limits.memory_bytes:
        differences.append(f"memory limit {facts.limit or 'none'}, the status says {wanted.limits.memory}")
    pinned = _pinned(dynamic) if isinstance(dynamic, str) else {}
    carried = {**_properties(facts.flink_properties), **_arguments(facts.arguments)}
    for key, value in carried.items():
        if key in pinned and _option_bytes(value) != _option_bytes(pinned[key]):
            differences.append(f"{key}={value[:64]}, the status says {pinned[key]}")
    return not differences, differences


def propose_oom_fixes(
    raw_spec: Mapping[str, Any], plan: MemoryPlan, budget: Budget, limit_bytes: int | None
) -> list[OomFix]:
    """Every candidate change giving the budget ``step`` more room, engine-checked, smallest first."""
    spec, layout = plan.spec, plan.layout
    if spec is None or layout is None or plan.resolved is None:
        return []
    step = spec.oom_kills.resolved_step if spec.oom_kills else OOM_STEP_DEFAULT
    room = room_wanted(budget.total, step)
    check = _Checker(raw_spec, layout, budget, room)
    candidates = [
        _overhead_fix(spec, plan, layout, room, check),
        _process_fix(spec, plan, layout, room, check),
        _limit_factor_fix(spec, plan, layout, budget, room, limit_bytes, check),
    ]
    return [fix for fix in candidates if fix is not None]


def room_wanted(budget_bytes: int, step: float) -> int:
    """``step`` of the budget, rounded up to a whole MiB (at least 1 MiB)."""
    exact = Decimal(budget_bytes) * Decimal(repr(step))
    return max(MIB, math.ceil(exact / MIB) * MIB)


class _Checker:
    """Derives a changed spec with the engine: does it keep the caps, and how much room does it add?

    Room is measured between the operator's own renderings of both specs (their layouts and the
    limits it would write), so a pod that ran another limit does not skew it.
    """

    def __init__(self, raw_spec: Mapping[str, Any], layout: MemoryLayout, before: Budget, room: int) -> None:
        self.raw_spec = raw_spec
        self.layout = layout
        self.before = before
        self.room = room
        self.derived_before = _derived_budget(derive_memory_plan(raw_spec))

    def keeps_caps(self, flink: Mapping[str, str], resources: Mapping[str, Any]) -> bool:
        layout = derive_memory_plan(applied_fix(self.raw_spec, flink, resources)).layout
        return layout is not None and _caps(layout) == _caps(self.layout)

    def gives_room(self, flink: Mapping[str, str], resources: Mapping[str, Any]) -> int | None:
        """The budget after the change (as the pod's budget plus the room added), if it adds enough."""
        after = _derived_budget(derive_memory_plan(applied_fix(self.raw_spec, flink, resources)))
        if after is None or self.derived_before is None:
            return None
        added = after - self.derived_before
        return self.before.total + added if added >= self.room else None


def _caps(layout: MemoryLayout) -> tuple[int, int, int, int]:
    return layout.jvm_heap_bytes, layout.jvm_direct_bytes, layout.jvm_metaspace_bytes, layout.managed_bytes


def _derived_budget(plan: MemoryPlan) -> int | None:
    """The budget of a plan's layout with the limit the operator writes for it; None if refused."""
    layout = plan.layout
    if layout is None or plan.resolved is None:
        return None
    pod = render_pod_resources(layout, plan.resolved.memory_limit_factor, plan.resolved.cpu_limit_factor)
    return layout_budget(layout, native_managed_consumers(plan), pod.limits.memory_bytes).total


def applied_fix(
    raw_spec: Mapping[str, Any], flink: Mapping[str, str], resources: Mapping[str, Any]
) -> dict[str, Any]:
    """The spec (wire form) with a fix's options and container changes applied."""
    changed = dict(raw_spec)
    changed["flinkConfiguration"] = {**dict(raw_spec.get("flinkConfiguration") or {}), **flink}
    if resources:
        changed["resources"] = {**dict(raw_spec.get("resources") or {}), **resources}
    return changed


def _process_change(
    spec: FlinkTaskManagerMemorySpec, plan: MemoryPlan, new_bytes: int
) -> tuple[dict[str, str], dict[str, Any], str] | None:
    """How the spec sets a new process size: its field, and the words; None if the spec fixes none."""
    assert plan.resolved is not None
    key = opt.PROCESS_SIZE.key
    if key not in plan.resolved.configuration:
        return None
    if plan.resolved.field_for(key) == MEMORY_FIELD:
        quantity = format_memory_quantity(new_bytes)
        return {}, {"memory": quantity}, f"{MEMORY_FIELD} from {spec.resources.memory} to {quantity}"
    value = _flink_size(new_bytes)
    return {key: value}, {}, f"{key} to {value}"


def _overhead_fix(
    spec: FlinkTaskManagerMemorySpec, plan: MemoryPlan, layout: MemoryLayout, room: int, check: _Checker
) -> OomFix | None:
    # With a fixed process size, it grows to the next whole MiB past the room and the overhead takes
    # exactly what it grew by (total Flink memory stays); else the overhead alone grows, in whole MiB.
    size = layout.total_process_bytes
    process = _process_change(spec, plan, math.ceil((size + room) / MIB) * MIB)
    overhead = layout.jvm_overhead_bytes
    grown = (
        math.ceil((size + room) / MIB) * MIB - size
        if process is not None
        else math.ceil((overhead + room) / MIB) * MIB - overhead
    )
    value = _flink_size(overhead + grown)
    flink = {opt.OVERHEAD_MIN.key: value, opt.OVERHEAD_MAX.key: value}
    resources: dict[str, Any] = {}
    words = [f"pin the JVM overhead to {value} ({opt.OVERHEAD_MIN.key} and {opt.OVERHEAD_MAX.key})"]
    if process is not None:
        flink.update(process[0])
        resources.update(process[1])
        words.append(f"raise {process[2]}")
    if not check.keeps_caps(flink, resources):
        return None
    after = check.gives_room(flink, resources)
    if after is None:
        return None
    summary = " and ".join(words) + ": heap, direct, metaspace and managed memory stay as they are"
    return _fix(flink, resources, summary, after, plan)


def _process_fix(
    spec: FlinkTaskManagerMemorySpec, plan: MemoryPlan, layout: MemoryLayout, room: int, check: _Checker
) -> OomFix | None:
    process = layout.total_process_bytes
    if _process_change(spec, plan, process) is None:
        return None

    def room_at(size: int) -> int | None:
        change = _process_change(spec, plan, size)
        assert change is not None
        return check.gives_room(change[0], change[1])

    low = math.ceil(process / MIB) * MIB  # the first whole MiB not below the current size
    high = low + _PROCESS_SEARCH_LIMIT * room
    if room_at(high) is None:
        return None
    while high - low > MIB:  # the budget grows with the process size: bisect on whole MiB
        middle = low + (high - low) // (2 * MIB) * MIB
        if room_at(middle) is None:
            low = middle
        else:
            high = middle
    size = high if room_at(low) is None else low
    change = _process_change(spec, plan, size)
    assert change is not None
    after = check.gives_room(change[0], change[1])
    assert after is not None
    summary = f"raise {change[2]}: Flink's fractions grow the JVM overhead" + (
        " and managed memory" if check.before.managed else ""
    )
    return _fix(change[0], change[1], summary, after, plan)


def _limit_factor_fix(  # noqa: PLR0917 (the candidates share one signature's inputs)
    spec: FlinkTaskManagerMemorySpec,
    plan: MemoryPlan,
    layout: MemoryLayout,
    budget: Budget,
    room: int,
    limit_bytes: int | None,
    check: _Checker,
) -> OomFix | None:
    if limit_bytes is None:
        return None
    process = layout.total_process_bytes
    wanted = Decimal(process + budget.beyond_process + room) / Decimal(process)
    factor = wanted.quantize(Decimal("0.01"), rounding=ROUND_CEILING)
    for _ in range(3):  # the limit is rounded up to a byte: one more hundredth always suffices
        flink: dict[str, str] = {}
        resources: dict[str, Any] = {}
        if MEMORY_LIMIT_FACTOR in spec.flink_configuration:
            flink[MEMORY_LIMIT_FACTOR] = str(factor)
            where = flink_field(MEMORY_LIMIT_FACTOR)
        else:
            resources["memoryLimitFactor"] = float(factor)
            where = LIMIT_FACTOR_FIELD
        after = check.gives_room(flink, resources) if check.keeps_caps(flink, resources) else None
        if after is not None:
            summary = (
                f"raise {where} to {factor}: room beyond the process size, which the node does not "
                "reserve (the request stays)"
            )
            return _fix(flink, resources, summary, after, plan)
        factor += Decimal("0.01")
    return None


def _fix(
    flink: dict[str, str], resources: dict[str, Any], summary: str, after: int, plan: MemoryPlan
) -> OomFix:
    assert plan.resolved is not None
    fields = [plan.resolved.field_for(key) for key in flink]
    fields += [f"spec.resources.{name}" for name in resources]
    return OomFix(
        flink_configuration=flink,
        resources=Resources.model_validate(resources) if resources else None,
        fields=list(dict.fromkeys(fields)),
        summary=summary,
        budget_bytes=after,
    )


def _flink_size(size_bytes: int) -> str:
    """A size in Flink's syntax: whole MiB as ``<n>m``, else exact bytes as ``<n>b``."""
    return f"{size_bytes // MIB}m" if size_bytes % MIB == 0 else f"{size_bytes}b"


def _bytes(quantity: str | None) -> int | None:
    if quantity is None:
        return None
    try:
        return parse_memory_quantity(quantity).rounded_up
    except QuantityError:
        return None


def _pinned(dynamic_configs: str) -> dict[str, str]:
    """``-D key=value -D key=value`` (the status's dynamicConfigs) as a map."""
    pinned = {}
    for part in dynamic_configs.split("-D "):
        key, equals, value = part.strip().partition("=")
        if equals:
            pinned[key] = value
    return pinned


def _properties(text: str | None) -> dict[str, str]:
    """``key: value`` lines of ``FLINK_PROPERTIES`` (the last occurrence of a key wins, as in Flink)."""
    found = {}
    for line in (text or "").splitlines():
        key, colon, value = line.partition(":")
        if colon and key.strip():
            found[key.strip()] = value.strip()
    return found


def _arguments(arguments: tuple[str, ...]) -> dict[str, str]:
    """``-Dkey=value`` and ``-D key=value`` arguments (Flink's native Kubernetes TaskManagers)."""
    found = {}
    items = list(arguments)
    for index, item in enumerate(items):
        text = item[2:] if item.startswith("-D") and len(item) > 2 else None
        if item == "-D" and index + 1 < len(items):
            text = items[index + 1]
        if text:
            key, equals, value = text.partition("=")
            if equals:
                found[key.strip()] = value.strip()
    return found


def _option_bytes(value: str) -> int | float | str:
    """A pinned value compared by meaning (``1024m`` is ``1g``, ``2.0`` cores is ``2``); else as text."""
    try:
        return parse_memory_size(value)
    except (JavaError, ValueError):  # not a size (cores, slots, any text): compared as a number or text
        pass
    try:
        return float(value)
    except ValueError:
        return value.strip()
