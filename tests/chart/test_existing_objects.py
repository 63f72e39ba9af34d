"""Webhook configurations already in the cluster at install time: the chart stops, saying whose and what to do.

Both configurations have one fixed name, so the ones a development operator writes (``flink-tm-memory
run --webhook-manage-configurations``) or someone applied (``manifests/webhooks/``) block ``helm
install``. The chart looks them up and stops with where they came from and the command that removes
them, unless this release owns them (an upgrade). ``helm template`` never asks a cluster (``lookup``
finds nothing), so these tests render a copy of the chart whose lookup reads the objects from a value;
the ``lookup`` call itself only runs against a real cluster.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from flink_tm_memory.render.metadata import MANAGED_BY_LABEL, OPERATOR_NAME
from flink_tm_memory.render.webhook_configurations import UrlEndpoint, WebhookSetup, webhook_configurations
from tests.chart.helm import CHART, NAMESPACE, RELEASE, helm, render

Json = dict[str, Any]
LOOKUP = 'lookup "admissionregistration.k8s.io/v1" $kind "" "flink-tm-memory-operator"'
CLEAN_UP = (
    "kubectl delete validatingwebhookconfiguration,mutatingwebhookconfiguration flink-tm-memory-operator"
)
"""The command the chart, the README and docs/webhooks.md give for leftover configurations."""
VALIDATING, MUTATING = "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"


def install_over(
    live: list[Json], tmp_path: Path, values: Json | None = None
) -> subprocess.CompletedProcess[str]:
    """The chart rendered as ``helm install`` would with ``live`` in the cluster."""
    chart = tmp_path / "chart"
    shutil.copytree(CHART, chart)
    template = chart / "templates" / "webhook-configurations.yaml"
    source = template.read_text(encoding="utf-8")
    assert source.count(LOOKUP) == 1, "the chart no longer looks the configurations up this way"
    template.write_text(source.replace(LOOKUP, "get $.Values.inTheCluster $kind"), encoding="utf-8")
    (chart / "values.schema.json").unlink()  # it would refuse the extra value
    in_the_cluster = {item["kind"]: item for item in live}
    return helm(
        "template",
        RELEASE,
        str(chart),
        "--namespace",
        NAMESPACE,
        values={**(values or {}), "inTheCluster": in_the_cluster},
    )


def development_configurations(*kinds: str) -> list[Json]:
    """What a development operator keeps (``flink-tm-memory webhook-configurations --operator-ca`` applied,
    then patched by ``flink-tm-memory run --webhook-self-signed 172.17.0.1 --webhook-manage-configurations``)."""
    setup = WebhookSetup(UrlEndpoint("https://172.17.0.1:9443"), ca_bundle=b"-----BEGIN CERTIFICATE-----\n")
    return [item for item in webhook_configurations(setup) if item["kind"] in kinds]


def installed_by(release: str, namespace: str) -> list[Json]:
    """The chart's configurations as a Helm release leaves them once the operator has kept them."""
    installed = [item for item in render() if item["kind"] in (VALIDATING, MUTATING)]
    for item in installed:
        # Helm sets managed-by to Helm; the operator, keeping them, sets it back to itself.
        item["metadata"]["labels"][MANAGED_BY_LABEL] = OPERATOR_NAME
        item["metadata"]["annotations"] = {
            "meta.helm.sh/release-name": release,
            "meta.helm.sh/release-namespace": namespace,
        }
    return installed


def test_with_nothing_in_the_cluster_the_chart_installs(tmp_path: Path) -> None:
    assert install_over([], tmp_path).returncode == 0


def test_the_releases_own_configurations_are_upgraded_in_place(tmp_path: Path) -> None:
    completed = install_over(installed_by(RELEASE, NAMESPACE), tmp_path)
    assert completed.returncode == 0, completed.stderr


@pytest.mark.parametrize("kinds", [(VALIDATING,), (MUTATING,), (VALIDATING, MUTATING)])
def test_a_development_operators_configurations_stop_the_install_with_the_command_that_removes_them(
    kinds: tuple[str, ...], tmp_path: Path
) -> None:
    completed = install_over(development_configurations(*kinds), tmp_path)
    assert completed.returncode != 0
    message = " ".join(completed.stderr.split())
    assert f"{kinds[0]} flink-tm-memory-operator is already in the cluster and is not Helm's" in message
    assert "--webhook-manage-configurations" in message
    assert "refuses every FlinkTaskManagerMemory change" in message
    assert f"install again: {CLEAN_UP}" in message, message


def test_another_releases_configurations_stop_the_install_naming_that_release(tmp_path: Path) -> None:
    for release, namespace in [("batch-operator", "batch"), (RELEASE, "elsewhere")]:
        completed = install_over(installed_by(release, namespace), tmp_path / namespace)
        assert completed.returncode != 0
        message = " ".join(completed.stderr.split())
        assert f"belongs to the Helm release {release} in namespace {namespace}" in message
        assert "--set webhook.enabled=false" in message


def test_without_webhooks_leftover_configurations_do_not_stop_the_install(tmp_path: Path) -> None:
    leftovers = development_configurations(VALIDATING, MUTATING)
    assert install_over(leftovers, tmp_path, {"webhook": {"enabled": False}}).returncode == 0


def test_the_clean_up_command_deletes_exactly_the_configurations_the_chart_installs() -> None:
    kinds, name = CLEAN_UP.split()[2:]
    installed = {
        (item["kind"].lower(), item["metadata"]["name"])
        for item in render()
        if item["kind"] in (VALIDATING, MUTATING)
    }
    assert installed == {(kind, name) for kind in kinds.split(",")}
    written = {
        (item["kind"].lower(), item["metadata"]["name"])
        for item in development_configurations(VALIDATING, MUTATING)
    }
    assert written == installed
