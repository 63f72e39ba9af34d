"""The chart runs the operator highly available by default: replicas, Lease, rolling updates, PDB, spread.

``helm template`` with the default values must render at least two replicas that elect a leader
through the Lease the RBAC rules grant (create, and get/update of that one name, in the release
namespace only), roll without ever having fewer Ready pods than replicas, keep a drain from taking
more than one pod at a time, prefer distinct nodes, and give each pod its name and namespace (the
Lease's holder) from the downward API.
"""

from __future__ import annotations

from typing import Any

import kubernetes_validate
import pytest

from flink_tm_memory.cli.arguments import parse_arguments
from flink_tm_memory.cli.run import operator_options
from tests.chart.helm import NAMESPACE, find, helm_failure, kinds, render

Json = dict[str, Any]
KUBERNETES = "1.37"


def deployment_of(objects: list[Json]) -> Json:
    return find(objects, "Deployment")


def operator_container(objects: list[Json]) -> Json:
    [container] = deployment_of(objects)["spec"]["template"]["spec"]["containers"]
    found: Json = container
    return found


def lease_role(objects: list[Json]) -> Json:
    return find(objects, "Role", "flink-tm-memory-operator-leader-election")


def test_the_default_install_runs_two_replicas_that_roll_without_losing_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    objects = render()
    spec = deployment_of(objects)["spec"]
    assert spec["replicas"] >= 2
    assert spec["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1},
    }
    container = operator_container(objects)
    env = {entry["name"]: entry["valueFrom"]["fieldRef"]["fieldPath"] for entry in container["env"]}
    assert env == {"POD_NAME": "metadata.name", "POD_NAMESPACE": "metadata.namespace"}
    monkeypatch.setenv("POD_NAME", "flink-tm-memory-operator-5d8f7-x2x9q")
    monkeypatch.setenv("POD_NAMESPACE", NAMESPACE)
    election = operator_options(parse_arguments(container["args"])).leader_election
    assert election is not None
    assert (election.namespace, election.identity) == (NAMESPACE, "flink-tm-memory-operator-5d8f7-x2x9q")
    assert (election.lease_duration, election.renew_deadline, election.retry_period) == (15.0, 10.0, 2.0)
    rules = lease_role(objects)["rules"]
    assert election.name in [name for rule in rules for name in rule.get("resourceNames", [])]
    # Drain (kopf's handlers in flight finish) and release: well within the grace period.
    assert spec["template"]["spec"]["terminationGracePeriodSeconds"] >= 2 * election.retry_period


def test_the_lease_rule_grants_create_and_get_update_of_the_one_lease_in_the_release_namespace() -> None:
    objects = render()
    role = lease_role(objects)
    assert role["metadata"]["namespace"] == NAMESPACE
    assert role["rules"] == [
        {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["create"]},
        {
            "apiGroups": ["coordination.k8s.io"],
            "resources": ["leases"],
            "resourceNames": ["flink-tm-memory-operator"],
            "verbs": ["get", "update"],
        },
    ]
    binding = find(objects, "RoleBinding", "flink-tm-memory-operator-leader-election")
    assert binding["metadata"]["namespace"] == NAMESPACE
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "flink-tm-memory-operator", "namespace": NAMESPACE}
    ]
    cluster_rules = find(objects, "ClusterRole", "flink-tm-memory-operator-cluster")["rules"]
    assert not any("leases" in rule["resources"] for rule in cluster_rules)  # nowhere else


def test_a_pod_disruption_budget_lets_a_drain_take_one_operator_pod_at_a_time() -> None:
    objects = render()
    budget = find(objects, "PodDisruptionBudget")
    kubernetes_validate.validate(budget, KUBERNETES, strict=True)
    assert budget["spec"]["maxUnavailable"] == 1
    assert budget["spec"]["selector"] == deployment_of(objects)["spec"]["selector"]
    assert budget["spec"]["unhealthyPodEvictionPolicy"] == "AlwaysAllow"
    assert "PodDisruptionBudget" not in kinds(render({"podDisruptionBudget": {"enabled": False}}))
    assert (
        find(render({"podDisruptionBudget": {"maxUnavailable": "50%"}}), "PodDisruptionBudget")["spec"][
            "maxUnavailable"
        ]
        == "50%"
    )


def test_replicas_prefer_distinct_nodes_by_default_and_the_spread_can_be_replaced() -> None:
    objects = render()
    pod = deployment_of(objects)["spec"]["template"]["spec"]
    selector = deployment_of(objects)["spec"]["selector"]
    assert pod["topologySpreadConstraints"] == [
        {
            "maxSkew": 1,
            "topologyKey": "kubernetes.io/hostname",
            "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": selector,
        }
    ]
    zones = {"topologyKey": "topology.kubernetes.io/zone", "maxSkew": 1, "whenUnsatisfiable": "DoNotSchedule"}
    pod = deployment_of(render({"topologySpreadConstraints": [zones]}))["spec"]["template"]["spec"]
    assert pod["topologySpreadConstraints"] == [{**zones, "labelSelector": selector}]
    pod = deployment_of(render({"topologySpreadConstraints": []}))["spec"]["template"]["spec"]
    assert "topologySpreadConstraints" not in pod


def test_one_replica_without_election_is_allowed_and_more_without_it_is_refused() -> None:
    objects = render({"replicaCount": 1, "leaderElection": {"enabled": False}})
    assert deployment_of(objects)["spec"]["replicas"] == 1
    assert operator_options(parse_arguments(operator_container(objects)["args"])).leader_election is None
    assert "Role" not in kinds(objects)
    error = helm_failure({"leaderElection": {"enabled": False}})
    assert "replicaCount > 1 needs leaderElection.enabled" in error


@pytest.mark.parametrize(
    "timings",
    [
        {"leaseDuration": 10, "renewDeadline": 10},
        {"renewDeadline": 2, "retryPeriod": 2},
    ],
)
def test_timings_the_election_cannot_keep_are_refused_naming_the_values(timings: Json) -> None:
    error = helm_failure({"leaderElection": timings})
    assert "leaderElection: leaseDuration must be longer than renewDeadline" in error
