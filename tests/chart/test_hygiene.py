"""The chart's hygiene for a shared production cluster: security contexts, image digest, NetworkPolicy,
aggregated user roles, the per-resource metrics switch and the Pod Security labels of the namespace.

Real Helm renders each case (``tests/chart/helm.py``); ``test_chart.py`` validates every object of
these toggles against Kubernetes' schemas. OpenShift is not at hand, so its ``restricted-v2``
SecurityContextConstraints are written down here (``restricted_v2_violations``) from OpenShift's
definition, and the rendered pod is checked against them; the check is also run on pods that break
each rule, to show it can fail.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from flink_tm_memory.cli.arguments import parse_arguments
from flink_tm_memory.cli.run import operator_options
from tests.chart.helm import NAMESPACE, find, helm_failure, kinds, render

Json = dict[str, Any]
DIGEST = "sha256:" + "0123456789abcdef" * 4
OPENSHIFT = {"podSecurityContext": {"runAsUser": None, "runAsGroup": None, "fsGroup": None}}
API_SERVER = {"cidrs": ["10.0.0.10/32"]}
PSS_LABELS = {
    "pod-security.kubernetes.io/enforce": "restricted",
    "pod-security.kubernetes.io/audit": "restricted",
    "pod-security.kubernetes.io/warn": "restricted",
}


def pod_spec(objects: list[Json]) -> Json:
    spec: Json = find(objects, "Deployment")["spec"]["template"]["spec"]
    return spec


def container(objects: list[Json]) -> Json:
    [operator] = pod_spec(objects)["containers"]
    found: Json = operator
    return found


# ------------------------------------------------------------------------------ security contexts

RESTRICTED_V2_VOLUMES = {
    "configMap",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
}


def restricted_v2_violations(pod: Json) -> list[str]:
    """Why OpenShift's ``restricted-v2`` SCC would refuse ``pod`` (a pod spec); empty: it admits it.

    restricted-v2 (OpenShift 4.11+): runAsUser MustRunAsRange and fsGroup MustRunAs, from the
    namespace's annotations, so a pod may not name ids of its own (the range is unknown to a chart);
    no host namespaces or ports; capabilities: ALL dropped, at most NET_BIND_SERVICE added; no
    privilege escalation, not privileged; seccomp runtime/default; only the volume types above.
    runAsGroup is left to the runtime as well: a pinned group outside the namespace's is refused by
    admission plugins that extend the range to groups.
    """
    found = []
    security = pod.get("securityContext") or {}
    for field in ("runAsUser", "runAsGroup", "fsGroup"):
        if security.get(field) is not None:
            found.append(
                f"pod securityContext.{field} is pinned; the SCC assigns it from the namespace's range"
            )
    if security.get("supplementalGroups"):
        found.append("pod securityContext.supplementalGroups is pinned")
    for host in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(host):
            found.append(f"{host} is not allowed")
    pod_seccomp = (security.get("seccompProfile") or {}).get("type")
    for volume in pod.get("volumes", []):
        kind = next(key for key in volume if key != "name")
        if kind not in RESTRICTED_V2_VOLUMES:
            found.append(f"volume {volume['name']}: {kind} is not allowed")
    for item in [*pod.get("initContainers", []), *pod["containers"]]:
        found.extend(
            f"container {item['name']}: {problem}" for problem in _container_violations(item, pod_seccomp)
        )
    return found


def _container_violations(item: Json, pod_seccomp: str | None) -> list[str]:
    found: list[str] = []
    context = item.get("securityContext") or {}
    found.extend(
        f"securityContext.{field} is pinned"
        for field in ("runAsUser", "runAsGroup")
        if context.get(field) is not None
    )
    if context.get("privileged"):
        found.append("privileged")
    if context.get("allowPrivilegeEscalation") is not False:
        found.append("allowPrivilegeEscalation must be false")
    capabilities = context.get("capabilities") or {}
    if "ALL" not in (capabilities.get("drop") or []):
        found.append("capabilities must drop ALL")
    if set(capabilities.get("add") or []) - {"NET_BIND_SERVICE"}:
        found.append("only NET_BIND_SERVICE may be added")
    if ((context.get("seccompProfile") or {}).get("type") or pod_seccomp) != "RuntimeDefault":
        found.append("seccomp must be runtime/default")
    if any(port.get("hostPort") for port in item.get("ports", [])):
        found.append("hostPort is not allowed")
    return found


def test_openshift_restricted_v2_admits_the_pod_once_the_ids_are_left_to_it() -> None:
    default = restricted_v2_violations(pod_spec(render()))
    assert sorted(default) == [
        f"pod securityContext.{field} is pinned; the SCC assigns it from the namespace's range"
        for field in ("fsGroup", "runAsGroup", "runAsUser")
    ]  # the default pins the image's own user, which restricted-v2 would refuse: hence the values
    objects = render(OPENSHIFT)
    assert restricted_v2_violations(pod_spec(objects)) == []
    assert pod_spec(objects)["securityContext"] == {
        "runAsNonRoot": True,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


BROKEN_PODS: list[tuple[str, Json, str]] = [
    ("hostNetwork", {"hostNetwork": True}, "hostNetwork is not allowed"),
    (
        "escalation",
        {"containers.0.securityContext.allowPrivilegeEscalation": True},
        "allowPrivilegeEscalation",
    ),
    ("capabilities", {"containers.0.securityContext.capabilities": {"drop": []}}, "drop ALL"),
    ("added", {"containers.0.securityContext.capabilities.add": ["NET_ADMIN"]}, "NET_BIND_SERVICE"),
    ("seccomp", {"containers.0.securityContext.seccompProfile": {"type": "Unconfined"}}, "runtime/default"),
    ("user", {"containers.0.securityContext.runAsUser": 1000}, "runAsUser is pinned"),
    ("hostPath", {"volumes.0": {"name": "tmp", "hostPath": {"path": "/tmp"}}}, "hostPath is not allowed"),
]


@pytest.mark.parametrize(("name", "change", "violation"), BROKEN_PODS, ids=[case[0] for case in BROKEN_PODS])
def test_the_restricted_v2_check_refuses_what_the_scc_refuses(
    name: str, change: Json, violation: str
) -> None:
    pod = copy.deepcopy(pod_spec(render(OPENSHIFT)))
    for dotted, value in change.items():
        *path, last = dotted.split(".")
        node: Any = pod
        for part in path:
            node = node[int(part)] if part.isdigit() else node[part]
        if last.isdigit():
            node[int(last)] = value
        else:
            node[last] = value
    assert any(violation in found for found in restricted_v2_violations(pod)), restricted_v2_violations(pod)


def test_the_security_contexts_are_the_values_restricted_by_default() -> None:
    objects = render()
    assert pod_spec(objects)["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 65532,
        "runAsGroup": 65532,
        "fsGroup": 65532,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert container(objects)["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    custom = render({"podSecurityContext": {"runAsUser": 1001}, "securityContext": {"runAsUser": 1001}})
    assert pod_spec(custom)["securityContext"]["runAsUser"] == 1001
    assert container(custom)["securityContext"]["runAsUser"] == 1001
    assert container(custom)["securityContext"]["capabilities"] == {"drop": ["ALL"]}  # merged, not replaced


# ------------------------------------------------------------------------------ image


def test_an_image_digest_names_the_image_by_digest_and_the_tag_by_default() -> None:
    assert container(render())["image"] == "ghcr.io/flink-tm-memory/flink-tm-memory-operator:0.1.0.dev0"
    pinned = render({"image": {"repository": "registry.example.com/ftm", "tag": "1.2.3", "digest": DIGEST}})
    assert container(pinned)["image"] == f"registry.example.com/ftm@{DIGEST}"


# ------------------------------------------------------------------------------ NetworkPolicy


def test_no_network_policy_unless_asked() -> None:
    assert "NetworkPolicy" not in kinds(render())


def test_the_network_policy_opens_the_served_ports_to_the_given_peers_and_egress_only_to_the_api_and_dns() -> (
    None
):
    webhook_peers = [{"ipBlock": {"cidr": "10.0.0.0/24"}}]
    metrics_peers = [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}]
    objects = render(
        {
            "networkPolicy": {
                "enabled": True,
                "webhookFrom": webhook_peers,
                "metricsFrom": metrics_peers,
                "apiServer": {"cidrs": ["10.0.0.10/32", "fd00::10/128"], "ports": [6443]},
            }
        }
    )
    policy = find(objects, "NetworkPolicy")["spec"]
    pod = find(objects, "Deployment")["spec"]["template"]["metadata"]["labels"]
    assert policy["podSelector"]["matchLabels"].items() <= pod.items()
    assert policy["policyTypes"] == ["Ingress", "Egress"]
    ports = {port["name"]: port["containerPort"] for port in container(objects)["ports"]}
    assert policy["ingress"] == [
        {"ports": [{"port": ports["webhook"], "protocol": "TCP"}], "from": webhook_peers},
        {"ports": [{"port": ports["metrics"], "protocol": "TCP"}], "from": metrics_peers},
    ]
    assert policy["egress"] == [
        {
            "to": [{"ipBlock": {"cidr": "10.0.0.10/32"}}, {"ipBlock": {"cidr": "fd00::10/128"}}],
            "ports": [{"port": 6443, "protocol": "TCP"}],
        },
        {"ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]},
    ]


def test_the_network_policy_lets_the_operator_read_the_job_managers_it_is_given() -> None:
    rule = {
        "to": [{"namespaceSelector": {}, "podSelector": {"matchLabels": {"component": "jobmanager"}}}],
        "ports": [{"port": 8081, "protocol": "TCP"}],
    }
    objects = render(
        {"networkPolicy": {"enabled": True, "apiServer": API_SERVER, "dns": False, "jobManagers": [rule]}}
    )
    policy = find(objects, "NetworkPolicy")["spec"]
    assert policy["egress"][1:] == [rule]


def test_the_network_policy_defaults_admit_the_api_server_from_anywhere_and_follow_the_ports() -> None:
    objects = render(
        {
            "networkPolicy": {"enabled": True, "apiServer": API_SERVER, "dns": False},
            "webhook": {"port": 10443},
            "metrics": {"port": 10081},
        }
    )
    policy = find(objects, "NetworkPolicy")["spec"]
    assert policy["ingress"] == [
        {"ports": [{"port": 10443, "protocol": "TCP"}]},  # no `from`: any source
        {"ports": [{"port": 10081, "protocol": "TCP"}]},
    ]
    [api] = policy["egress"]
    assert api["ports"] == [{"port": 443, "protocol": "TCP"}, {"port": 6443, "protocol": "TCP"}]
    without_webhook = render(
        {"networkPolicy": {"enabled": True, "apiServer": API_SERVER}, "webhook": {"enabled": False}}
    )
    assert find(without_webhook, "NetworkPolicy")["spec"]["ingress"] == [
        {"ports": [{"port": 8081, "protocol": "TCP"}]}
    ]


def test_a_network_policy_without_the_api_servers_address_is_refused_naming_the_value() -> None:
    error = helm_failure({"networkPolicy": {"enabled": True}})
    assert "networkPolicy.apiServer.cidrs" in error


# ------------------------------------------------------------------------------ roles for users


def test_users_get_view_and_edit_roles_aggregated_into_kubernetes_own() -> None:
    objects = render()
    view = find(objects, "ClusterRole", "flink-tm-memory-operator-view")
    edit = find(objects, "ClusterRole", "flink-tm-memory-operator-edit")
    aggregate = "rbac.authorization.k8s.io/aggregate-to-"
    assert {key: value for key, value in view["metadata"]["labels"].items() if key.startswith(aggregate)} == {
        f"{aggregate}view": "true",
        f"{aggregate}edit": "true",
        f"{aggregate}admin": "true",
    }
    assert {key: value for key, value in edit["metadata"]["labels"].items() if key.startswith(aggregate)} == {
        f"{aggregate}edit": "true",
        f"{aggregate}admin": "true",
    }
    [read] = view["rules"]
    assert (read["apiGroups"], sorted(read["verbs"])) == (["flinkmemory.io"], ["get", "list", "watch"])
    assert read["resources"] == ["flinktaskmanagermemories", "flinktaskmanagermemories/status"]
    [write] = edit["rules"]
    assert write["resources"] == ["flinktaskmanagermemories"]  # the status is the operator's
    assert {"create", "update", "patch", "delete"} <= set(write["verbs"])
    bound = {
        binding["roleRef"]["name"]
        for binding in objects
        if binding["kind"] in ("ClusterRoleBinding", "RoleBinding")
    }
    assert not bound & {view["metadata"]["name"], edit["metadata"]["name"]}  # for people, not the operator
    roles = {
        item["metadata"]["name"]
        for item in render({"rbac": {"aggregateToUserRoles": False}})
        if item["kind"] == "ClusterRole"
    }
    assert roles == {"flink-tm-memory-operator-cluster"}


# ------------------------------------------------------------------------------ metrics


def test_the_per_resource_series_are_on_by_default_and_the_value_turns_them_off() -> None:
    assert operator_options(parse_arguments(container(render())["args"])).per_resource_metrics is True
    args = container(render({"metrics": {"perResource": False}}))["args"]
    assert "--no-per-resource-metrics" in args
    assert operator_options(parse_arguments(args)).per_resource_metrics is False


# ------------------------------------------------------------------------------ namespace


def test_the_namespace_is_rendered_with_pod_security_labels_only_when_asked() -> None:
    assert "Namespace" not in kinds(render())
    namespace = find(render({"namespace": {"create": True}}), "Namespace")
    assert namespace["metadata"]["name"] == NAMESPACE
    assert PSS_LABELS.items() <= namespace["metadata"]["labels"].items()
    relaxed = render(
        {"namespace": {"create": True, "labels": {"pod-security.kubernetes.io/enforce": "baseline"}}}
    )
    assert (
        find(relaxed, "Namespace")["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "baseline"
    )


# ------------------------------------------------------------------------------ workload watch


def workload_rules(objects: list[Json]) -> dict[str, tuple[str, ...]]:
    rules = find(objects, "ClusterRole", "flink-tm-memory-operator-cluster")["rules"]
    return {
        resource: tuple(sorted(rule["verbs"]))
        for rule in rules
        for resource in rule["resources"]
        if resource in ("deployments", "statefulsets", "flinkdeployments")
    }


def test_the_workload_watch_is_on_by_default_and_can_be_narrowed_or_turned_off_with_its_rights() -> None:
    default = render()
    options = operator_options(parse_arguments(container(default)["args"]))
    assert (options.workload_watch, options.workload_selector) == (True, None)
    assert set(workload_rules(default).values()) == {("get", "list", "patch", "watch")}

    selected = render({"workloadWatch": {"labelSelector": "app.kubernetes.io/component=taskmanager"}})
    options = operator_options(parse_arguments(container(selected)["args"]))
    assert options.workload_selector == "app.kubernetes.io/component=taskmanager"

    off = render({"workloadWatch": {"enabled": False, "labelSelector": "ignored=yes"}})
    options = operator_options(parse_arguments(container(off)["args"]))
    assert (options.workload_watch, options.workload_selector) == (False, None)
    assert set(workload_rules(off).values()) == {("get", "patch")}  # no right the operator would not use
