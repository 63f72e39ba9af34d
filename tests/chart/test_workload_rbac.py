"""The chart's rules for workloads are the table of workload kinds' (``api.workloads``), no more, no less.

A new target kind is one entry in that table; this test then names the rule the chart is missing.
"""

from __future__ import annotations

from typing import Any

import pytest

from flink_tm_memory.api.workloads import WorkloadKind, rbac_rules
from tests.chart.helm import RELEASE, render

Json = dict[str, Any]
WORKLOAD_GROUPS = {kind.spec.group for kind in WorkloadKind}


def triples(rules: list[Json]) -> list[tuple[str, str, str]]:
    """(group, resource, verb) of every rule on a workload kind's API group."""
    return sorted(
        (group, resource, verb)
        for rule in rules
        for group in rule["apiGroups"]
        if group in WORKLOAD_GROUPS
        for resource in rule["resources"]
        for verb in rule["verbs"]
    )


@pytest.mark.parametrize(
    ("values", "kind", "name"),
    [
        ({}, "ClusterRole", f"{RELEASE}-cluster"),
        ({"watchNamespaces": ["flink", "batch"]}, "Role", RELEASE),
        ({"workloadWatch": {"enabled": False}}, "ClusterRole", f"{RELEASE}-cluster"),
    ],
)
def test_the_charts_workload_rules_are_the_tables(values: Json, kind: str, name: str) -> None:
    """The operator's own roles (not the users' view/edit roles, nor the leader election's)."""
    roles = [entry for entry in render(values) if entry["kind"] == kind and entry["metadata"]["name"] == name]
    assert len(roles) == (1 if kind == "ClusterRole" else 2)
    for role in roles:
        watched = values.get("workloadWatch", {}).get("enabled", True)
        assert triples(role["rules"]) == triples(rbac_rules(watched=watched)), role["metadata"]["name"]


def test_the_table_asks_only_to_read_and_patch_workloads() -> None:
    assert {verb for rule in rbac_rules() for verb in rule["verbs"]} == {"get", "patch"}
    assert triples(rbac_rules()) == [
        ("apps", "deployments", "get"),
        ("apps", "deployments", "patch"),
        ("apps", "statefulsets", "get"),
        ("apps", "statefulsets", "patch"),
        ("flink.apache.org", "flinkdeployments", "get"),
        ("flink.apache.org", "flinkdeployments", "patch"),
    ]
