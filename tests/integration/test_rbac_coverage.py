"""The chart's RBAC rules are exactly what the operator uses: every request allowed, every rule used.

The operator runs a scenario that walks every code path that talks to the API server (kopf's watches
and discovery, reconciling each kind of target, repairing a ConfigMap, the status, Events, the pod
webhook's lookup of a resource it has not indexed, managed webhook configurations, the leader
election's Lease: created, read, renewed), against the emulated API server, which records every
request. Each request is then turned into what RBAC checks (API group, resource or
resource/subresource, verb, object name, namespace) and matched against the rules the chart renders
with its default values (the ClusterRole, and the Role of the release namespace for requests there): a
request no rule allows would be refused in a cluster, and a rule no request needs is a privilege too many.
"""

from __future__ import annotations

import copy
import dataclasses
import ssl
from pathlib import Path
from typing import Any

import aiohttp

from flink_tm_memory.render.webhook_configurations import CONFIGURATION_NAME
from flink_tm_memory.runtime.options import LeaderElectionOptions, WebhookOptions
from tests.chart.helm import NAMESPACE as RELEASE_NAMESPACE
from tests.chart.helm import RELEASE, find, render
from tests.integration.conftest import StartOperator
from tests.integration.emulator import ApiEmulator
from tests.integration.kubectl import (
    CONFIG_MAPS,
    DEPLOYMENTS,
    FLINK_DEPLOYMENTS,
    MEMORIES,
    STATEFUL_SETS,
    Kubectl,
    deployment,
    eventually,
    ready,
    sample,
)
from tests.integration.test_mutating_webhook import pod, pod_review
from tests.integration.test_targets import FLINK_DEPLOYMENT
from tests.integration.webhooks import free_port

Json = dict[str, Any]
VALIDATING = "admissionregistration.k8s.io/v1/validatingwebhookconfigurations"
MUTATING = "admissionregistration.k8s.io/v1/mutatingwebhookconfigurations"


@dataclasses.dataclass(frozen=True)
class Access:
    """One request as RBAC sees it."""

    group: str
    resource: str
    verb: str
    name: str | None
    namespace: str | None = None


def access(method: str, path: str, params: dict[str, str]) -> Access | None:
    """What RBAC checks for a request to ``path``; ``None`` for non-resource URLs (discovery)."""
    parts = [part for part in path.split("/") if part]
    if parts[:1] == ["api"] and len(parts) >= 3:
        group, rest = "", parts[2:]
    elif parts[:1] == ["apis"] and len(parts) >= 4:
        group, rest = parts[1], parts[3:]
    else:
        return None
    namespace = None
    if rest[:1] == ["namespaces"] and len(rest) >= 3:
        namespace, rest = (
            rest[1],
            rest[2:],
        )  # a namespaced resource (a namespace itself: ["namespaces", name])
    resource, name, subresource = (
        rest[0],
        (rest[1] if len(rest) > 1 else None),
        (rest[2] if len(rest) > 2 else None),
    )
    verbs = {"POST": "create", "PATCH": "patch", "PUT": "update", "DELETE": "delete"}
    if method == "GET":
        verb = "get" if name else ("watch" if params.get("watch") in ("true", "1") else "list")
    else:
        verb = verbs[method]
    full = f"{resource}/{subresource}" if subresource else resource
    return Access(group, full, verb, name if method != "POST" else None, namespace)


def allows(rule: Json, request: Access) -> bool:
    names = rule.get("resourceNames")
    return (
        request.group in rule["apiGroups"]
        and request.resource in rule["resources"]
        and request.verb in rule["verbs"]
        and (not names or request.name in names)
    )


async def walk_every_code_path(start_operator: StartOperator, kubectl: Kubectl, cert_dir: Path) -> None:
    port = free_port()
    webhook = WebhookOptions(
        port=port,
        listen="127.0.0.1",
        cert_dir=cert_dir,
        self_signed_hosts=("localhost",),
        manage_configurations=True,
        configuration_check_interval=0.2,
    )
    await kubectl.create(
        DEPLOYMENTS, deployment("flink-taskmanager", [{"name": "taskmanager", "image": "flink"}])
    )
    await kubectl.create(
        STATEFUL_SETS,
        deployment("flink-taskmanager", [{"name": "taskmanager", "image": "flink"}], kind="StatefulSet"),
    )
    await kubectl.create(FLINK_DEPLOYMENTS, copy.deepcopy(FLINK_DEPLOYMENT))
    election = LeaderElectionOptions(
        namespace=RELEASE_NAMESPACE,
        identity="operator-0",
        name=RELEASE,
        lease_duration=3.0,
        renew_deadline=2.0,
        retry_period=0.1,
    )
    await start_operator(webhook=webhook, leader_election=election)
    for name in ("deployment-target", "statefulset-target", "flinkdeployment-target"):
        await kubectl.create(MEMORIES, sample(name))
        await ready(kubectl, name)
    config_map = "deployment-target-flink-tm-memory"
    configured = (sample("deployment-target")["spec"].get("targets") or {}).get("configMap") or {}
    config_map = configured.get("name", config_map)
    await kubectl.delete(CONFIG_MAPS, config_map)
    await eventually(lambda: kubectl.get(CONFIG_MAPS, config_map), what="the ConfigMap re-created")
    pinned = dict((kubectl.get(CONFIG_MAPS, config_map) or {})["data"])
    await kubectl.patch(CONFIG_MAPS, config_map, {"data": dict.fromkeys(pinned, "edited by hand")})
    await eventually(
        lambda: (kubectl.get(CONFIG_MAPS, config_map) or {})["data"] == pinned, what="the repair"
    )
    for resource in (VALIDATING, MUTATING):  # hand edits the operator puts back
        await edit_and_wait_for_repair(kubectl, resource)
    await eventually(lambda: renewed(kubectl.emulator), what="the Lease renewed")
    trust = aiohttp.TCPConnector(ssl=ssl.create_default_context(cafile=str(cert_dir / "ca.crt")))
    async with aiohttp.ClientSession(connector=trust) as session:
        review = pod_review(pod("not-indexed-anywhere"))
        async with session.post(f"https://localhost:{port}/mutate-pod", json=review) as answer:
            assert answer.status == 200


def renewed(emulator: ApiEmulator) -> bool:
    return any(request.method.value == "PUT" and "/leases/" in request.url.path for request in emulator)


async def edit_and_wait_for_repair(kubectl: Kubectl, resource: str) -> None:
    configuration = await eventually(lambda: kubectl.get(resource, CONFIGURATION_NAME, None), what=resource)
    edited = [{**configuration["webhooks"][0], "timeoutSeconds": 30}]
    await kubectl.patch(resource, CONFIGURATION_NAME, {"webhooks": edited}, None)

    def repaired() -> bool:
        live = (kubectl.get(resource, CONFIGURATION_NAME, None) or {}).get("webhooks")
        return bool(live == configuration["webhooks"])

    await eventually(repaired, what=f"{resource} put back")


async def test_the_charts_rules_allow_every_request_and_nothing_more(
    start_operator: StartOperator, kubectl: Kubectl, emulator: ApiEmulator, tmp_path: Path
) -> None:
    await walk_every_code_path(start_operator, kubectl, tmp_path)

    requests = {
        found
        for request in emulator
        if not request.headers.get("User-Agent", "").startswith("kmock/")  # the test's own requests
        and (found := access(request.method.value, request.url.path, dict(request.params))) is not None
    }
    objects = render()
    rules = find(objects, "ClusterRole", "flink-tm-memory-operator-cluster")["rules"]
    release_rules = [
        rule
        for item in objects
        if item["kind"] == "Role" and item["metadata"]["namespace"] == RELEASE_NAMESPACE
        for rule in item["rules"]
    ]

    def allowed(request: Access) -> bool:
        in_release = request.namespace == RELEASE_NAMESPACE
        return any(allows(rule, request) for rule in [*rules, *(release_rules if in_release else [])])

    refused = sorted(str(request) for request in requests if not allowed(request))
    assert refused == []
    granted = {
        (group, resource, verb)
        for rule in [*rules, *release_rules]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }
    used = {(request.group, request.resource, request.verb) for request in requests}
    assert sorted(granted - used) == [], (sorted(granted - used), sorted(used))
