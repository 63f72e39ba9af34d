"""The mutating webhook's JSONPatch, applied to sample pods: what changes, what stays, and why nothing did."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from flink_tm_memory.render.plan import derive_memory_plan
from flink_tm_memory.render.pod_mutation import (
    FLINK_PROPERTIES,
    MUTATED_ANNOTATION,
    PROFILE_LABEL,
    merge_flink_properties,
    pod_mutation,
    pointer,
)

SAMPLES = Path(__file__).resolve().parents[3] / "manifests" / "samples"


def sample(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((SAMPLES / name).read_text())
    loaded["metadata"]["generation"] = 3
    return copy.deepcopy(loaded)


def pinned_of(resource: dict[str, Any]) -> dict[str, str]:
    layout = derive_memory_plan(resource["spec"]).layout
    assert layout is not None
    return layout.pinned_options()


def pod(profile: str | None, *containers: dict[str, Any], **metadata: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"generateName": "tm-", "namespace": "flink", **metadata}
    if profile is not None:
        meta.setdefault("labels", {})[PROFILE_LABEL] = profile
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": {"containers": list(containers)}}


def container(name: str, **fields: Any) -> dict[str, Any]:
    return {"name": name, "image": "flink:2.2", **fields}


def apply_patch(document: dict[str, Any], patch: list[dict[str, Any]]) -> dict[str, Any]:
    """RFC 6902 add, replace and remove, on a copy; a missing parent or member raises, as the API server's does."""
    result = copy.deepcopy(document)
    for operation in patch:
        *parents, last = [
            part.replace("~1", "/").replace("~0", "~") for part in operation["path"].split("/")[1:]
        ]
        target: Any = result
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        op = operation["op"]
        if isinstance(target, list):
            if op == "add":
                target.insert(len(target) if last == "-" else int(last), operation["value"])
            elif op == "replace":
                target[int(last)] = operation["value"]
            else:
                del target[int(last)]
        elif op == "add":
            target[last] = operation["value"]
        elif op == "replace":
            if last not in target:
                raise KeyError(last)
            target[last] = operation["value"]
        else:
            del target[last]
    return result


def properties(entry: dict[str, Any]) -> dict[str, str]:
    lines = [line.split(":", 1) for line in entry["env"][-1]["value"].splitlines()]
    return {key.strip(): value.strip() for key, value in lines}


def test_an_opted_in_bare_pod_gets_resources_flink_properties_and_the_audit_annotation() -> None:
    resource = sample("process-size.yaml")
    before = pod("process-size", container("taskmanager"))

    mutation = pod_mutation(before, resource)
    after = apply_patch(before, mutation.patch)

    assert mutation.changed
    assert mutation.warnings == []
    tm = after["spec"]["containers"][0]
    assert tm["resources"] == {
        "requests": {"memory": "1728Mi", "cpu": "2"},
        "limits": {"memory": "1728Mi", "cpu": "2"},
    }
    assert [entry["name"] for entry in tm["env"]] == [FLINK_PROPERTIES]
    assert properties(tm) == pinned_of(resource)
    assert after["metadata"]["annotations"] == {
        MUTATED_ANNOTATION: "process-size generation 3: container taskmanager: memory=1728Mi (limit 1728Mi), "
        f"cpu=2 (limit 2), pinned {len(pinned_of(resource))} options in FLINK_PROPERTIES"
    }
    assert {key: value for key, value in after["metadata"].items() if key != "annotations"} == before[
        "metadata"
    ]
    assert {key: value for key, value in tm.items() if key not in ("resources", "env")} == container(
        "taskmanager"
    )
    assert after["kind"] == "Pod"


def test_annotation_keys_are_escaped_as_rfc_6901_pointers() -> None:
    before = pod("process-size", container("taskmanager"), annotations={"team": "data"})

    mutation = pod_mutation(before, sample("process-size.yaml"))

    assert mutation.patch[-1]["path"] == "/metadata/annotations/flinkmemory.io~1mutated"
    assert apply_patch(before, mutation.patch)["metadata"]["annotations"]["team"] == "data"
    assert pointer("a~b", "c/d", 0) == "/a~0b/c~1d/0"


def test_existing_resources_env_and_other_containers_are_kept_and_only_owned_amounts_change() -> None:
    sidecar = container("log-shipper", resources={"requests": {"memory": "64Mi"}})
    tm = container(
        "flink-main-container",
        resources={
            "requests": {"memory": "1Gi", "ephemeral-storage": "1Gi"},
            "limits": {"nvidia.com/gpu": "1"},
        },
        env=[
            {"name": "ENABLE_BUILT_IN_PLUGINS", "value": "flink-s3.jar"},
            {
                "name": FLINK_PROPERTIES,
                "value": "taskmanager.memory.managed.size: 1g\nstate.backend.type: rocksdb",
            },
        ],
    )
    before = pod("deployment-target", sidecar, tm)
    resource = sample("deployment-target.yaml")

    after = apply_patch(before, pod_mutation(before, resource).patch)

    shipped, main = after["spec"]["containers"]
    assert shipped == sidecar
    assert main["resources"] == {
        "requests": {"memory": "4Gi", "cpu": "2", "ephemeral-storage": "1Gi"},
        "limits": {"nvidia.com/gpu": "1", "memory": "4Gi", "cpu": "2"},
    }
    assert main["env"][0] == {"name": "ENABLE_BUILT_IN_PLUGINS", "value": "flink-s3.jar"}
    assert properties(main) == {"state.backend.type": "rocksdb", **pinned_of(resource)}
    assert main["env"][1]["value"].startswith("state.backend.type: rocksdb\n")


def test_a_container_the_resource_names_is_chosen_over_the_default_names() -> None:
    before = pod("deployment-target", container("flink-main-container"), container("taskmanager"))

    after = apply_patch(before, pod_mutation(before, sample("deployment-target.yaml")).patch)

    assert "resources" not in after["spec"]["containers"][0]
    assert after["spec"]["containers"][1]["resources"]["requests"]["memory"] == "4Gi"


def test_the_only_container_is_the_task_manager_whatever_its_name() -> None:
    before = pod("process-size", container("worker"))

    after = apply_patch(before, pod_mutation(before, sample("process-size.yaml")).patch)

    assert after["spec"]["containers"][0]["resources"]["limits"]["memory"] == "1728Mi"


def test_a_pod_with_several_unknown_containers_is_left_unchanged_with_the_reason() -> None:
    before = pod("process-size", container("worker"), container("sidecar"))

    mutation = pod_mutation(before, sample("process-size.yaml"))

    assert not mutation.changed
    assert mutation.patch == []
    assert "worker, sidecar" in mutation.warnings[0]
    assert mutation.warnings[0].endswith("The pod is admitted unchanged.")


def test_a_pod_that_did_not_opt_in_gets_no_patch_and_no_warning() -> None:
    mutation = pod_mutation(pod(None, container("taskmanager")), sample("process-size.yaml"))

    assert (mutation.patch, mutation.warnings, mutation.changed) == ([], [], False)
    assert pod_mutation({}, None).patch == []


def test_a_missing_resource_leaves_the_pod_unchanged_with_a_warning() -> None:
    mutation = pod_mutation(pod("gone", container("taskmanager")), None)

    assert mutation.patch == []
    assert mutation.warnings == [
        f"FlinkTaskManagerMemory gone (label {PROFILE_LABEL}) does not exist in flink. "
        "The pod is admitted unchanged."
    ]


def test_an_invalid_resource_leaves_the_pod_unchanged_and_names_its_first_conflict() -> None:
    mutation = pod_mutation(pod("conflicting", container("taskmanager")), sample("conflicting.yaml"))

    assert mutation.patch == []
    assert mutation.warnings[0].startswith("FlinkTaskManagerMemory conflicting is invalid: ")
    assert "ProcessBelowFlinkAndMetaspace: The configured Total Process Memory" in mutation.warnings[0]


def test_a_resource_in_update_mode_off_leaves_the_pod_unchanged() -> None:
    resource = sample("process-size.yaml")
    resource["spec"]["updateMode"] = "Off"

    mutation = pod_mutation(pod("process-size", container("taskmanager")), resource)

    assert mutation.patch == []
    assert "updateMode Off" in mutation.warnings[0]


def test_flink_properties_from_value_from_cannot_be_merged_so_nothing_changes() -> None:
    env = [{"name": FLINK_PROPERTIES, "valueFrom": {"configMapKeyRef": {"name": "conf", "key": "props"}}}]

    mutation = pod_mutation(
        pod("process-size", container("taskmanager", env=env)), sample("process-size.yaml")
    )

    assert mutation.patch == []
    assert "valueFrom" in mutation.warnings[0]


def test_a_pod_already_mutated_gets_no_second_patch() -> None:
    resource = sample("process-size.yaml")
    before = pod("process-size", container("taskmanager", env=[{"name": "TZ", "value": "UTC"}]))
    once = apply_patch(before, pod_mutation(before, resource).patch)

    again = pod_mutation(once, resource)

    assert once["spec"]["containers"][0]["env"][0] == {"name": "TZ", "value": "UTC"}
    assert (again.patch, again.warnings) == ([], [])


def test_equal_quantities_written_differently_are_not_rewritten() -> None:
    resources = {
        "requests": {"memory": "1811939328", "cpu": "2000m"},
        "limits": {"memory": "1728Mi", "cpu": "2"},
    }
    before = pod("process-size", container("taskmanager", resources=resources))

    patch = pod_mutation(before, sample("process-size.yaml")).patch

    assert not any("/resources" in operation["path"] for operation in patch)


@pytest.mark.parametrize(
    ("current", "merged"),
    [
        ("", "a: 1\nb: 2"),
        ("a: 0\nc: x\n\n", "c: x\na: 1\nb: 2"),
        ("c: x\na: 1\nb: 2", "c: x\na: 1\nb: 2"),
    ],
)
def test_merged_flink_properties_keep_the_users_lines_and_let_the_pins_win(current: str, merged: str) -> None:
    assert merge_flink_properties(current, {"a": "1", "b": "2"}) == merged
