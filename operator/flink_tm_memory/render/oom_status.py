"""``status.oomKills`` after one more incident, whether an incident is already in it, and its Event.

Deduplication lives in the status, not only in the operator's memory, so an operator restarted (or
a new leader) that lists every pod again does not count, nor announce, an incident twice. An
incident is recorded if ``incidents`` (the last ``OOM_INCIDENTS_KEPT``) holds it (the same pod UID
and container, and the same terminated container ID, else the same ``finishedAt``, else the same
restart count), or if it ended before the oldest incident kept while older ones were dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from flink_tm_memory.api.v1alpha1 import OOM_INCIDENTS_KEPT, OomIncident, OomKillsStatus
from flink_tm_memory.memory.sizes import format_human
from flink_tm_memory.render.events import WARNING, EventSpec
from flink_tm_memory.render.oom import Attribution
from flink_tm_memory.render.oom_pods import OomSighting

OOM_KILLED_REASON = "OOMKilled"


def read_oom_status(value: Any) -> OomKillsStatus | None:
    """``status.oomKills`` as stored; None when absent or unreadable (it is then started afresh)."""
    if not isinstance(value, Mapping):
        return None
    try:
        return OomKillsStatus.model_validate(value)
    except ValidationError:
        return None


def incident_of(sighting: OomSighting) -> OomIncident:
    termination = sighting.termination
    return OomIncident(
        pod=sighting.pod,
        uid=sighting.uid,
        container=termination.container,
        restart_count=termination.restart_count,
        time=termination.finished_at,
        container_id=termination.container_id,
    )


def same_incident(recorded: OomIncident, seen: OomIncident) -> bool:
    if (recorded.uid, recorded.container) != (seen.uid, seen.container):
        return False
    if recorded.container_id and seen.container_id:
        return recorded.container_id == seen.container_id
    if recorded.time is not None and seen.time is not None:
        return recorded.time == seen.time
    return recorded.restart_count == seen.restart_count


def already_recorded(previous: OomKillsStatus | None, sighting: OomSighting) -> bool:
    """Whether ``previous`` already counts the incident ``sighting`` shows."""
    if previous is None:
        return False
    seen = incident_of(sighting)
    if any(same_incident(recorded, seen) for recorded in previous.incidents):
        return True
    times = [incident.time for incident in previous.incidents if incident.time is not None]
    dropped = previous.count > len(previous.incidents)
    return dropped and bool(times) and seen.time is not None and seen.time < min(times)


def next_oom_status(
    previous: OomKillsStatus | None, sighting: OomSighting, attribution: Attribution
) -> OomKillsStatus:
    """The status after one more incident: counted, the last one described, the fix proposed."""
    incident = incident_of(sighting)
    incidents = [*(previous.incidents if previous is not None else []), incident][-OOM_INCIDENTS_KEPT:]
    if attribution.fixes:
        fix, alternatives, fix_time = attribution.fixes[0], attribution.fixes[1:], incident.time
    elif previous is not None and previous.fix is not None:
        # A pod of an older layout killed during the rollout of a fix tells nothing against the fix:
        # it stands (and with it the floor Auto keeps), or the next recommendation could undo it.
        fix, alternatives = previous.fix, previous.alternatives
        fix_time = previous.fix_time or previous.last_time
    else:
        fix, alternatives, fix_time = None, [], None
    return OomKillsStatus(
        count=(previous.count if previous is not None else 0) + 1,
        last_time=incident.time,
        last_pod=sighting.pod,
        last_container=incident.container,
        container_limit=sighting.facts.limit,
        budget=attribution.budget,
        budget_bytes=attribution.budget_bytes,
        budget_human=format_human(attribution.budget_bytes),
        ran_derived_layout=attribution.ran_derived_layout,
        evidence=attribution.evidence,
        fix=fix,
        fix_time=fix_time,
        alternatives=alternatives,
        incidents=incidents,
    )


def kills_of_pod(previous: OomKillsStatus | None, sighting: OomSighting) -> int:
    """This pod's incidents kept in the status, plus this one."""
    kept = previous.incidents if previous is not None else []
    return 1 + sum(1 for incident in kept if incident.uid == sighting.uid)


def oom_event(sighting: OomSighting, status: OomKillsStatus) -> EventSpec:
    """The one Warning Event of an incident: where, which budget ran out, and the fix."""
    limit = f"memory limit {sighting.facts.limit}" if sighting.facts.limit else "no memory limit"
    message = (
        f"TaskManager container {sighting.termination.container} of pod {sighting.pod} was killed for "
        f"memory (OOMKilled, {limit}): the {status.budget} budget of {status.budget_human} ran out "
        "(heap, direct memory and metaspace are capped by the JVM)."
    )
    if status.ran_derived_layout is False:
        message += " The pod did not run the layout in the status."
    if status.fix is not None and status.fix_time is not None and status.fix_time != status.last_time:
        message += (
            f" The fix of the kill at {status.fix_time:%Y-%m-%dT%H:%M:%SZ} stands: {status.fix.summary}."
        )
    elif status.fix is not None:
        message += f" Fix: {status.fix.summary}."
    return EventSpec(WARNING, OOM_KILLED_REASON, message)
