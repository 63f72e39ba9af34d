"""Why a slot's managed memory goes where it goes, in words: for a share of nothing, and for memory nobody uses.

Flink reserves managed memory whether or not anything in the job uses it. With the default ``hashmap``
state backend, no batch operators and no Python functions, every consumer's share is 0 and the whole
reserve (40 % of total Flink memory by default) sits unused: the most common waste in a TaskManager
layout, and invisible in the split's numbers alone (a weight of 70, a fraction of 0). So:

- ``share_reason`` says why a share is 0 bytes (the state backend keeps its state on the heap, and which
  field or default decided that);
- ``unused_managed_memory`` is an Info note when managed memory is reserved and no consumer takes any of
  it: what decided each consumer, and the two ways out (declare the consumers the job has in
  ``spec.consumers``, or set ``taskmanager.memory.managed.size: 0``). It is advice, not a verdict: the
  operator cannot see the job, so the note says what would make it true.
"""

from __future__ import annotations

from collections.abc import Mapping

from flink_tm_memory.api.resolve import ResolvedSpec
from flink_tm_memory.api.v1alpha1 import FlinkTaskManagerMemorySpec, NoteLevel, NoteStatus, StateBackend
from flink_tm_memory.memory.configuration import ConfigValue
from flink_tm_memory.memory.engine import derive_task_manager_memory
from flink_tm_memory.memory.failures import JavaError
from flink_tm_memory.memory.meant import format_size
from flink_tm_memory.memory.options import MANAGED_FRACTION, MANAGED_SIZE, TASK_HEAP
from flink_tm_memory.memory.sizes import format_human, parse_memory_size
from flink_tm_memory.memory.versions import FlinkVersion
from flink_tm_memory.memory.weights import ConsumerShare, ManagedMemorySplit, ManagedMemoryUseCase

MANAGED_MEMORY_UNUSED = "ManagedMemoryUnused"
_BACKEND_KEYS = ("state.backend.type", "state.backend")
_USES_FIELD = "spec.consumers.stateBackendUsesManagedMemory"
_BACKEND_FIELD = "spec.consumers.stateBackend"


def share_reason(
    share: ConsumerShare, spec: FlinkTaskManagerMemorySpec, resolved: ResolvedSpec
) -> str | None:
    """Why ``share`` gets no managed memory, or None when it gets some (or its fraction is a conflict)."""
    if share.bytes != 0:
        return None
    if share.use_case is ManagedMemoryUseCase.STATE_BACKEND:
        return f"Takes no managed memory: {_backend_on_heap(spec, resolved)}."
    return "Its fraction of the slot's managed memory rounds down to 0 bytes."


def unused_managed_memory(
    split: ManagedMemorySplit | None,
    managed_bytes: int,
    spec: FlinkTaskManagerMemorySpec,
    resolved: ResolvedSpec,
) -> NoteStatus | None:
    """An Info note when managed memory is reserved and every consumer of the split takes 0 bytes of it."""
    if split is None or managed_bytes == 0 or split.problems:
        return None
    if any(share.bytes for share in split.shares):
        return None
    configured = [key for key in (MANAGED_SIZE.key, MANAGED_FRACTION.key) if key in resolved.configuration]
    reserved = f"the {format_human(managed_bytes)} of managed memory" + (
        f" ({' and '.join(configured)})" if configured else " (Flink's default fraction)"
    )
    way_out = _way_out(resolved, managed_bytes)
    return NoteStatus(
        level=NoteLevel.INFO,
        code=MANAGED_MEMORY_UNUSED,
        message=(
            f"No consumer takes managed memory: {_backend_on_heap(spec, resolved)}, and "
            f"{_other_consumers(spec)}, so {reserved} are reserved for nothing. If the job has no batch "
            f"operators (sorts, hash joins, hash aggregations) and no Python functions, {way_out}; "
            "if it has, declare them in spec.consumers."
        ),
        keys=configured,
        fields=["spec.consumers"],
    )


def release_managed_memory(
    configuration: Mapping[str, ConfigValue], version: FlinkVersion, managed_bytes: int
) -> dict[str, str] | None:
    """The smallest change Flink accepts that reserves no managed memory, as options to set, or None.

    ``managed.size: 0`` (an explicit size wins over the fraction); when that alone conflicts with a
    configured task heap (a total fixed too), the task heap takes the room as well."""
    release = {MANAGED_SIZE.key: "0"}
    if _accepted({**configuration, **release}, version):
        return release
    task_heap = _configured_bytes(configuration, TASK_HEAP.key)
    if task_heap is not None:
        release[TASK_HEAP.key] = format_size(task_heap + managed_bytes)
        if _accepted({**configuration, **release}, version):
            return release
    return None


def _way_out(resolved: ResolvedSpec, managed_bytes: int) -> str:
    release = release_managed_memory(resolved.configuration, resolved.version, managed_bytes)
    if release is None:
        return f"lower {MANAGED_SIZE.key} (0 conflicts with the other sizes configured)"
    options = " and ".join(f"{key}: {value}" for key, value in release.items())
    why = " to give the room to the task heap" if TASK_HEAP.key in release else " to stop reserving it"
    return f"set {options}{why}"


def _accepted(config: Mapping[str, ConfigValue], version: FlinkVersion) -> bool:
    return derive_task_manager_memory(config, version, thorough=False).ok


def _configured_bytes(configuration: Mapping[str, ConfigValue], key: str) -> int | None:
    text = configuration.get(key)
    if text is None:
        return None
    try:
        return parse_memory_size(str(text))
    except JavaError:
        return None


def _backend_on_heap(spec: FlinkTaskManagerMemorySpec, resolved: ResolvedSpec) -> str:
    consumers = spec.consumers
    if consumers.state_backend_uses_managed_memory is False:
        return f"{_USES_FIELD} is false"
    if consumers.state_backend is StateBackend.HASHMAP:
        return f"the hashmap state backend ({_BACKEND_FIELD}) keeps its state on the JVM heap"
    for key in _BACKEND_KEYS:
        if key in resolved.configuration:
            return f"the state backend {key}: {resolved.configuration[key]} keeps its state on the JVM heap"
    version = resolved.version
    if version.state_backend_defaults_to_hashmap:
        return f"the hashmap state backend, Flink {version.name}'s default, keeps its state on the JVM heap"
    return (
        f"no state backend is configured, and Flink {version.name}'s default keeps its state on the JVM heap"
    )


def _other_consumers(spec: FlinkTaskManagerMemorySpec) -> str:
    python = spec.consumers.python
    if python:
        return "the Python functions spec.consumers.python declares do not use managed memory here"
    return "spec.consumers declares no operators or Python functions that use it"
