"""One poll decided: the status, the Events, and Initial/Auto's automatic changes with their rules."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

from flink_tm_memory.memory.sizes import MIB
from flink_tm_memory.render.plan import derive_memory_plan
from flink_tm_memory.render.pod_mutation import pod_mutation
from flink_tm_memory.render.recommendation import effective_raw_spec
from flink_tm_memory.render.usage_step import Sample, UsageStep, job_manager_url, usage_step

START = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
PROCESS = "taskmanager.memory.process.size"
PEAKS = {"heap": 500 * MIB, "metaspace": 80 * MIB, "managed": 200 * MIB, "network": 8 * MIB, "direct": 0}


def body_of(mode: str = "Auto", process: str = "4g", **recommendations: Any) -> dict[str, Any]:
    return {
        "apiVersion": "flinkmemory.io/v1alpha1",
        "kind": "FlinkTaskManagerMemory",
        "metadata": {"name": "job", "namespace": "flink", "generation": 1, "uid": "u"},
        "spec": {
            "flinkVersion": "2.2",
            "flinkConfiguration": {PROCESS: process},
            "updateMode": mode,
            "recommendations": {
                "jobManager": {"service": "job-rest"},
                "window": "1h",
                "minObservation": "10m",
                "minChangeInterval": "30m",
                **recommendations,
            },
        },
        "status": {},
    }


def sampled(peaks: dict[str, int] | None = None, version: str = "2.2.1") -> Sample:
    return Sample("Sampled", "1 TaskManager sampled", dict(peaks or PEAKS), 1, version)


def poll(body: dict[str, Any], sample: Sample, at: datetime) -> UsageStep:
    """One step, its patch merged into ``body``'s status as the API server would."""
    step = usage_step(body, sample, at)
    for key, value in step.patch.items():
        if value is None:
            body["status"].pop(key, None)
        else:
            body["status"][key] = copy.deepcopy(value)
    return step


def oom_kills(at: datetime, fix: dict[str, Any] | None) -> dict[str, Any]:
    """``status.oomKills`` as the OOMKilled attribution writes it: one kill at ``at`` with ``fix``."""
    return {
        "count": 1,
        "lastTime": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "lastPod": "tm-0",
        "lastContainer": "taskmanager",
        "budget": "JVM overhead",
        "budgetBytes": 400 * MIB,
        "budgetHuman": "400.000mb (419430400 bytes)",
        **({"fix": {"summary": "pin the JVM overhead", **fix}} if fix is not None else {}),
    }


OVERHEAD_FIX = {
    "flinkConfiguration": {
        "taskmanager.memory.jvm-overhead.min": "700m",
        "taskmanager.memory.jvm-overhead.max": "700m",
        PROCESS: "4396m",
    }
}
UNREACHABLE = Sample("JobManagerUnreachable", "GET http://job-rest.flink.svc:8081/config: connection refused")


def observed(body: dict[str, Any], minutes: int = 11) -> UsageStep:
    poll(body, sampled(), START)
    return poll(body, sampled(), START + timedelta(minutes=minutes))


def test_the_job_manager_is_found_by_url_or_service() -> None:
    assert job_manager_url({"recommendations": {"jobManager": {"url": "http://a:1/"}}}, "ns") == "http://a:1/"
    assert job_manager_url(body_of()["spec"], "flink") == "http://job-rest.flink.svc:8081"


def test_auto_applies_a_material_recommendation_once_observed_long_enough() -> None:
    body = body_of()
    first = poll(body, sampled(), START)
    assert body["status"]["recommendation"]["state"] == "WindowTooShort"
    assert not first.reconcile
    assert "autoUpdates" in body["status"]  # the decision is said even when nothing is applied
    step = poll(body, sampled(), START + timedelta(minutes=11))
    recommendation = body["status"]["recommendation"]
    assert recommendation["state"] == "Recommended"
    assert step.reconcile
    current = body["status"]["autoUpdates"]["current"]
    assert current["set"] == recommendation["target"]["set"]
    assert current["fromProcessBytes"] == 4 << 30
    assert [event.reason for event in step.events] == ["Recommended", "AutoUpdated"]
    # the reconciler derives the spec with it: the layout in effect is the target
    layout = derive_memory_plan(effective_raw_spec(body["spec"], body["status"])).layout
    assert layout is not None
    assert layout.total_process_bytes == recommendation["target"]["processBytes"]
    # the next poll changes nothing and says nothing
    again = poll(body, sampled(), START + timedelta(minutes=12))
    assert not again.reconcile
    assert again.events == []
    assert body["status"]["autoUpdates"]["decision"] == "the target is already in effect"


def test_at_most_one_change_per_interval_and_only_material_ones() -> None:
    body = body_of()
    observed(body)
    applied = body["status"]["autoUpdates"]["current"]
    bigger = {**PEAKS, "heap": 2000 * MIB}
    held = poll(body, sampled(bigger), START + timedelta(minutes=20))
    assert not held.reconcile
    assert body["status"]["autoUpdates"]["current"] == applied
    assert "less than 30m ago" in body["status"]["autoUpdates"]["decision"]
    later = poll(body, sampled(bigger), START + timedelta(minutes=45))
    assert later.reconcile
    assert body["status"]["autoUpdates"]["history"] == [applied]
    assert (
        "taskHeap below the observed peak plus the margin"
        in body["status"]["autoUpdates"]["current"]["reason"]
    )


def test_a_small_move_is_not_material() -> None:
    body = body_of(changeThreshold="90%")
    step = observed(body)
    assert not step.reconcile
    assert "less than 90%" in body["status"]["autoUpdates"]["decision"]


def test_never_lower_right_after_an_oom_kill_and_the_fix_is_a_floor() -> None:
    body = body_of()
    body["status"]["oomKills"] = oom_kills(
        START + timedelta(minutes=5),
        {
            "flinkConfiguration": {
                "taskmanager.memory.jvm-overhead.min": "700m",
                "taskmanager.memory.jvm-overhead.max": "700m",
            }
        },
    )
    observed(body)
    target = body["status"]["recommendation"]["target"]
    current = derive_memory_plan(body["spec"]).layout
    assert current is not None
    moves = {move["component"]: move for move in body["status"]["recommendation"]["components"]}
    for name, size in current.components().items():
        if name in moves:
            assert moves[name]["targetBytes"] >= size, name
    assert moves["jvmOverhead"]["targetBytes"] >= 700 * MIB
    assert "OOM kill" in moves["jvmOverhead"]["why"]
    assert target["processBytes"] >= 4 << 30
    # once the interval has passed, lowering is allowed again, but the fix still holds as a floor
    poll(body, sampled(), START + timedelta(minutes=50))
    moves = {move["component"]: move for move in body["status"]["recommendation"]["components"]}
    assert moves["jvmOverhead"]["targetBytes"] >= 700 * MIB


def test_a_job_manager_of_another_release_is_not_sampled() -> None:
    body = body_of()
    step = poll(body, sampled(version="1.20.5"), START)
    poll_status = body["status"]["usage"]["lastPoll"]
    assert poll_status["reason"] == "VersionMismatch"
    assert "runs Flink 1.20, not 2.2" in poll_status["message"]
    assert body["status"]["usage"].get("buckets", []) == []
    assert [event.reason for event in step.events] == ["VersionMismatch"]
    assert not step.sampled


def test_missing_metrics_are_said_and_nothing_is_guessed() -> None:
    body = body_of()
    step = poll(
        body, Sample("MetricsMissing", "the JobManager reports no Status.JVM.Memory.Heap.Used"), START
    )
    assert body["status"]["usage"]["lastPoll"]["reason"] == "MetricsMissing"
    assert body["status"]["recommendation"]["state"] == "NoUsage"
    assert not step.reconcile
    # a Warning once per new reason, not on every poll
    again = poll(body, Sample("MetricsMissing", "still"), START + timedelta(minutes=1))
    assert again.events == []


def test_stale_peaks_are_not_applied() -> None:
    body = body_of()
    poll(body, sampled(), START)
    step = poll(body, Sample("JobManagerUnreachable", "GET x: refused"), START + timedelta(minutes=11))
    assert body["status"]["recommendation"]["state"] == "Recommended"
    assert not step.reconcile
    assert "last poll of the JobManager failed" in body["status"]["autoUpdates"]["decision"]


def test_apply_and_off_recommend_but_change_nothing() -> None:
    for mode in ("Apply", "Off"):
        body = body_of(mode)
        step = observed(body)
        assert body["status"]["recommendation"]["state"] == "Recommended"
        assert "autoUpdates" not in body["status"]
        assert not step.reconcile


def test_the_history_is_bounded() -> None:
    body = body_of(minChangeInterval="0s", changeThreshold="0%")
    poll(body, sampled(), START)
    at = START + timedelta(minutes=11)
    for index in range(14):
        at += timedelta(minutes=1)
        poll(body, sampled({**PEAKS, "heap": (500 + 100 * index) * MIB}), at)
    assert len(body["status"]["autoUpdates"]["history"]) == 10


def test_initial_gives_new_pods_the_recommendation() -> None:
    body = body_of("Initial")
    observed(body)
    target = body["status"]["recommendation"]["target"]
    pod = {
        "metadata": {"name": "tm-1", "namespace": "flink", "labels": {"flinkmemory.io/profile": "job"}},
        "spec": {"containers": [{"name": "taskmanager", "image": "flink"}]},
    }
    mutation = pod_mutation(pod, body)
    resources = next(op for op in mutation.patch if op["path"].endswith("/resources"))
    assert resources["value"]["requests"]["memory"] == f"{target['processBytes'] // MIB}Mi"


def test_a_resource_without_recommendations_gets_no_usage_status() -> None:
    body = body_of()
    del body["spec"]["recommendations"]
    body["spec"]["updateMode"] = "Apply"
    assert usage_step(body, sampled(), START).patch == {}


def test_a_steady_poll_writes_nothing_until_the_refresh_is_due() -> None:
    body = body_of("Off")
    observed(body)
    quiet = usage_step(body, sampled(), START + timedelta(minutes=12))
    assert quiet.patch == {}
    assert quiet.sampled
    higher = usage_step(body, sampled({**PEAKS, "heap": 900 * MIB}), START + timedelta(minutes=12))
    assert set(higher.patch) >= {"usage", "recommendation"}  # a new peak is written at once
    failing = usage_step(body, Sample("JobManagerUnreachable", "refused"), START + timedelta(minutes=12))
    assert "usage" in failing.patch  # so is a new outcome
    refreshed = usage_step(body, sampled(), START + timedelta(minutes=17))
    assert "usage" in refreshed.patch  # and the status is refreshed every five minutes


def test_an_oom_fix_sized_through_spec_resources_keeps_its_container_change_as_a_floor() -> None:
    body = body_of()
    body["spec"]["flinkConfiguration"] = {}
    body["spec"]["resources"] = {"memory": "4Gi"}
    before = derive_memory_plan(body["spec"]).layout
    assert before is not None
    raised = before.jvm_overhead_bytes + 512 * MIB
    fix = {
        "flinkConfiguration": {
            "taskmanager.memory.jvm-overhead.min": f"{raised}b",
            "taskmanager.memory.jvm-overhead.max": f"{raised}b",
        },
        "resources": {"memory": f"{(4 << 30) + 512 * MIB}"},
    }
    fixed = derive_memory_plan(
        {**body["spec"], "resources": fix["resources"], "flinkConfiguration": fix["flinkConfiguration"]}
    ).layout
    assert fixed is not None
    assert fixed.task_heap_bytes == before.task_heap_bytes  # the fix gives the overhead room, heap kept
    body["status"]["oomKills"] = oom_kills(START, fix)
    observed(body)
    # within the interval nothing is lowered and the fix holds: its layout exactly, overhead pinned as it
    # pins it (not a process size many times larger that reaches the overhead through its fraction)
    assert body["status"]["autoUpdates"]["current"]["processBytes"] == fixed.total_process_bytes
    poll(body, sampled(), START + timedelta(minutes=50))  # past the interval: only the fix's floor holds
    moves = {move["component"]: move for move in body["status"]["recommendation"]["components"]}
    assert moves["jvmOverhead"]["targetBytes"] >= raised
    assert moves["taskHeap"]["targetBytes"] >= fixed.task_heap_bytes


def in_effect(body: dict[str, Any]) -> Any:
    layout = derive_memory_plan(effective_raw_spec(body["spec"], body["status"])).layout
    assert layout is not None
    return layout


def test_an_oom_fix_is_applied_while_the_job_manager_is_unreachable() -> None:
    body = body_of()
    kill = START + timedelta(minutes=1)
    body["status"]["oomKills"] = oom_kills(kill, OVERHEAD_FIX)
    fixed = derive_memory_plan(
        {**body["spec"], "flinkConfiguration": OVERHEAD_FIX["flinkConfiguration"]}
    ).layout
    assert fixed is not None
    before = in_effect(body)
    step = poll(body, UNREACHABLE, START + timedelta(minutes=2))
    assert not step.sampled
    assert step.reconcile
    assert [event.reason for event in step.events] == ["JobManagerUnreachable", "AutoUpdated"]
    assert "applied without waiting for usage" in step.events[1].message
    assert "JobManagerUnreachable" in step.events[1].message
    current = body["status"]["autoUpdates"]["current"]
    assert current["oomKillTime"] == kill.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert current["fromProcessBytes"] == before.total_process_bytes
    assert "jvmOverhead" in current["reason"]
    after = in_effect(body)
    # the fix's layout exactly: the overhead it pins, and nothing lowered
    assert after.total_process_bytes == fixed.total_process_bytes
    assert after.jvm_overhead_bytes == 700 * MIB
    for name, size in before.components().items():
        assert after.components()[name] >= size, name
    # applied once: further failed polls change nothing
    again = poll(body, UNREACHABLE, START + timedelta(minutes=40))
    assert not again.reconcile
    assert body["status"]["autoUpdates"]["current"] == current
    # and once metrics come, the next recommendation keeps the fix's overhead as a floor
    poll(body, sampled(), START + timedelta(minutes=41))
    poll(body, sampled(), START + timedelta(minutes=52))
    assert in_effect(body).jvm_overhead_bytes >= 700 * MIB


def test_an_oom_fix_is_applied_while_the_window_is_too_short_or_without_a_sample() -> None:
    body = body_of()
    body["status"]["oomKills"] = oom_kills(START, OVERHEAD_FIX)
    step = poll(body, sampled(), START + timedelta(minutes=1))
    assert body["status"]["recommendation"]["state"] == "WindowTooShort"
    assert step.reconcile
    assert "observed for" in body["status"]["autoUpdates"]["current"]["reason"]
    assert in_effect(body).jvm_overhead_bytes == 700 * MIB
    no_sample = body_of()
    no_sample["status"]["oomKills"] = oom_kills(START, OVERHEAD_FIX)
    missing = poll(no_sample, Sample("MetricsMissing", "no Status.JVM.Memory.Heap.Used"), START)
    assert missing.reconcile
    assert in_effect(no_sample).jvm_overhead_bytes == 700 * MIB


def test_an_oom_fix_stays_within_max_and_min_process() -> None:
    capped = body_of(maxProcess="4200Mi")
    capped["status"]["oomKills"] = oom_kills(START, OVERHEAD_FIX)
    step = poll(capped, UNREACHABLE, START + timedelta(minutes=1))
    assert not step.reconcile
    assert "above maxProcess (4.102gb): not applied" in capped["status"]["autoUpdates"]["decision"]
    assert "current" not in capped["status"]["autoUpdates"]
    raised = body_of(minProcess="5Gi")
    raised["status"]["oomKills"] = oom_kills(START, OVERHEAD_FIX)
    step = poll(raised, UNREACHABLE, START + timedelta(minutes=1))
    assert step.reconcile
    layout = in_effect(raised)
    assert layout.total_process_bytes == 5 << 30
    assert layout.jvm_overhead_bytes == 700 * MIB


def test_an_oom_fix_is_held_by_the_interval_since_the_last_automatic_change() -> None:
    body = body_of()
    observed(body)  # an automatic change at START + 11m
    assert "current" in body["status"]["autoUpdates"]
    kill = START + timedelta(minutes=15)
    body["status"]["oomKills"] = oom_kills(kill, OVERHEAD_FIX)
    held = poll(body, UNREACHABLE, START + timedelta(minutes=20))
    assert not held.reconcile
    decision = body["status"]["autoUpdates"]["decision"]
    assert "the fix of the OOM kill at 2026-12-07T12:15:00Z held" in decision
    assert "less than 30m ago" in decision
    later = poll(body, UNREACHABLE, START + timedelta(minutes=42))
    assert later.reconcile
    assert body["status"]["autoUpdates"]["current"]["oomKillTime"] == "2026-12-07T12:15:00Z"
    assert in_effect(body).jvm_overhead_bytes >= 700 * MIB


def test_a_kill_without_a_fix_or_initial_mode() -> None:
    body = body_of()
    body["status"]["oomKills"] = oom_kills(START, None)
    assert not poll(body, UNREACHABLE, START + timedelta(minutes=1)).reconcile
    initial = body_of("Initial")
    initial["status"]["oomKills"] = oom_kills(START, OVERHEAD_FIX)
    assert poll(initial, UNREACHABLE, START + timedelta(minutes=1)).reconcile  # new pods get the fix
    assert in_effect(initial).jvm_overhead_bytes == 700 * MIB
    for mode in ("Apply", "Off"):
        other = body_of(mode)
        other["status"]["oomKills"] = oom_kills(START, OVERHEAD_FIX)
        assert not poll(other, UNREACHABLE, START + timedelta(minutes=1)).reconcile


def test_a_malformed_oom_status_is_said_never_a_crash() -> None:
    for malformed in ("garbage", {"count": -1}, {**oom_kills(START, OVERHEAD_FIX), "lastTime": "yesterday"}):
        body = body_of()
        body["status"]["oomKills"] = malformed
        step = poll(body, UNREACHABLE, START + timedelta(minutes=1))
        assert not step.reconcile
        assert "status.oomKills cannot be read" in body["status"]["autoUpdates"]["decision"]
    body = body_of()
    body["status"]["oomKills"] = {**oom_kills(START, OVERHEAD_FIX), "lastTime": "yesterday"}
    assert "lastTime" in usage_step(body, UNREACHABLE, START).patch["autoUpdates"]["decision"]


def test_a_later_kill_of_an_older_pod_keeps_the_fix_as_a_floor_without_applying_it_again() -> None:
    body = body_of()
    fixed_at = START + timedelta(minutes=5)
    body["status"]["oomKills"] = oom_kills(fixed_at, OVERHEAD_FIX)
    observed(body)
    applied = body["status"]["autoUpdates"]["current"]
    assert applied["oomKillTime"] == fixed_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    # an old pod killed during the rollout: the attribution keeps the fix standing, with its time
    later = fixed_at + timedelta(minutes=10)
    body["status"]["oomKills"] = {
        **oom_kills(later, OVERHEAD_FIX),
        "fixTime": fixed_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "count": 2,
    }
    step = poll(body, sampled(), START + timedelta(minutes=20))
    assert not step.reconcile  # the standing fix is in effect: nothing to apply again
    assert body["status"]["autoUpdates"]["current"] == applied
    # nor when the JobManager cannot be read: the fix is not pending again (no second rollout)
    unreachable = poll(body, UNREACHABLE, START + timedelta(minutes=50))
    assert not unreachable.reconcile
    assert body["status"]["autoUpdates"]["current"] == applied
    assert "the fix of the OOM kill" not in body["status"]["autoUpdates"]["decision"]
    # long after both kills, usage alone would lower the overhead: the fix still holds it
    poll(body, sampled(), START + timedelta(minutes=90))
    moves = {move["component"]: move for move in body["status"]["recommendation"]["components"]}
    assert moves["jvmOverhead"]["targetBytes"] >= 700 * MIB
    assert "OOM kill" in moves["jvmOverhead"]["why"]
