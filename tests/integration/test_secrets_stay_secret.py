"""Secret-looking Flink options and the operator's credentials never reach its logs, Events or status.

The operator runs at debug level (``--verbose``: kopf then logs whole objects, patches and diffs),
reads its credentials from a kubeconfig holding a bearer token, and reconciles a resource whose
``flinkConfiguration`` holds an S3 secret key, an Azure account key, a keystore password and a
metrics API key, through creation, an edit and a spec Flink refuses. Every log record of the whole
process, every Event and the status are searched for those values. The generated ConfigMap does pass
them through (by design: it is the TaskManager's configuration file; see docs/security.md).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import yaml
from kubernetes.config import kube_config

from tests.integration.conftest import TEST_OPTIONS, OperatorThread
from tests.integration.emulator import ApiEmulator
from tests.integration.kubectl import CONFIG_MAPS, MEMORIES, Kubectl, eventually, observed, ready, sample

TOKEN = "bearer-TOKEN-0f6c2a"
SECRETS = {
    "s3.secret-key": "S3-SECRET-7d41",
    "fs.azure.account.key.acct.blob.core.windows.net": "AZURE-KEY-99b2==",
    "security.ssl.internal.keystore-password": "KEYSTORE-PASS-31",
    "metrics.reporter.dghttp.apikey": "DD-APIKEY-5e",
}
VALUES = [*SECRETS.values(), TOKEN]


def kubeconfig(tmp_path: Path, server: str) -> Path:
    path = tmp_path / "kubeconfig"
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "emulator", "cluster": {"server": server}}],
        "users": [{"name": "operator", "user": {"token": TOKEN}}],
        "contexts": [{"name": "emulator", "context": {"cluster": "emulator", "user": "operator"}}],
        "current-context": "emulator",
    }
    path.write_text(yaml.safe_dump(config))
    return path


async def test_secret_options_and_the_token_are_in_no_log_event_or_status(
    kubectl: Kubectl,
    emulator: ApiEmulator,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG)
    # The client reads $KUBECONFIG once, at import: the location it would have read, as if set then.
    monkeypatch.setattr(
        kube_config, "KUBE_CONFIG_DEFAULT_LOCATION", str(kubeconfig(tmp_path, str(emulator.url)))
    )
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    operator = OperatorThread(TEST_OPTIONS)  # no server: the kubeconfig's, with its token
    await operator.start()
    try:
        await reconcile_with_secrets(kubectl)
    finally:
        await operator.stop()

    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "Merge-patching the resource with" in logged  # kopf did dump its patches: the test can see them
    assert "******" in logged
    for value in [*VALUES, "S3-SECRET-8e52"]:
        assert value not in logged, value
        assert value not in json.dumps(kubectl.events()), value
        assert value not in json.dumps(kubectl.status("process-size")), value
    config_file = (kubectl.get(CONFIG_MAPS, "process-size-flink-tm-memory") or {})["data"]["config.yaml"]
    assert yaml.safe_load(config_file)["s3.secret-key"] == "S3-SECRET-8e52"  # passed through, by design


async def reconcile_with_secrets(kubectl: Kubectl) -> None:
    """Created, edited, then refused by Flink: every path that logs, patches and posts Events."""
    manifest = sample("process-size")
    manifest["spec"]["flinkConfiguration"].update(SECRETS)

    await kubectl.create(MEMORIES, manifest)
    await ready(kubectl, "process-size")
    await kubectl.patch(
        MEMORIES, "process-size", {"spec": {"flinkConfiguration": {"s3.secret-key": "S3-SECRET-8e52"}}}
    )
    await ready(kubectl, "process-size")
    conflicting = {"taskmanager.memory.task.heap.size": "1536m", "taskmanager.memory.managed.size": "1g"}
    await kubectl.patch(MEMORIES, "process-size", {"spec": {"flinkConfiguration": conflicting}})
    await observed(kubectl, "process-size", 3)
    await eventually(lambda: len(kubectl.events("process-size")) >= 3, what="three events")
