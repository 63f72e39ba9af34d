"""What happened when a layout was applied: per object, whether it was written, left, or could not be.

The handler layer records one outcome per object it tried to write; the status, the conditions and
the events are rendered from these values, so they say exactly what the cluster holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from flink_tm_memory.api.v1alpha1 import TargetState
from flink_tm_memory.api.workloads import WorkloadKind
from flink_tm_memory.render.writes import Absent, Create, Decision, Denied, Patch, Refused, Unchanged

KIND_NOT_SERVED = "KindNotServed"
"""The reason of a target whose kind the cluster does not serve (its CRD is not installed)."""


class WriteState(StrEnum):
    CREATED = "Created"
    UPDATED = "Updated"
    UNCHANGED = "Unchanged"
    MISSING = "Missing"
    REFUSED = "Refused"
    DENIED = "Denied"
    FAILED = "Failed"

    @property
    def in_place(self) -> bool:
        """The object holds the layout now."""
        return self in (WriteState.CREATED, WriteState.UPDATED, WriteState.UNCHANGED)

    @property
    def written(self) -> bool:
        return self in (WriteState.CREATED, WriteState.UPDATED)

    @property
    def target_state(self) -> TargetState:
        if self.in_place:
            return TargetState.APPLIED
        return {
            WriteState.MISSING: TargetState.MISSING,
            WriteState.REFUSED: TargetState.CONTAINER_NOT_FOUND,
            WriteState.DENIED: TargetState.NOT_PERMITTED,
        }.get(self, TargetState.FAILED)


def state_of(decision: Decision) -> WriteState:
    """The state a carried-out decision leaves the object in."""
    match decision:
        case Create():
            return WriteState.CREATED
        case Patch():
            return WriteState.UPDATED
        case Unchanged():
            return WriteState.UNCHANGED
        case Absent():
            return WriteState.MISSING
        case Refused():
            return WriteState.REFUSED
        case Denied():
            return WriteState.DENIED


@dataclass(frozen=True, slots=True)
class ConfigMapOutcome:
    name: str
    state: WriteState
    hash: str | None = None
    message: str | None = None
    transient: bool = False
    reason: str | None = None
    """Why it was denied (``render.claims``), when it was."""


@dataclass(frozen=True, slots=True)
class TargetOutcome:
    kind: WorkloadKind
    name: str
    state: WriteState
    container: str | None = None
    message: str | None = None
    transient: bool = False
    reason: str | None = None
    """Why it was denied (``render.claims``), or ``KIND_NOT_SERVED``."""


@dataclass(frozen=True, slots=True)
class ApplyOutcome:
    """Every write of one reconciliation, for the layout of spec generation ``generation``."""

    generation: int
    config_map: ConfigMapOutcome
    targets: tuple[TargetOutcome, ...] = ()

    @property
    def complete(self) -> bool:
        return self.config_map.state.in_place and all(target.state.in_place for target in self.targets)

    @property
    def transient_failure(self) -> bool:
        """A write failed for a reason that may pass (a 5xx, a timeout, repeated conflicts): retry soon."""
        return self.config_map.transient or any(target.transient for target in self.targets)
