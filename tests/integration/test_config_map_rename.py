"""A resource's ConfigMap renamed (``spec.targets.configMap.name``): the new one is written, the old one kept.

The operator cannot delete (its RBAC has no delete verb, by design), and the old ConfigMap may still
be mounted by TaskManagers started before the rename. So it stays as it was, still owned by the
resource (the garbage collector deletes it with the resource: never an orphan), and the operator no
longer writes or repairs it; the status names only the current one.
"""

from __future__ import annotations

from tests.integration.emulator import ApiEmulator
from tests.integration.kubectl import (
    CONFIG_MAPS,
    MEMORIES,
    Kubectl,
    eventually,
    observed,
    ready,
    sample,
    stays,
)

OLD = "process-size-flink-tm-memory"
NEW = "flink-config-v2"


async def test_a_renamed_configmap_is_written_anew_and_the_old_one_kept_owned_and_unwritten(
    operator: object, kubectl: Kubectl, emulator: ApiEmulator
) -> None:
    await kubectl.create(MEMORIES, sample("process-size"))
    await ready(kubectl, "process-size")
    old = kubectl.get(CONFIG_MAPS, OLD) or {}

    await kubectl.patch(MEMORIES, "process-size", {"spec": {"targets": {"configMap": {"name": NEW}}}})
    await observed(kubectl, "process-size", 2)
    status = await ready(kubectl, "process-size")
    await kubectl.patch(
        MEMORIES, "process-size", {"spec": {"flinkConfiguration": {"taskmanager.memory.process.size": "4g"}}}
    )
    status = await observed(kubectl, "process-size", 3)
    await ready(kubectl, "process-size")
    await kubectl.patch(CONFIG_MAPS, OLD, {"data": {"jvm-parameters": "edited"}})

    uid = (kubectl.get(MEMORIES, "process-size") or {})["metadata"]["uid"]
    new = kubectl.get(CONFIG_MAPS, NEW) or {}
    assert status["applied"]["configMap"]["name"] == NEW
    assert new["data"]["jvm-parameters"] == status["jvmParameters"]
    assert [owner["uid"] for owner in new["metadata"]["ownerReferences"]] == [uid]
    kept = kubectl.get(CONFIG_MAPS, OLD) or {}
    assert [owner["uid"] for owner in kept["metadata"]["ownerReferences"]] == [uid]
    await stays(lambda: (kubectl.get(CONFIG_MAPS, OLD) or {})["data"]["jvm-parameters"] == "edited", 1.0)
    assert {key: value for key, value in kept["data"].items() if key != "jvm-parameters"} == {
        key: value for key, value in old["data"].items() if key != "jvm-parameters"
    }

    await kubectl.delete(MEMORIES, "process-size")
    await observed_gone(kubectl)


async def observed_gone(kubectl: Kubectl) -> None:

    await eventually(
        lambda: kubectl.get(CONFIG_MAPS, OLD) is None and kubectl.get(CONFIG_MAPS, NEW) is None,
        what="both ConfigMaps garbage-collected with the resource",
    )
