"""Reading OOM kills off pods (``render.oom_pods``) and deduplicating them in the status (``render.oom_status``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flink_tm_memory.api.v1alpha1 import OomFix
from flink_tm_memory.api.workloads import WorkloadKind
from flink_tm_memory.render.oom import Attribution, unattributed
from flink_tm_memory.render.oom_pods import oom_sightings, oom_terminations, pod_owner
from flink_tm_memory.render.oom_status import already_recorded, next_oom_status, oom_event, read_oom_status


def oom_pod(
    *,
    state: str = "lastState",
    restarts: int = 1,
    finished: str | None = "2026-12-07T20:00:00Z",
    cid: str | None = "containerd://a",
) -> dict[str, Any]:
    terminated: dict[str, Any] = {"reason": "OOMKilled", "exitCode": 137}
    if finished is not None:
        terminated["finishedAt"] = finished
    if cid is not None:
        terminated["containerID"] = cid
    return {
        "metadata": {
            "namespace": "ns",
            "name": "tm-7d9f-abcde",
            "uid": "u-1",
            "labels": {"pod-template-hash": "7d9f", "app": "tm"},
            "ownerReferences": [{"kind": "ReplicaSet", "name": "tm-7d9f"}],
        },
        "spec": {
            "containers": [
                {"name": "sidecar"},
                {
                    "name": "taskmanager",
                    "resources": {"limits": {"memory": "4Gi"}, "requests": {"memory": "4Gi"}},
                },
            ]
        },
        "status": {
            "containerStatuses": [
                {"name": "sidecar", "restartCount": 0, "state": {"running": {}}},
                {"name": "taskmanager", "restartCount": restarts, state: {"terminated": terminated}},
            ]
        },
    }


def test_an_oom_killed_container_is_seen_with_what_it_ran_with() -> None:
    (seen,) = oom_sightings(oom_pod())
    assert (seen.namespace, seen.pod, seen.uid) == ("ns", "tm-7d9f-abcde", "u-1")
    assert seen.termination.container == "taskmanager"
    assert seen.termination.finished_at == datetime(2026, 12, 7, 20, tzinfo=UTC)
    assert (seen.facts.limit, seen.facts.request) == ("4Gi", "4Gi")
    assert seen.container_names == ("sidecar", "taskmanager")


def test_the_same_incident_in_state_then_last_state_is_one_incident() -> None:
    first = oom_sightings(oom_pod(state="state", restarts=0))[0]
    later = oom_sightings(oom_pod(state="lastState", restarts=1))[0]
    assert first.key() == later.key()
    without_id = oom_sightings(oom_pod(state="state", restarts=0, cid=None))[0]
    restarted = oom_sightings(oom_pod(state="lastState", restarts=1, cid=None))[0]
    assert without_id.key() == restarted.key()  # by finishedAt


def test_other_terminations_are_not_oom_kills() -> None:
    pod = oom_pod()
    pod["status"]["containerStatuses"][1]["lastState"]["terminated"]["reason"] = "Error"
    assert oom_terminations(pod) == []


def test_owners_from_metadata() -> None:
    assert pod_owner(oom_pod()).workloads == ((WorkloadKind.DEPLOYMENT, "tm"),)
    stateful = {"metadata": {"ownerReferences": [{"kind": "StatefulSet", "name": "tm"}]}}
    assert pod_owner(stateful).workloads == ((WorkloadKind.STATEFUL_SET, "tm"),)
    native = {
        "metadata": {"labels": {"app": "job", "component": "taskmanager", "type": "flink-native-kubernetes"}}
    }
    assert pod_owner(native).workloads == ((WorkloadKind.FLINK_DEPLOYMENT, "job"),)
    profiled = {"metadata": {"labels": {"flinkmemory.io/profile": "small"}}}
    assert pod_owner(profiled).profile == "small"
    odd = {
        "metadata": {
            "labels": {"pod-template-hash": "x"},
            "ownerReferences": [{"kind": "ReplicaSet", "name": "rs"}],
        }
    }
    assert pod_owner(odd).workloads == ()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=20,
)


@given(json_values)
def test_malformed_pods_never_raise(value: Any) -> None:
    for pod in (
        value,
        {"metadata": value, "status": value, "spec": value},
        {"status": {"containerStatuses": value}},
    ):
        oom_sightings(pod if isinstance(pod, dict) else {})
        pod_owner(pod if isinstance(pod, dict) else {})


@pytest.mark.parametrize(
    "status",
    [
        {
            "containerStatuses": [
                {
                    "name": "tm",
                    "restartCount": "x",
                    "lastState": {"terminated": {"reason": "OOMKilled", "finishedAt": "not a time"}},
                }
            ]
        }
    ],
)
def test_unreadable_fields_are_dropped_not_fatal(status: dict[str, Any]) -> None:
    pod = {"metadata": {"namespace": "ns", "name": "p", "uid": "u"}, "status": status}
    (seen,) = oom_sightings(pod)
    assert seen.termination.restart_count == 0
    assert seen.termination.finished_at is None


def attribution() -> Attribution:
    return Attribution("JVM overhead", 400 << 20, ["evidence"], True, [])


def test_the_status_deduplicates_across_restarts_of_the_operator() -> None:
    seen = oom_sightings(oom_pod(state="state", restarts=0))[0]
    status = next_oom_status(None, seen, attribution())
    stored = read_oom_status(status.to_manifest())
    assert stored is not None
    assert stored.count == 1
    assert stored.last_time == datetime(2026, 12, 7, 20, tzinfo=UTC)
    assert already_recorded(stored, oom_sightings(oom_pod(state="lastState", restarts=1))[0])
    another = oom_sightings(oom_pod(restarts=2, finished="2026-12-07T20:05:00Z", cid="containerd://b"))[0]
    assert not already_recorded(stored, another)
    assert next_oom_status(stored, another, attribution()).count == 2


def test_only_the_last_incidents_are_kept_and_older_ones_stay_recorded() -> None:
    status = None
    sightings = [
        oom_sightings(oom_pod(restarts=n, finished=f"2026-12-07T20:0{n}:00Z", cid=f"containerd://{n}"))[0]
        for n in range(8)
    ]
    for seen in sightings:
        status = next_oom_status(status, seen, attribution())
    assert status is not None
    assert status.count == 8
    assert len(status.incidents) == 5
    stored = read_oom_status(status.to_manifest())
    assert all(already_recorded(stored, seen) for seen in sightings)


def test_a_malformed_status_starts_afresh() -> None:
    assert read_oom_status({"count": "many"}) is None
    assert read_oom_status("x") is None


def test_the_event_names_the_budget_and_the_pod() -> None:
    seen = oom_sightings(oom_pod())[0]
    event = oom_event(seen, next_oom_status(None, seen, attribution()))
    assert (event.type, event.reason) == ("Warning", "OOMKilled")
    assert "tm-7d9f-abcde" in event.message
    assert "JVM overhead" in event.message
    assert "4Gi" in event.message


def test_an_incident_whose_attribution_failed_is_still_recorded() -> None:
    seen = oom_sightings(oom_pod())[0]
    status = next_oom_status(None, seen, unattributed("KeyError: 'x'"))
    stored = read_oom_status(status.to_manifest())
    assert stored is not None
    assert stored.count == 1
    assert stored.budget == "memory outside the JVM's caps"
    assert stored.fix is None
    assert "KeyError" in stored.evidence[0]


def test_a_kill_proposing_no_fix_keeps_the_standing_fix_and_its_time() -> None:
    fix = OomFix(
        flink_configuration={
            "taskmanager.memory.jvm-overhead.min": "500m",
            "taskmanager.memory.jvm-overhead.max": "500m",
        },
        summary="pin the JVM overhead at 500m",
    )
    first = oom_sightings(oom_pod())[0]
    fixed = next_oom_status(None, first, Attribution("JVM overhead", 400 << 20, ["evidence"], True, [fix]))
    assert (fixed.fix, fixed.fix_time) == (fix, fixed.last_time)
    # a pod of the older layout, killed while the fix rolls out: no fix of its own, the fix stands
    older = oom_sightings(oom_pod(restarts=2, finished="2026-12-07T20:05:00Z", cid="containerd://b"))[0]
    stored = read_oom_status(fixed.to_manifest())
    later = next_oom_status(stored, older, Attribution("JVM overhead", 400 << 20, ["older"], False, []))
    assert later.last_time == datetime(2026, 12, 7, 20, 5, tzinfo=UTC)
    assert later.fix == fix
    assert later.fix_time == datetime(2026, 12, 7, 20, tzinfo=UTC)
    assert "The fix of the kill at 2026-12-07T20:00:00Z stands: pin the JVM overhead at 500m." in (
        oom_event(older, later).message
    )
    # a status without a fix ever proposed stays without one
    assert next_oom_status(None, older, attribution()).fix is None
