"""The table of workload kinds: every kind's API, write shape and containers, read by every layer."""

from __future__ import annotations

from flink_tm_memory.api.v1alpha1 import WorkloadTarget
from flink_tm_memory.api.workloads import (
    PatchShape,
    WorkloadKind,
    kinds_description,
    kinds_without_containers,
    rbac_rules,
)
from flink_tm_memory.cluster.objects import NamespacedObjects, workload_api


def test_each_kind_knows_its_api_path_and_plural() -> None:
    paths = {kind.value: (kind.spec.api_path, kind.spec.plural) for kind in WorkloadKind}
    assert paths == {
        "Deployment": ("/apis/apps/v1", "deployments"),
        "StatefulSet": ("/apis/apps/v1", "statefulsets"),
        "FlinkDeployment": ("/apis/flink.apache.org/v1beta1", "flinkdeployments"),
    }


def test_the_cluster_layer_reaches_each_kind_where_the_table_says() -> None:
    for kind in WorkloadKind:
        api = workload_api(None, kind)  # type: ignore[arg-type]  # no request is sent
        assert isinstance(api, NamespacedObjects)
        assert (api.kind, api.group_version, api.plural, api.creatable) == (
            kind.value,
            kind.spec.api_path,
            kind.spec.plural,
            False,
        )


def test_a_kind_is_its_kubernetes_kind_as_the_crd_stores_it() -> None:
    target = WorkloadTarget.model_validate({"kind": "StatefulSet", "name": "tm"})
    assert target.kind is WorkloadKind.STATEFUL_SET
    assert target.model_dump(mode="json", exclude_none=True) == {"kind": "StatefulSet", "name": "tm"}


def test_only_pod_template_kinds_name_a_container() -> None:
    assert kinds_without_containers() == ["FlinkDeployment"]
    assert {kind.spec.shape for kind in WorkloadKind if kind.spec.has_containers} == {PatchShape.POD_TEMPLATE}
    assert all(kind.spec.pod_template for kind in WorkloadKind if kind.spec.has_containers)


def test_the_crd_describes_every_kind() -> None:
    description = kinds_description()
    assert all(f"{kind.value} ({kind.spec.api_version})" in description for kind in WorkloadKind)


def test_the_rbac_rules_grant_get_and_patch_per_api_group_and_list_watch_when_watched() -> None:
    # Kubernetes' API groups of the kinds: apps for Deployments and StatefulSets, flink.apache.org for
    # the Flink Kubernetes Operator's FlinkDeployment.
    assert rbac_rules() == [
        {"apiGroups": ["apps"], "resources": ["deployments", "statefulsets"], "verbs": ["get", "patch"]},
        {"apiGroups": ["flink.apache.org"], "resources": ["flinkdeployments"], "verbs": ["get", "patch"]},
    ]
    assert [rule["verbs"] for rule in rbac_rules(watched=True)] == [["get", "patch", "list", "watch"]] * 2
    assert rbac_rules([WorkloadKind.STATEFUL_SET]) == [
        {"apiGroups": ["apps"], "resources": ["statefulsets"], "verbs": ["get", "patch"]}
    ]
