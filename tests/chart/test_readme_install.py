"""The README's Install section, checked against the chart it drives: a newcomer can run it as written.

Every ``helm install`` in it, and each ``--set`` its prose offers, renders with real Helm; the names
its kubectl commands use (the Deployment, the CRD, the sample and its ConfigMap, the release that
adopts a hand-applied CRD) are the ones the chart and the samples make; the uninstall that keeps the
CRD deletes every other object of ``manifests/install.yaml``; and the clean-up command for leftover
webhook configurations is the one the chart prints.
"""

from __future__ import annotations

import re
import shlex

import yaml

from flink_tm_memory.api.v1alpha1 import CONFIG_MAP_SUFFIX
from tests.chart.helm import ROOT, find, helm, render
from tests.chart.install_manifest import INSTALL_MANIFEST
from tests.chart.test_existing_objects import CLEAN_UP

README = ROOT / "README.md"
CLUSTER_SCOPED = {"Namespace", "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding"} | {
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
}


def section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end]


def commands(markdown: str) -> list[list[str]]:
    """The commands of the ``sh`` blocks, continuation lines joined, comments dropped."""
    found = []
    for block in re.findall(r"^ *```sh\n(.*?)^ *```", markdown, flags=re.DOTALL | re.MULTILINE):
        for line in block.replace("\\\n", " ").splitlines():
            for command in line.split("&&"):
                words = shlex.split(command, comments=True)
                if words:
                    found.append(words)
    return found


INSTALL = section("Install")
HELM_INSTALLS = [words for words in commands(INSTALL) if words[:2] == ["helm", "install"]]


def option(words: list[str], *names: str) -> str:
    [value] = [words[index + 1] for index, word in enumerate(words) if word in names]
    return value


def kubectl(verb: str, *, containing: str = "") -> list[list[str]]:
    return [
        words
        for words in commands(INSTALL)
        if words[:2] == ["kubectl", verb] and containing in " ".join(words)
    ]


def helm_template(words: list[str]) -> list[dict[str, object]]:
    """``helm install`` as ``helm template``: the same chart, release, namespace and values."""
    arguments = [str(ROOT / word) if word.startswith("charts/") else word for word in words[2:]]
    arguments = [word for word in arguments if word != "--create-namespace"]
    completed = helm("template", *arguments)
    assert completed.returncode == 0, f"{shlex.join(words)}\n{completed.stderr}"
    return [document for document in yaml.safe_load_all(completed.stdout) if document]


def test_every_helm_install_in_the_readme_renders() -> None:
    assert HELM_INSTALLS
    for words in HELM_INSTALLS:
        objects = helm_template(words)
        assert find(objects, "Deployment")["metadata"]["namespace"] == option(words, "--namespace", "-n")


def test_every_set_the_readme_offers_renders_with_its_install() -> None:
    offered = re.findall(r"`(--set [^`]+)`", INSTALL)
    assert {"hostNetwork=true", "crds.enabled=false"} <= {shlex.split(item)[1] for item in offered}
    for item in offered:
        helm_template([*HELM_INSTALLS[0], *shlex.split(item)])


def test_the_rollout_the_readme_waits_for_is_the_charts_deployment() -> None:
    [words] = kubectl("-n", containing="rollout status")
    deployment = find(helm_template(HELM_INSTALLS[0]), "Deployment")["metadata"]
    assert words[1:3] == ["-n", deployment["namespace"]]
    assert words[-1] == f"deployment/{deployment['name']}"


def test_a_hand_applied_crd_is_adopted_by_the_release_the_readme_installs() -> None:
    crd = find(render(), "CustomResourceDefinition")["metadata"]["name"]
    [label] = kubectl("label")
    [annotate] = kubectl("annotate")
    assert label[2:4] == annotate[2:4] == ["crd", crd]
    assert "app.kubernetes.io/managed-by=Helm" in label
    install = HELM_INSTALLS[0]
    assert f"meta.helm.sh/release-name={install[2]}" in annotate
    assert f"meta.helm.sh/release-namespace={option(install, '--namespace', '-n')}" in annotate
    assert f"kubectl delete crd {crd}" in " ".join(INSTALL.split())


def test_the_first_resource_commands_name_the_sample_and_its_configmap() -> None:
    [applied] = kubectl("apply", containing="samples/")
    sample = yaml.safe_load((ROOT / applied[-1]).read_text(encoding="utf-8"))
    name = sample["metadata"]["name"]
    assert sample["kind"] == "FlinkTaskManagerMemory"
    assert all(words[3] == name for words in kubectl("get", containing="ftmm ") if len(words) > 3)
    assert kubectl("get", containing="configmap")[0][3] == f"{name}{CONFIG_MAP_SUFFIX}"


def test_the_uninstall_that_keeps_the_crd_deletes_every_other_installed_object() -> None:
    [namespace] = [words[3] for words in kubectl("delete", containing="namespace")]
    [cluster] = kubectl("delete", containing="clusterrole")
    kinds = set(cluster[2].split(","))
    selector = option(cluster, "-l")
    key, value = selector.split("=")
    installed = [item for item in yaml.safe_load_all(INSTALL_MANIFEST.read_text(encoding="utf-8")) if item]
    for item in installed:
        kind, metadata = item["kind"], item["metadata"]
        if kind == "Namespace":
            assert metadata["name"] == namespace
        elif kind == "CustomResourceDefinition":
            assert kind.lower() not in kinds
        elif kind in CLUSTER_SCOPED:
            assert kind.lower() in kinds
            assert metadata["labels"][key] == value, metadata
        else:
            assert metadata["namespace"] == namespace, metadata


def test_the_leftover_webhook_configurations_are_deleted_with_the_command_the_chart_prints() -> None:
    assert commands(INSTALL).count(CLEAN_UP.split()) == 1
    assert CLEAN_UP.split() in commands(section("The operator"))
    webhooks = (ROOT / "docs" / "webhooks.md").read_text(encoding="utf-8")
    assert CLEAN_UP.split() in commands(webhooks)
