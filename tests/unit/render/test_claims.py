"""A resource writes only its own objects: those the operator made for it, or those opted in to it."""

from __future__ import annotations

from typing import Any

from flink_tm_memory.render.claims import (
    CLAIMED_BY_ANOTHER,
    NOT_OPTED_IN,
    OPT_IN_ANNOTATION,
    claim_denial,
    controlling_memory,
)
from flink_tm_memory.render.configmap import plan_config_map_write
from flink_tm_memory.render.metadata import MemoryRef
from flink_tm_memory.render.writes import Create, Denied, Patch
from tests.unit.render.test_configmap import desired

ORDERS = MemoryRef("orders", "flink", "uid-orders", 3)
PAYMENTS = MemoryRef("payments", "flink", "uid-payments", 1)


def obj(
    *, annotations: dict[str, Any] | None = None, owners: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": "shared", "namespace": "flink", "resourceVersion": "7"}
    if annotations is not None:
        metadata["annotations"] = annotations
    if owners is not None:
        metadata["ownerReferences"] = owners
    return {"metadata": metadata, "data": {"app.properties": "keep me"}}


def test_an_absent_object_is_no_ones() -> None:
    assert claim_denial(None, ORDERS, "ConfigMap") is None


def test_an_object_the_operator_made_for_the_resource_is_its_own() -> None:
    assert claim_denial(obj(owners=[ORDERS.owner_reference()]), ORDERS, "ConfigMap") is None


def test_an_object_the_operator_made_for_another_resource_is_refused_naming_it() -> None:
    denial = claim_denial(obj(owners=[PAYMENTS.owner_reference()]), ORDERS, "ConfigMap")
    assert denial is not None
    assert denial.reason == CLAIMED_BY_ANOTHER
    assert "FlinkTaskManagerMemory payments" in denial.message
    assert "uid-payments" in denial.message


def test_a_recreated_resource_of_the_same_name_does_not_own_its_predecessors_object() -> None:
    predecessor = MemoryRef("orders", "flink", "uid-old", 1)
    denial = claim_denial(obj(owners=[predecessor.owner_reference()]), ORDERS, "ConfigMap")
    assert denial is not None
    assert denial.reason == CLAIMED_BY_ANOTHER


def test_a_foreign_object_without_the_annotation_is_refused_with_the_annotation_to_add() -> None:
    denial = claim_denial(obj(), ORDERS, "Deployment")
    assert denial == Denied(
        NOT_OPTED_IN,
        "Deployment shared was not created by the operator and does not opt in to be written: add the "
        "annotation flinkmemory.io/memory=orders to it (kubectl annotate deployment shared "
        "flinkmemory.io/memory=orders -n flink) to let FlinkTaskManagerMemory orders write it.",
    )


def test_a_foreign_object_opted_in_for_the_resource_is_written() -> None:
    assert claim_denial(obj(annotations={OPT_IN_ANNOTATION: "orders"}), ORDERS, "Deployment") is None


def test_a_foreign_object_opted_in_for_another_resource_is_refused_naming_it() -> None:
    denial = claim_denial(obj(annotations={OPT_IN_ANNOTATION: "payments"}), ORDERS, "StatefulSet")
    assert denial is not None
    assert denial.reason == CLAIMED_BY_ANOTHER
    assert "opts in for FlinkTaskManagerMemory payments" in denial.message


def test_other_owners_do_not_count_and_an_opt_in_is_still_needed() -> None:
    deployment_owner = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "x",
        "uid": "u",
        "controller": True,
    }
    not_controller = {**ORDERS.owner_reference(), "controller": False}
    assert controlling_memory({"ownerReferences": [deployment_owner, not_controller]}) is None
    denial = claim_denial(obj(owners=[deployment_owner, not_controller]), ORDERS, "ConfigMap")
    assert denial is not None
    assert denial.reason == NOT_OPTED_IN


def test_malformed_metadata_is_refused_not_crashed_on() -> None:
    body: dict[str, Any] = {"metadata": {"name": "x", "annotations": "junk", "ownerReferences": ["junk", 3]}}
    denial = claim_denial(body, ORDERS, "ConfigMap")
    assert denial is not None
    assert denial.reason == NOT_OPTED_IN
    assert claim_denial({"metadata": {"ownerReferences": {"a": 1}}}, ORDERS, "ConfigMap") is not None


def test_the_configmap_write_refuses_a_foreign_configmap_and_patches_an_opted_in_one(
    valid_plan: Any,
) -> None:
    wanted = desired(valid_plan)
    foreign = obj()
    foreign["metadata"]["name"] = wanted.name
    assert isinstance(plan_config_map_write(foreign, wanted), Denied)
    foreign["metadata"]["annotations"] = {OPT_IN_ANNOTATION: wanted.memory.name}
    decision = plan_config_map_write(foreign, wanted)
    assert isinstance(decision, Patch)
    assert "app.properties" not in decision.body["data"]
    assert isinstance(plan_config_map_write(None, wanted), Create)
