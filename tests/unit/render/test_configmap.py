"""The ConfigMap write: created whole when absent, patched key by key when it differs, left alone when not."""

from __future__ import annotations

import copy
from typing import Any

from flink_tm_memory.memory import parse_flink_version
from flink_tm_memory.render.configmap import (
    DesiredConfigMap,
    config_map_name,
    plan_config_map_write,
    render_config_map,
)
from flink_tm_memory.render.plan import MemoryPlan
from flink_tm_memory.render.writes import MERGE_PATCH, Create, Patch, Unchanged
from tests.unit.render.conftest import MEMORY


def desired(plan: MemoryPlan, version: str = "2.2") -> DesiredConfigMap:
    assert plan.resolved is not None
    assert plan.layout is not None
    return render_config_map(
        MEMORY, "orders-config", parse_flink_version(version), plan.resolved.configuration, plan.layout
    )


def stored(config_map: DesiredConfigMap, **data: str) -> dict[str, Any]:
    return {
        "metadata": {
            "name": config_map.name,
            "resourceVersion": "41",
            "labels": dict(config_map.labels),
            "ownerReferences": list(config_map.owner_references),
        },
        "data": {**config_map.data, **data},
    }


def test_a_missing_configmap_is_created_owned_by_the_resource_and_labelled(valid_plan: MemoryPlan) -> None:
    wanted = desired(valid_plan)
    decision = plan_config_map_write(None, wanted)
    assert isinstance(decision, Create)
    metadata = decision.body["metadata"]
    assert (metadata["name"], metadata["namespace"]) == ("orders-config", "flink")
    assert metadata["ownerReferences"] == [MEMORY.owner_reference()]
    assert metadata["labels"] == {
        "app.kubernetes.io/managed-by": "flink-tm-memory-operator",
        "flinkmemory.io/memory": "orders",
    }
    assert set(decision.body["data"]) == {"config.yaml", "jvm-parameters", "dynamic-configs"}


def test_a_configmap_holding_the_data_is_left_alone(valid_plan: MemoryPlan) -> None:
    wanted = desired(valid_plan)
    assert plan_config_map_write(stored(wanted), wanted) == Unchanged()


def test_an_edited_key_is_patched_back_alone_with_the_version_it_was_read_at(valid_plan: MemoryPlan) -> None:
    wanted = desired(valid_plan)
    decision = plan_config_map_write(stored(wanted, **{"jvm-parameters": "-Xmx1g"}), wanted)
    assert decision == Patch(
        {"metadata": {"resourceVersion": "41"}, "data": {"jvm-parameters": wanted.data["jvm-parameters"]}},
        MERGE_PATCH,
    )


def test_keys_the_operator_does_not_own_are_left_alone(valid_plan: MemoryPlan) -> None:
    wanted = desired(valid_plan)
    assert plan_config_map_write(stored(wanted, **{"log4j-console.properties": "x"}), wanted) == Unchanged()


def test_the_other_config_file_is_removed_when_the_version_crosses_1_19(valid_plan: MemoryPlan) -> None:
    old = desired(valid_plan, "1.18")
    new = desired(valid_plan, "2.2")
    decision = plan_config_map_write(stored(old), new)
    assert isinstance(decision, Patch)
    assert decision.body["data"]["flink-conf.yaml"] is None
    assert decision.body["data"]["config.yaml"] == new.data["config.yaml"]


def test_lost_labels_are_put_back(valid_plan: MemoryPlan) -> None:
    wanted = desired(valid_plan)
    current = stored(wanted)
    current["metadata"]["labels"] = {}
    decision = plan_config_map_write(current, wanted)
    assert isinstance(decision, Patch)
    assert decision.body == {"metadata": {"resourceVersion": "41", "labels": wanted.labels}}


def test_the_hash_changes_with_the_data_only(valid_plan: MemoryPlan) -> None:
    wanted = desired(valid_plan)
    assert copy.deepcopy(wanted).hash == wanted.hash
    assert desired(valid_plan, "1.18").hash != wanted.hash


def test_the_configmap_is_named_after_the_resource_unless_the_spec_names_one(valid_plan: MemoryPlan) -> None:
    assert valid_plan.spec is not None
    assert config_map_name(valid_plan.spec, "orders") == "orders-flink-tm-memory"
    named = valid_plan.spec.model_copy(
        update={"targets": valid_plan.spec.targets.model_validate({"configMap": {"name": "flink-config"}})}
    )
    assert config_map_name(named, "orders") == "flink-config"
