"""Recommendations from usage, end to end against the emulated API server and a fake JobManager on 127.0.0.1.

The operator polls the fake JobManager's REST API, keeps the window in the status, recommends, and in
``updateMode: Auto`` rolls the Deployment target to the recommendation; the window outlives an
operator restart; an unreachable JobManager or missing metrics are said in the status, never guessed.
"""

from __future__ import annotations

from typing import Any

from flink_tm_memory.cluster.flink_rest import HEAP, METASPACE
from flink_tm_memory.render.plan import derive_memory_plan
from flink_tm_memory.render.recommendation import effective_raw_spec
from tests.fake_job_manager import MIB, FakeJobManager
from tests.integration.conftest import StartOperator
from tests.integration.emulator import ApiEmulator
from tests.integration.kubectl import (
    CONFIG_MAPS,
    DEPLOYMENTS,
    MEMORIES,
    Kubectl,
    deployment,
    eventually,
    ready,
)
from tests.integration.test_mutating_webhook import (  # the webhook's client and the pod helpers
    MutatingWebhook,
    apply_patch,
    decoded_patch,
    mutating_webhook,  # noqa: F401 (a fixture)
    pod,
    pod_review,
    properties,
)

PROCESS = "taskmanager.memory.process.size"
WAIT = 60.0
"""Generous: the machine is shared; every wait ends as soon as its condition holds."""


def memory(name: str, url: str, mode: str = "Auto", **recommendations: Any) -> dict[str, Any]:
    return {
        "apiVersion": "flinkmemory.io/v1alpha1",
        "kind": "FlinkTaskManagerMemory",
        "metadata": {"name": name},
        "spec": {
            "flinkVersion": "2.2",
            "flinkConfiguration": {PROCESS: "4g"},
            "updateMode": mode,
            "targets": {"workloads": [{"kind": "Deployment", "name": "flink-taskmanager"}]},
            "recommendations": {
                "jobManager": {"url": url},
                "window": "1h",
                "minObservation": "0s",
                "pollInterval": "5s",
                **recommendations,
            },
        },
    }


def requested_memory(kubectl: Kubectl) -> str | None:
    body = kubectl.get(DEPLOYMENTS, "flink-taskmanager") or {}
    containers = body.get("spec", {}).get("template", {}).get("spec", {}).get("containers", [{}])
    value = containers[0].get("resources", {}).get("requests", {}).get("memory")
    return str(value) if value is not None else None


async def test_auto_rolls_the_deployment_to_the_recommendation(
    operator: object, kubectl: Kubectl, emulator: ApiEmulator
) -> None:
    await kubectl.create(
        DEPLOYMENTS,
        deployment("flink-taskmanager", [{"name": "taskmanager", "image": "flink"}], for_memory="job"),
    )
    async with FakeJobManager() as job_manager:
        await kubectl.create(MEMORIES, memory("job", job_manager.url))

        def applied() -> dict[str, Any] | None:
            status = kubectl.status("job")
            return status if (status.get("autoUpdates") or {}).get("current") else None

        status = await eventually(applied, WAIT, what="the automatic change")
        target = status["recommendation"]["target"]
        assert status["autoUpdates"]["current"]["set"] == target["set"]
        assert status["usage"]["lastPoll"]["reason"] == "Sampled"
        assert status["usage"]["lastPoll"]["taskManagers"] == 2
        assert status["usage"]["peaks"]["heap"] == 400 * MIB
        expected = f"{target['processBytes'] // MIB}Mi"
        await eventually(lambda: requested_memory(kubectl) == expected, WAIT, what="the Deployment's rollout")
        config_map = kubectl.get(CONFIG_MAPS, "job-flink-tm-memory") or {}
        text = "\n".join(str(value) for value in config_map.get("data", {}).values())
        assert f"{PROCESS}: {target['set'][PROCESS]}" in text
        await eventually(
            lambda: kubectl.status("job").get("breakdown", {}).get("totalProcess") == target["processBytes"],
            WAIT,
            what="the status describing the recommended layout",
        )
        await ready(kubectl, "job", timeout=WAIT)
        reasons = [event.get("reason") for event in kubectl.events("job")]
        assert "AutoUpdated" in reasons
        assert "Recommended" in reasons


async def test_apply_mode_recommends_and_leaves_the_spec_in_force(operator: object, kubectl: Kubectl) -> None:
    async with FakeJobManager() as job_manager:
        await kubectl.create(MEMORIES, memory("apply", job_manager.url, mode="Apply"))

        def recommended() -> dict[str, Any] | None:
            status = kubectl.status("apply")
            return status if (status.get("recommendation") or {}).get("state") == "Recommended" else None

        status = await eventually(recommended, WAIT, what="the recommendation")
        assert "autoUpdates" not in status
        assert status["breakdown"]["totalProcess"] == 4 << 30


async def test_an_unreachable_job_manager_and_missing_metrics_are_said(
    operator: object, kubectl: Kubectl
) -> None:
    async with FakeJobManager() as job_manager:
        del job_manager.metrics[METASPACE]
        await kubectl.create(MEMORIES, memory("missing", job_manager.url))

        def polled() -> dict[str, Any] | None:
            status = kubectl.status("missing")
            return status if (status.get("usage") or {}).get("lastPoll") else None

        status = await eventually(polled, WAIT, what="the first poll")
        assert status["usage"]["lastPoll"]["reason"] == "MetricsMissing"
        assert METASPACE in status["usage"]["lastPoll"]["message"]
        assert status["recommendation"]["state"] == "NoUsage"
        assert "autoUpdates" not in status or not status["autoUpdates"].get("current")
        url = job_manager.url
    await kubectl.create(MEMORIES, memory("gone", url))  # the fake JobManager has stopped

    def failed() -> dict[str, Any] | None:
        status = kubectl.status("gone")
        return status if (status.get("usage") or {}).get("lastPoll") else None

    status = await eventually(failed, WAIT, what="the failed poll")
    assert status["usage"]["lastPoll"]["reason"] == "JobManagerUnreachable"
    assert status["recommendation"]["state"] == "NoUsage"


async def test_the_window_outlives_an_operator_restart(
    start_operator: StartOperator, kubectl: Kubectl
) -> None:
    async with FakeJobManager() as job_manager:
        job_manager.metrics[HEAP] = 900 * MIB
        first = await start_operator()
        await kubectl.create(MEMORIES, memory("kept", job_manager.url, mode="Off"))

        def sampled(count: int) -> dict[str, Any] | None:
            usage = kubectl.status("kept").get("usage") or {}
            samples = sum(bucket["samples"] for bucket in usage.get("buckets", []))
            return usage if samples >= count else None

        before = await eventually(lambda: sampled(1), WAIT, what="the first sample")
        await first.stop()
        # After the restart the heap is lower (the window must still remember 900 MiB) and the
        # metaspace higher (a new peak: the restarted operator writes the status).
        job_manager.metrics[HEAP] = 100 * MIB
        job_manager.metrics[METASPACE] = 300 * MIB
        await start_operator()

        def new_peak() -> dict[str, Any] | None:
            usage = kubectl.status("kept").get("usage") or {}
            return usage if (usage.get("peaks") or {}).get("metaspace") == 300 * MIB else None

        after = await eventually(new_peak, WAIT, what="a sample after the restart")
        assert after["since"] == before["since"]
        assert after["peaks"]["heap"] == 900 * MIB


async def test_initial_writes_the_config_map_and_leaves_the_running_workload_alone(
    operator: object, kubectl: Kubectl, emulator: ApiEmulator
) -> None:
    await kubectl.create(
        DEPLOYMENTS,
        deployment("flink-taskmanager", [{"name": "taskmanager", "image": "flink"}], for_memory="initial"),
    )
    async with FakeJobManager() as job_manager:
        await kubectl.create(MEMORIES, memory("initial", job_manager.url, mode="Initial"))

        def applied() -> dict[str, Any] | None:
            status = kubectl.status("initial")
            return status if (status.get("autoUpdates") or {}).get("current") else None

        status = await eventually(applied, WAIT, what="the recommendation applied")
        target = status["autoUpdates"]["current"]

        def config_map_holds_it() -> bool:
            config_map = kubectl.get(CONFIG_MAPS, "initial-flink-tm-memory") or {}
            text = "\n".join(str(value) for value in config_map.get("data", {}).values())
            return f"{PROCESS}: {target['set'][PROCESS]}" in text

        await eventually(config_map_holds_it, WAIT, what="the ConfigMap with the recommendation")
    assert emulator.operator_writes(DEPLOYMENTS) == []
    assert requested_memory(kubectl) is None


async def test_pods_of_an_auto_rollout_are_admitted_with_the_recommendation(
    mutating_webhook: MutatingWebhook,  # noqa: F811 (the fixture imported above)
    kubectl: Kubectl,
) -> None:
    async with FakeJobManager() as job_manager:
        manifest = memory("admitted", job_manager.url)
        del manifest["spec"]["targets"]
        await kubectl.create(MEMORIES, manifest)

        def applied() -> dict[str, Any] | None:
            status = kubectl.status("admitted")
            return status if (status.get("autoUpdates") or {}).get("current") else None

        change = (await eventually(applied, WAIT, what="the recommendation applied"))["autoUpdates"][
            "current"
        ]
    before = pod("admitted")
    response = await mutating_webhook.admit(pod_review(before))
    after = apply_patch(before, decoded_patch(response))
    taskmanager = after["spec"]["containers"][0]
    assert taskmanager["resources"]["requests"]["memory"] == f"{change['processBytes'] // MIB}Mi"
    layout = derive_memory_plan(
        effective_raw_spec(manifest["spec"], {"autoUpdates": {"current": change}})
    ).layout
    assert layout is not None
    assert properties(taskmanager) == layout.pinned_options()
