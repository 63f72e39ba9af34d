"""``check`` and ``render``: the webhook's verdict and the operator's writes for manifests, offline."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from flink_tm_memory.render.admission import admission_verdict
from tests.unit.cli.conftest import CliRunner

SAMPLES = Path(__file__).resolve().parents[3] / "manifests" / "samples"

MEMORY = """\
apiVersion: flinkmemory.io/v1alpha1
kind: FlinkTaskManagerMemory
metadata: {name: etl, namespace: flink}
spec:
  resources: {memory: 4Gi}
  targets:
    workloads:
      - {kind: Deployment, name: etl-taskmanager}
      - {kind: FlinkDeployment, name: etl-job}
"""

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: etl-taskmanager, namespace: flink}
spec:
  selector: {matchLabels: {app: tm}}
  template:
    metadata: {labels: {app: tm}}
    spec:
      containers: [{name: taskmanager, image: flink, resources: {requests: {memory: 2G}}}]
"""


def gitops(tmp_path: Path) -> Path:
    (tmp_path / "apps").mkdir()
    (tmp_path / "memory.yaml").write_text(MEMORY)
    (tmp_path / "apps" / "tm.yml").write_text("# the TaskManagers\n---\n" + DEPLOYMENT)
    (tmp_path / "README.md").write_text("not a manifest")
    return tmp_path


def test_check_admits_and_shows_the_patch_of_a_target_in_another_file(cli: CliRunner, tmp_path: Path) -> None:
    run = cli("check", "-f", str(gitops(tmp_path)))
    assert run.code == 0, run.out
    assert "FlinkTaskManagerMemory flink/etl: admitted" in run.out
    assert (
        "Deployment etl-taskmanager: would be patched: container taskmanager requests memory 4Gi, cpu 1; "
        "limits memory 4Gi, cpu 1" in run.out
    )
    assert "FlinkDeployment etl-job: not among these manifests" in run.out
    assert run.out.rstrip().endswith("1 FlinkTaskManagerMemory in 2 files: 0 denied")


def test_check_denies_as_the_webhook_does_and_lists_every_fix(cli: CliRunner) -> None:
    sample = SAMPLES / "conflicting.yaml"
    run = cli("check", "-f", str(sample))
    verdict = admission_verdict(yaml.safe_load(sample.read_text()))
    assert run.code == 1
    assert not verdict.allowed
    for line in verdict.message.splitlines():
        assert f"  {line}" in run.out
    assert "  or: remove taskmanager.memory.task.heap.size: Flink then derives it" in run.out
    assert "  warning: spec.flinkConfiguration:" in run.out


def test_check_json_and_unreadable_files(cli: CliRunner, tmp_path: Path) -> None:
    root = gitops(tmp_path)
    (root / "broken.yaml").write_text("kind: [unclosed\n")
    run = cli("check", "-f", str(root), "-f", str(root / "missing.yaml"), "--format", "json")
    document = json.loads(run.out)
    assert run.code == 1
    assert document["denied"] == 0
    assert [error.split(":")[0] for error in document["errors"]] == [
        str(root / "broken.yaml"),
        str(root / "missing.yaml"),
    ]
    (report,) = document["resources"]
    assert report["allowed"] is True
    assert report["targets"][0]["patch"]["spec"]["template"]["spec"]["containers"][0]["name"] == "taskmanager"


def test_render_writes_the_configmap_the_patches_and_the_status(cli: CliRunner, tmp_path: Path) -> None:
    run = cli("render", "-f", str(gitops(tmp_path)))
    (entry,) = yaml.safe_load(run.out)["resources"]
    assert run.code == 0
    assert entry["configMap"]["metadata"] == {
        "name": "etl-flink-tm-memory",
        "namespace": "flink",
        "labels": {
            "app.kubernetes.io/managed-by": "flink-tm-memory-operator",
            "flinkmemory.io/memory": "etl",
        },
    }
    assert "taskmanager.memory.process.size: 4294967296b" in entry["configMap"]["data"]["config.yaml"]
    assert entry["workloads"][0]["patch"]["spec"]["template"]["spec"]["containers"][0]["resources"][
        "requests"
    ] == {
        "memory": "4Gi",
        "cpu": "1",
    }
    assert entry["status"]["podResources"]["requests"]["memory"] == "4Gi"


def test_render_of_an_invalid_resource_is_its_status_and_exit_1(cli: CliRunner) -> None:
    run = cli("render", "-f", str(SAMPLES / "conflicting.yaml"), "--format", "json")
    (entry,) = json.loads(run.out)["resources"]
    assert run.code == 1
    assert entry["valid"] is False
    assert "configMap" not in entry
    assert entry["status"]["conflicts"][0]["reason"] == "ProcessBelowFlinkAndMetaspace"


def test_no_files_is_a_usage_error(cli: CliRunner) -> None:
    assert cli("check").code == 2
    assert cli("render").code == 2
