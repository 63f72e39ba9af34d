"""Only what the requester may write, against the real API server's RBAC (SubjectAccessReviews).

A control plane (no node: nothing here needs a pod to run), the chart installed by Helm, the operator
running here with a token of the chart's ServiceAccount and the API server calling its validating
webhook at its loopback address (``local_operator.py``; the configurations are the operator's to
write). Users are impersonated through the admin
kubeconfig (``kubectl --as``/``--as-group``) and get their rights from Roles the test creates: a user
who may create the custom resource but not patch its target Deployment is denied at ``kubectl
apply`` with the object and the verb; given ``patch`` on that Deployment through a group, admitted.
Then, with the webhook's check passed, the reconciliation's own check: the Deployment, not opted
in, is left alone and the status says which annotation to add.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from tests.e2e.local_operator import APPS, Story, installed_story
from tests.e2e.support import eventually

Json = dict[str, Any]
TARGET = "payments-taskmanager"


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Story]:
    with installed_story(
        tmp_path_factory.mktemp("cluster"),
        APPS,
        webhook=True,
        helm_values=lambda _: [],
        via_service=False,  # the API server calls https://localhost:PORT: this control plane runs here
    ) as story:
        yield story


def apply(story: Story, document: Json, *extra: str) -> subprocess.CompletedProcess[str]:
    return story.kubectl("apply", "-n", APPS, *extra, "-f", "-", input=yaml.safe_dump(document), check=False)


def rbac(story: Story, name: str, rules: list[Json], subject: Json) -> None:
    """A Role in the apps' namespace with ``rules``, bound to ``subject`` (a User or a Group)."""
    role = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": name},
        "rules": rules,
    }
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": name},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", **subject}],
    }
    for document in (role, binding):
        applied = apply(story, document)
        assert applied.returncode == 0, applied.stderr


def memory() -> Json:
    return {
        "apiVersion": "flinkmemory.io/v1alpha1",
        "kind": "FlinkTaskManagerMemory",
        "metadata": {"name": "alice-memory"},
        "spec": {
            "flinkVersion": "2.2",
            "resources": {"memory": "4Gi"},
            "targets": {"workloads": [{"kind": "Deployment", "name": TARGET, "container": "taskmanager"}]},
        },
    }


def deployment() -> Json:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": TARGET},
        "spec": {
            "replicas": 0,
            "selector": {"matchLabels": {"app": TARGET}},
            "template": {
                "metadata": {"labels": {"app": TARGET}},
                "spec": {"containers": [{"name": "taskmanager", "image": "flink:2.2"}]},
            },
        },
    }


def test_a_user_who_may_not_patch_the_target_is_denied_and_admitted_once_granted(story: Story) -> None:
    assert apply(story, deployment()).returncode == 0  # someone else's Deployment, not opted in
    authors = [
        {
            "apiGroups": ["flinkmemory.io"],
            "resources": ["flinktaskmanagermemories"],
            "verbs": ["get", "create", "patch"],
        },
        {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["create"]},
    ]
    rbac(story, "ftmm-author", authors, {"kind": "User", "name": "alice"})

    denied = apply(story, memory(), "--as=alice")
    assert denied.returncode != 0
    assert 'admission webhook "validate-memory.flinkmemory.io" denied the request' in denied.stderr
    assert f"alice may not patch Deployment {APPS}/{TARGET}" in denied.stderr, denied.stderr
    assert f"ask for patch on deployments.apps in namespace {APPS}" in denied.stderr
    assert story.get("ftmm", "alice-memory") is None

    patch_it = [
        {"apiGroups": ["apps"], "resources": ["deployments"], "resourceNames": [TARGET], "verbs": ["patch"]}
    ]
    rbac(story, "payments-patcher", patch_it, {"kind": "Group", "name": "payments-team"})
    outside = apply(story, memory(), "--as=alice")
    assert f"alice may not patch Deployment {APPS}/{TARGET}" in outside.stderr  # not in the group
    admitted = apply(
        story, memory(), "--as=alice", "--as-group=payments-team", "--as-group=system:authenticated"
    )
    assert admitted.returncode == 0, admitted.stderr
    assert story.get("ftmm", "alice-memory") is not None


def test_a_target_that_does_not_opt_in_is_left_alone_and_the_status_says_how(story: Story) -> None:
    def refused() -> Json | None:
        status = (story.get("ftmm", "alice-memory") or {}).get("status") or {}
        applied = next((entry for entry in status.get("conditions", []) if entry["type"] == "Applied"), None)
        return applied if applied is not None and applied["reason"] == "NotOptedIn" else None

    applied = eventually(refused, what=f"Applied=False NotOptedIn\n{story.operator_log()}")
    assert "add the annotation flinkmemory.io/memory=alice-memory to it" in applied["message"]
    container = (story.get("deployment", TARGET) or {})["spec"]["template"]["spec"]["containers"][0]
    assert "resources" not in container or not container["resources"]
    events = json.loads(
        story.kubectl(
            "get", "events", "-n", APPS, "--field-selector", "reason=NotOptedIn", "-o", "json"
        ).stdout
    )["items"]
    assert [event["type"] for event in events] == ["Warning"]

    story.kubectl("annotate", "deployment", TARGET, "-n", APPS, "flinkmemory.io/memory=alice-memory")
    story.kubectl(
        "patch",
        "ftmm",
        "alice-memory",
        "-n",
        APPS,
        "--type=merge",
        "-p",
        '{"spec":{"resources":{"memory":"5Gi"}}}',
    )

    def sized() -> Json | None:
        body = story.get("deployment", TARGET) or {}
        resources = body["spec"]["template"]["spec"]["containers"][0].get("resources") or {}
        return resources if resources.get("requests", {}).get("memory") == "5Gi" else None

    eventually(sized, what=f"the opted-in Deployment sized\n{story.operator_log()}")
