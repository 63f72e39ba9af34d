"""The Helm chart, rendered by real Helm with the default values and with every toggle flipped.

Every rendered object is validated against the OpenAPI schemas of Kubernetes 1.37
(``kubernetes-validate``, strict: unknown fields are errors); cert-manager's kinds, which those
schemas do not hold, are checked for the fields cert-manager requires. Beyond validity, the chart must
agree with the code: the CRD is the generated one, the webhook configurations are what
``flink-tm-memory webhook-configurations`` prints, and the operator's arguments parse with the real
command line into options that point at the chart's own Service, ports and certificate mounts.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import textwrap
from datetime import timedelta
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from flink_tm_memory.api.crd import CRD_PATH
from flink_tm_memory.cli.arguments import parse_arguments
from flink_tm_memory.cli.run import operator_options
from flink_tm_memory.render.admission import admission_verdict
from flink_tm_memory.render.webhook_configurations import (
    ServiceEndpoint,
    WebhookSetup,
    webhook_configurations,
)
from tests.chart.helm import CHART, NAMESPACE, ROOT, find, helm, helm_failure, kinds, render
from tests.chart.install_manifest import INSTALL_MANIFEST, install_manifest

KUBERNETES = "1.37"
CERT_MANAGER_KINDS = {"Certificate", "Issuer"}
SERVICE_MONITOR = "ServiceMonitor"  # the Prometheus Operator's, not in Kubernetes' schemas either
Json = dict[str, Any]

TOGGLES: dict[str, Json] = {
    "default": {},
    "crds-disabled": {"crds": {"enabled": False}},
    "crds-not-kept": {"crds": {"keep": False}},
    "webhook-disabled": {"webhook": {"enabled": False}},
    "cert-manager": {"webhook": {"certManager": {"enabled": True}}},
    "cert-manager-cluster-issuer": {
        "webhook": {
            "certManager": {
                "enabled": True,
                "issuerRef": {"name": "corporate-ca", "kind": "ClusterIssuer", "group": "cert-manager.io"},
            }
        }
    },
    "namespaces": {"watchNamespaces": ["flink", "batch"]},
    "operator-outside-the-cluster": {"webhook": {"externalName": "localhost", "servicePort": 9443}},
    "existing-service-account": {"serviceAccount": {"create": False, "name": "platform-operator"}},
    "no-rbac": {"rbac": {"create": False}},
    "service-monitor": {
        "metrics": {
            "port": 9090,
            "service": {"port": 80, "annotations": {"team": "platform"}},
            "serviceMonitor": {"enabled": True, "interval": "15s", "labels": {"release": "prometheus"}},
        }
    },
    "metrics-service-without-annotations": {
        "metrics": {"podAnnotations": False, "service": {"enabled": True}}
    },
    "readiness-checks-api-server": {"health": {"readinessChecksApiServer": True, "apiUnreadyAfter": 30}},
    "host-network": {
        "hostNetwork": True,
        "webhook": {"port": 10443},
        "health": {"port": 10080},
        "metrics": {"port": 10081},
    },
    "openshift-restricted-v2": {
        "podSecurityContext": {"runAsUser": None, "runAsGroup": None, "fsGroup": None},
    },
    "image-digest": {"image": {"digest": "sha256:" + "0123456789abcdef" * 4, "tag": "ignored"}},
    "network-policy": {
        "networkPolicy": {
            "enabled": True,
            "webhookFrom": [{"ipBlock": {"cidr": "10.0.0.0/24"}}],
            "metricsFrom": [
                {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}
            ],
            "apiServer": {"cidrs": ["10.0.0.10/32", "fd00::10/128"], "ports": [6443]},
        }
    },
    "network-policy-defaults": {"networkPolicy": {"enabled": True, "apiServer": {"cidrs": ["10.0.0.10/32"]}}},
    "no-user-roles": {"rbac": {"aggregateToUserRoles": False}},
    "operator-wide-metrics-only": {"metrics": {"perResource": False}},
    "namespace-created": {"namespace": {"create": True}},
    "everything-else": {
        "image": {"repository": "registry.example.com/ftm", "tag": "1.2.3", "pullPolicy": "Always"},
        "imagePullSecrets": [{"name": "regcred"}],
        "fullnameOverride": "memory-operator",
        "driftInterval": 15,
        "logFormat": "plain",
        "verbose": True,
        "health": {"port": 8081},
        "serviceAccount": {"annotations": {"iam.example.com/role": "operator"}},
        "resources": {"requests": {"cpu": "50m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
        "podAnnotations": {"prometheus.io/scrape": "false"},
        "podLabels": {"team": "platform"},
        "priorityClassName": "platform-critical",
        "nodeSelector": {"kubernetes.io/os": "linux"},
        "tolerations": [
            {"key": "dedicated", "operator": "Equal", "value": "platform", "effect": "NoSchedule"}
        ],
        "affinity": {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [
                        {
                            "matchExpressions": [
                                {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]}
                            ]
                        }
                    ]
                }
            }
        },
    },
}


@pytest.fixture(scope="module", params=sorted(TOGGLES))
def rendered(request: pytest.FixtureRequest) -> tuple[str, list[Json]]:
    return request.param, render(TOGGLES[request.param])


def test_every_rendered_object_is_valid_for_kubernetes(rendered: tuple[str, list[Json]]) -> None:
    _, objects = rendered
    for item in objects:
        if item["kind"] in CERT_MANAGER_KINDS:
            assert item["apiVersion"] == "cert-manager.io/v1"
            assert item["spec"], item
            continue
        if item["kind"] == SERVICE_MONITOR:
            assert item["apiVersion"] == "monitoring.coreos.com/v1"
            assert item["spec"]["selector"]["matchLabels"], item
            assert all(endpoint["port"] for endpoint in item["spec"]["endpoints"]), item
            continue
        kubernetes_validate.validate(item, KUBERNETES, strict=True)


def test_every_namespaced_object_is_in_the_release_namespace(rendered: tuple[str, list[Json]]) -> None:
    toggle, objects = rendered
    allowed = {NAMESPACE, *TOGGLES[toggle].get("watchNamespaces", [])}
    cluster_scoped = {"Namespace", "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding"} | {
        "ValidatingWebhookConfiguration",
        "MutatingWebhookConfiguration",
    }
    for item in objects:
        if item["kind"] == "Namespace":
            assert item["metadata"]["name"] == NAMESPACE  # the release's own, only when asked
        if item["kind"] in cluster_scoped:
            assert "namespace" not in item["metadata"], item["metadata"]
        else:
            assert item["metadata"]["namespace"] in allowed, item["metadata"]


def test_the_default_install_has_every_part() -> None:
    assert kinds(render()) == sorted(
        [
            "ClusterRole",
            "ClusterRole",
            "ClusterRole",
            "ClusterRoleBinding",
            "CustomResourceDefinition",
            "Deployment",
            "MutatingWebhookConfiguration",
            "PodDisruptionBudget",
            "Role",
            "Role",
            "RoleBinding",
            "RoleBinding",
            "Secret",
            "Service",
            "ServiceAccount",
            "ValidatingWebhookConfiguration",
        ]
    )


def test_the_chart_ships_the_generated_crd_and_keeps_it_on_uninstall_by_default() -> None:
    shipped = CHART / "files" / Path(CRD_PATH).name
    assert shipped.read_bytes() == (ROOT / CRD_PATH).read_bytes(), (
        "the chart's CRD copy drifted: `make manifests`"
    )
    generated = yaml.safe_load((ROOT / CRD_PATH).read_text(encoding="utf-8"))
    crd = find(render(), "CustomResourceDefinition")
    assert crd["spec"] == generated["spec"]
    assert crd["metadata"]["name"] == generated["metadata"]["name"]
    assert crd["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    not_kept = find(render(TOGGLES["crds-not-kept"]), "CustomResourceDefinition")
    assert "helm.sh/resource-policy" not in not_kept["metadata"].get("annotations", {})
    assert "CustomResourceDefinition" not in kinds(render(TOGGLES["crds-disabled"]))


def webhook_service(objects: list[Json]) -> Json:
    [service] = [
        item for item in objects if item["kind"] == "Service" and "webhook" in item["metadata"]["name"]
    ]
    return service


def container(objects: list[Json]) -> Json:
    [operator] = find(objects, "Deployment")["spec"]["template"]["spec"]["containers"]
    found: Json = operator
    return found


def test_the_operator_pod_meets_the_restricted_pod_security_standard(
    rendered: tuple[str, list[Json]],
) -> None:
    toggle, objects = rendered
    deployment = find(objects, "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    security = container(objects)["securityContext"]
    assert security["allowPrivilegeEscalation"] is False
    assert security["readOnlyRootFilesystem"] is True
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert security["seccompProfile"] == {"type": "RuntimeDefault"}
    assert all("hostPath" not in volume for volume in pod.get("volumes", []))
    assert pod.get("hostNetwork", False) is TOGGLES[toggle].get("hostNetwork", False)  # only when asked
    assert not pod.get("hostPID")
    assert container(objects)["resources"]["requests"]


def test_the_startup_and_liveness_probes_ask_the_endpoint_every_replica_serves(
    rendered: tuple[str, list[Json]],
) -> None:
    _, objects = rendered
    operator = container(objects)
    options = operator_options(parse_arguments(operator["args"]))
    ports = {port["name"]: port["containerPort"] for port in operator["ports"]}
    # /livez on the metrics port: served by standbys too (kopf's /healthz only where kopf runs).
    assert operator["livenessProbe"]["httpGet"] == {"path": "/livez", "port": "metrics"}
    assert operator["startupProbe"]["httpGet"] == {"path": "/livez", "port": "metrics"}
    startup = operator["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 60  # a slow start is not a crash
    assert options.metrics_port == ports["metrics"]
    assert options.liveness_endpoint == f"http://0.0.0.0:{ports['health']}/healthz"


def test_readiness_asks_the_metrics_port_and_leaves_the_api_server_out_unless_told(
    rendered: tuple[str, list[Json]],
) -> None:
    toggle, objects = rendered
    operator = container(objects)
    options = operator_options(parse_arguments(operator["args"]))
    ports = {port["name"]: port["containerPort"] for port in operator["ports"]}
    assert (options.metrics_port, options.metrics_listen) == (ports["metrics"], "0.0.0.0")
    checks_api = TOGGLES[toggle].get("health", {}).get("readinessChecksApiServer", False)
    path = "/readyz" if checks_api else "/readyz?exclude=api-server"
    assert operator["readinessProbe"]["httpGet"] == {"path": path, "port": "metrics"}
    assert options.api_unready_after == TOGGLES[toggle].get("health", {}).get("apiUnreadyAfter", 60)
    assert operator["livenessProbe"]["httpGet"]["path"] == "/livez"  # a restart cannot fix the API server
    # A hung replica leaves the webhook Service before a standby may take the Lease over: the new
    # leader's patches of its resources pass the validating webhook, never into the hung one.
    probe = operator["readinessProbe"]
    out_after = probe["periodSeconds"] * probe["failureThreshold"] + probe["timeoutSeconds"]
    if options.leader_election is not None:
        assert out_after < options.leader_election.lease_duration


def test_the_pod_is_annotated_for_prometheus_with_the_port_it_serves_unless_told_otherwise() -> None:
    objects = render()
    annotations = find(objects, "Deployment")["spec"]["template"]["metadata"]["annotations"]
    options = operator_options(parse_arguments(container(objects)["args"]))
    assert annotations == {
        "prometheus.io/scrape": "true",
        "prometheus.io/port": str(options.metrics_port),
        "prometheus.io/path": "/metrics",
    }
    everything = find(render(TOGGLES["everything-else"]), "Deployment")["spec"]["template"]["metadata"]
    assert everything["annotations"]["prometheus.io/scrape"] == "false"  # podAnnotations win
    plain = find(render(TOGGLES["metrics-service-without-annotations"]), "Deployment")["spec"]["template"]
    assert "annotations" not in plain["metadata"]


def test_the_service_monitor_scrapes_the_metrics_service_which_targets_the_operators_metrics_port() -> None:
    objects = render(TOGGLES["service-monitor"])
    monitor = find(objects, SERVICE_MONITOR)
    selected = [
        item
        for item in objects
        if item["kind"] == "Service"
        and monitor["spec"]["selector"]["matchLabels"].items() <= item["metadata"]["labels"].items()
    ]
    assert [service["metadata"]["name"] for service in selected] == ["flink-tm-memory-operator-metrics"]
    [service] = selected
    [port] = service["spec"]["ports"]
    [endpoint] = monitor["spec"]["endpoints"]
    assert (endpoint["port"], endpoint["path"], endpoint["interval"]) == (port["name"], "/metrics", "15s")
    assert monitor["metadata"]["labels"]["release"] == "prometheus"
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": [NAMESPACE]}
    assert (port["port"], port["targetPort"]) == (80, "metrics")
    assert service["spec"]["publishNotReadyAddresses"] is True
    assert service["metadata"]["annotations"] == {"team": "platform"}
    pod = find(objects, "Deployment")["spec"]["template"]
    assert service["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
    ports = {port["name"]: port["containerPort"] for port in container(objects)["ports"]}
    assert (
        ports["metrics"] == 9090 == operator_options(parse_arguments(container(objects)["args"])).metrics_port
    )
    assert "ServiceMonitor" not in kinds(render())


def test_the_self_signed_webhook_is_served_behind_the_charts_service_with_managed_configurations() -> None:
    objects = render()
    options = operator_options(parse_arguments(container(objects)["args"])).webhook
    service = webhook_service(objects)
    assert options is not None
    assert options.manage_configurations is True
    assert options.service == ServiceEndpoint(
        NAMESPACE, service["metadata"]["name"], service["spec"]["ports"][0]["port"]
    )
    assert f"{service['metadata']['name']}.{NAMESPACE}.svc" in options.self_signed_hosts
    assert service["spec"]["ports"][0]["targetPort"] == "webhook"
    ports = {port["name"]: port["containerPort"] for port in container(objects)["ports"]}
    assert ports["webhook"] == options.port
    mounts = {mount["mountPath"] for mount in container(objects)["volumeMounts"]}
    assert str(options.cert_dir).startswith(tuple(mounts)), "the generated certificates need a writable mount"


def test_cert_manager_issues_the_mounted_certificate_for_the_service() -> None:
    objects = render(TOGGLES["cert-manager"])
    options = operator_options(parse_arguments(container(objects)["args"])).webhook
    service = webhook_service(objects)["metadata"]["name"]
    certificate = find(objects, "Certificate")
    assert options is not None
    assert options.manage_configurations is False
    assert f"{service}.{NAMESPACE}.svc" in certificate["spec"]["dnsNames"]
    assert certificate["spec"]["issuerRef"]["name"] == find(objects, "Issuer")["metadata"]["name"]
    pod = find(objects, "Deployment")["spec"]["template"]["spec"]
    [tls] = [volume for volume in pod["volumes"] if "secret" in volume]
    assert tls["secret"]["secretName"] == certificate["spec"]["secretName"]
    [mount] = [mount for mount in container(objects)["volumeMounts"] if mount["name"] == tls["name"]]
    assert Path(mount["mountPath"]) == options.cert_dir
    issuer = render(TOGGLES["cert-manager-cluster-issuer"])
    assert find(issuer, "Certificate")["spec"]["issuerRef"]["kind"] == "ClusterIssuer"
    assert "Issuer" not in kinds(issuer)


@pytest.mark.parametrize(
    ("cert_manager", "service_port"),
    [(False, 443), (True, 443), (False, 9443)],
    ids=["self-signed", "cert-manager", "port"],
)
def test_the_webhook_configurations_are_the_generated_ones(cert_manager: bool, service_port: int) -> None:
    objects = render({"webhook": {"certManager": {"enabled": cert_manager}, "servicePort": service_port}})
    service = webhook_service(objects)["metadata"]["name"]
    setup = WebhookSetup(
        ServiceEndpoint(NAMESPACE, service, service_port),
        cert_manager_certificate=f"{NAMESPACE}/{service}" if cert_manager else None,
    )
    for wanted in webhook_configurations(setup):
        shipped = copy.deepcopy(find(objects, wanted["kind"]))
        labels = shipped["metadata"].pop("labels")
        assert labels.items() >= wanted["metadata"].pop("labels").items()
        assert shipped == {**wanted, "metadata": {**wanted["metadata"]}}


def test_an_operator_outside_the_cluster_is_reached_through_an_external_name_service() -> None:
    objects = render(TOGGLES["operator-outside-the-cluster"])
    service = webhook_service(objects)
    assert service["spec"] == {
        "type": "ExternalName",
        "externalName": "localhost",
        "ports": [{"name": "https", "port": 9443, "protocol": "TCP"}],
    }
    options = operator_options(parse_arguments(container(objects)["args"])).webhook
    assert options is not None
    assert options.service == ServiceEndpoint(NAMESPACE, service["metadata"]["name"], 9443)


def test_on_the_host_network_the_pod_resolves_cluster_names_and_serves_on_the_ports_asked() -> None:
    default = find(render(), "Deployment")["spec"]["template"]["spec"]
    assert "hostNetwork" not in default
    assert "dnsPolicy" not in default
    objects = render(TOGGLES["host-network"])
    pod = find(objects, "Deployment")["spec"]["template"]["spec"]
    assert (pod["hostNetwork"], pod["dnsPolicy"]) == (True, "ClusterFirstWithHostNet")
    # These become the node's ports (the API server defaults hostPort to containerPort).
    ports = {port["name"]: port["containerPort"] for port in container(objects)["ports"]}
    assert ports == {"webhook": 10443, "health": 10080, "metrics": 10081}
    options = operator_options(parse_arguments(container(objects)["args"]))
    assert options.webhook is not None
    assert (options.webhook.port, options.metrics_port) == (10443, 10081)
    assert webhook_service(objects)["spec"]["ports"][0]["targetPort"] == "webhook"


def test_the_webhooks_can_be_turned_off_entirely() -> None:
    objects = render(TOGGLES["webhook-disabled"])
    assert not {"Service", "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"} & set(
        kinds(objects)
    )  # the metrics Service is off by default
    assert not any(argument.startswith("--webhook") for argument in container(objects)["args"])


def test_a_list_of_namespaces_gets_a_role_in_each_and_no_cluster_wide_access_to_them() -> None:
    objects = render(TOGGLES["namespaces"])
    options = operator_options(parse_arguments(container(objects)["args"]))
    assert options.namespaces == ("flink", "batch")
    roles = [
        item for item in objects if item["kind"] == "Role" and item["metadata"]["namespace"] != NAMESPACE
    ]
    bindings = [
        item
        for item in objects
        if item["kind"] == "RoleBinding" and item["metadata"]["namespace"] != NAMESPACE
    ]
    assert sorted(role["metadata"]["namespace"] for role in roles) == ["batch", "flink"]
    assert sorted(binding["metadata"]["namespace"] for binding in bindings) == ["batch", "flink"]
    cluster_resources = {
        resource for rule in operator_cluster_role(objects)["rules"] for resource in rule["resources"]
    }
    assert "configmaps" not in cluster_resources
    assert "namespaces" in cluster_resources  # kopf lists the served namespaces


def operator_cluster_role(objects: list[Json]) -> Json:
    """The operator's own ClusterRole (the others are the aggregated ones for users)."""
    return find(objects, "ClusterRole", "flink-tm-memory-operator-cluster")


def test_no_rule_uses_a_wildcard_creates_or_deletes_webhook_configurations_or_reaches_unnamed_secrets(
    rendered: tuple[str, list[Json]],
) -> None:
    _, objects = rendered
    for item in objects:
        if item["kind"] == "ClusterRole" and not item["metadata"]["name"].endswith("-cluster"):
            continue  # the aggregated roles for users (test_hygiene.py): delete is theirs to have
        for rule in item.get("rules", []):
            assert "*" not in [*rule["verbs"], *rule["resources"], *rule["apiGroups"]], rule
            assert "delete" not in rule["verbs"]
            assert "deletecollection" not in rule["verbs"]
            if "secrets" in rule["resources"]:
                assert item["kind"] == "Role", "Secrets only in the operator's namespace"
                assert item["metadata"]["namespace"] == NAMESPACE
                assert rule["resources"] == ["secrets"]
                assert len(rule.get("resourceNames", [])) == 1, rule
                assert sorted(rule["verbs"]) == ["get", "patch"], rule
            if {"validatingwebhookconfigurations", "mutatingwebhookconfigurations"} & set(rule["resources"]):
                assert rule.get("resourceNames") == ["flink-tm-memory-operator"], rule
                assert sorted(rule["verbs"]) == ["get", "patch"], rule


def test_the_operator_shares_its_certificates_through_the_one_secret_it_may_read_and_patch() -> None:
    objects = render()
    options = operator_options(parse_arguments(container(objects)["args"])).webhook
    assert options is not None
    assert options.secret is not None
    secret = find(objects, "Secret")
    assert (options.secret.namespace, options.secret.name) == (NAMESPACE, secret["metadata"]["name"])
    assert "data" not in secret
    assert "stringData" not in secret
    role = find(objects, "Role", secret["metadata"]["name"])
    assert role["rules"] == [
        {
            "apiGroups": [""],
            "resources": ["secrets"],
            "resourceNames": [options.secret.name],
            "verbs": ["get", "patch"],
        }
    ]
    binding = find(objects, "RoleBinding", secret["metadata"]["name"])
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    assert binding["subjects"][0]["name"] == container_service_account(objects)


def test_the_rotation_periods_come_from_the_values() -> None:
    values = {
        "webhook": {
            "selfSigned": {
                "caValidity": "60s",
                "certificateValidity": "15s",
                "rotationOverlap": "5s",
                "checkInterval": 1,
            }
        }
    }
    options = operator_options(parse_arguments(container(render(values))["args"])).webhook
    assert options is not None
    assert (options.validity.ca, options.validity.serving, options.validity.overlap) == (
        timedelta(seconds=60),
        timedelta(seconds=15),
        timedelta(seconds=5),
    )
    assert options.configuration_check_interval == options.certificate_check_interval == 1


def test_cert_manager_mode_has_no_secret_rule_and_no_webhook_configuration_rule() -> None:
    objects = render(TOGGLES["cert-manager"])
    assert "Secret" not in kinds(objects)
    resources = {
        resource for item in objects for rule in item.get("rules", []) for resource in rule["resources"]
    }
    assert not {"secrets", "validatingwebhookconfigurations", "mutatingwebhookconfigurations"} & resources


def container_service_account(objects: list[Json]) -> str:
    name: str = find(objects, "Deployment")["spec"]["template"]["spec"]["serviceAccountName"]
    return name


def test_an_existing_service_account_is_bound_and_none_is_created() -> None:
    objects = render(TOGGLES["existing-service-account"])
    assert "ServiceAccount" not in kinds(objects)
    assert (
        find(objects, "Deployment")["spec"]["template"]["spec"]["serviceAccountName"] == "platform-operator"
    )
    assert find(objects, "ClusterRoleBinding")["subjects"][0]["name"] == "platform-operator"
    assert not {"ClusterRole", "ClusterRoleBinding"} & set(kinds(render(TOGGLES["no-rbac"])))


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"webhook": {"port": 80}}, "webhook.port"),
        ({"logFormat": "xml"}, "logFormat"),
        ({"watchNamespaces": ["Not_A_Namespace"]}, "watchNamespaces.0"),
        ({"driftInterval": 0}, "driftInterval"),
        ({"image": {"pullPolicy": "Sometimes"}}, "image.pullPolicy"),
        (
            {"webhook": {"certManager": {"issuerRef": {"kind": "Vault"}}}},
            "webhook.certManager.issuerRef.kind",
        ),
        ({"replicas": 2}, "replicas"),
        ({"metrics": {"port": 80}}, "metrics.port"),
        ({"health": {"apiUnreadyAfter": 0}}, "health.apiUnreadyAfter"),
        ({"metrics": {"serviceMonitor": {"interval": "often"}}}, "metrics.serviceMonitor.interval"),
        ({"hostNetwork": "yes"}, "hostNetwork"),
        ({"image": {"digest": "latest"}}, "image.digest"),
        ({"podSecurityContext": {"runAsUser": "nobody"}}, "podSecurityContext.runAsUser"),
        ({"networkPolicy": {"apiServer": {"cidrs": ["kubernetes"]}}}, "networkPolicy.apiServer.cidrs.0"),
        ({"metrics": {"perResource": "no"}}, "metrics.perResource"),
        ({"namespace": {"labels": {"pod-security.kubernetes.io/enforce": 1}}}, "namespace.labels"),
        ({"replicaCount": 0}, "replicaCount"),
        ({"leaderElection": {"leaseDuration": 0}}, "leaderElection.leaseDuration"),
        ({"podDisruptionBudget": {"maxUnavailable": 0}}, "podDisruptionBudget.maxUnavailable"),
        ({"terminationGracePeriodSeconds": 0}, "terminationGracePeriodSeconds"),
    ],
)
def test_the_values_schema_refuses_bad_values_naming_the_field(values: Json, field: str) -> None:
    error = helm_failure(values)
    assert "values don't meet the specifications of the schema" in error
    assert field.replace(".", "/") in error or field in error, error


def test_every_value_is_documented_by_a_comment_starting_with_its_name() -> None:
    lines = (CHART / "values.yaml").read_text(encoding="utf-8").splitlines()
    values = yaml.safe_load("\n".join(lines))
    documented = set()
    for line in lines:
        comment = re.match(r"\s*# ([\w.]+):", line)
        if comment:
            documented.add(comment.group(1))
    free_form = {"resources.requests", "resources.limits", "namespace.labels"}  # names chosen by others
    missing = [
        key
        for key in _keys(values)
        if key not in documented and not any(key.startswith(f"{parent}.") for parent in free_form)
    ]
    assert missing == []
    schema = json.loads((CHART / "values.schema.json").read_text(encoding="utf-8"))
    assert set(values) <= set(schema["properties"])


def _keys(values: Json, prefix: str = "") -> list[str]:
    found = []
    for key, value in values.items():
        name = f"{prefix}{key}"
        found.append(name)
        if isinstance(value, dict) and value:
            found.extend(_keys(value, f"{name}."))
    return found


def rendered_notes(values: Json, tmp_path: Path) -> str:
    """NOTES.txt rendered by Helm's engine with these values.

    ``helm template`` leaves NOTES.txt out and ``helm install --dry-run`` wants a cluster, so a copy of
    the chart renders the same file through ``tpl`` into a ConfigMap.
    """
    chart = tmp_path / "chart"
    shutil.copytree(CHART, chart)
    (chart / "files" / "NOTES.txt").write_text(
        (CHART / "templates" / "NOTES.txt").read_text(encoding="utf-8")
    )
    (chart / "templates" / "notes-probe.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes-probe\ndata:\n"
        '  notes: {{ tpl (.Files.Get "files/NOTES.txt") . | toJson }}\n'
    )
    completed = helm(
        "template", "flink-tm-memory-operator", str(chart), "--namespace", NAMESPACE, values=values
    )
    assert completed.returncode == 0, completed.stderr
    probe = next(
        item
        for item in yaml.safe_load_all(completed.stdout)
        if item and item["metadata"]["name"] == "notes-probe"
    )
    notes: str = probe["data"]["notes"]
    return notes


def test_the_notes_tell_how_to_create_a_first_resource_and_read_its_status(tmp_path: Path) -> None:
    notes = rendered_notes({}, tmp_path)
    assert f"kubectl -n {NAMESPACE} rollout status deployment/flink-tm-memory-operator" in notes
    first_resource = notes.split("cat <<'YAML' | kubectl apply -f -\n", 1)[1].split("     YAML", 1)[0]
    resource = yaml.safe_load(textwrap.dedent(first_resource))
    assert resource["kind"] == "FlinkTaskManagerMemory"
    assert admission_verdict(resource).allowed  # the example is one the webhook admits
    assert "kubectl get ftmm my-taskmanagers" in notes
    assert "every namespace" in notes
    assert "the namespaces flink, batch" in rendered_notes(TOGGLES["namespaces"], tmp_path / "scoped")


def test_the_committed_install_manifest_is_the_chart_rendered_with_default_values() -> None:
    assert INSTALL_MANIFEST.read_text(encoding="utf-8") == install_manifest(), "stale: run `make manifests`"
    objects = [item for item in yaml.safe_load_all(INSTALL_MANIFEST.read_text(encoding="utf-8")) if item]
    namespace = objects[0]
    assert (namespace["kind"], namespace["metadata"]["name"]) == ("Namespace", NAMESPACE)
    assert {
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/audit": "restricted",
        "pod-security.kubernetes.io/warn": "restricted",
    }.items() <= namespace["metadata"]["labels"].items()
    for item in objects:
        kubernetes_validate.validate(item, KUBERNETES, strict=True)
