"""``flink-tm-memory run``, the shipped process, reconciles through a kubeconfig and stops on SIGTERM."""

from __future__ import annotations

import asyncio
import datetime
import os
import signal
import sys
from pathlib import Path

import yaml

from tests.integration.emulator import ApiEmulator
from tests.integration.kubectl import MEMORIES, Kubectl, ready, sample

SCRIPT = Path(sys.executable).parent / "flink-tm-memory"


def kubeconfig(server: str) -> dict[str, object]:
    """A kubeconfig for an API server without authentication (the emulator)."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "emulator", "cluster": {"server": server}}],
        "users": [{"name": "anonymous", "user": {}}],
        "contexts": [{"name": "emulator", "context": {"cluster": "emulator", "user": "anonymous"}}],
        "current-context": "emulator",
    }


async def test_the_run_command_reconciles_logs_what_it_did_and_stops_cleanly_on_sigterm(
    emulator: ApiEmulator, kubectl: Kubectl, tmp_path: Path
) -> None:
    returncode, text = await _run_until_a_resource_is_ready(
        emulator, kubectl, tmp_path, ["--log-format", "plain"]
    )

    assert returncode == 0, text
    assert "Created ConfigMap name=process-size-flink-tm-memory generation=1" in text


async def test_with_leader_election_the_run_command_releases_the_lease_right_after_kopf_stops_on_sigterm(
    emulator: ApiEmulator, kubectl: Kubectl, tmp_path: Path
) -> None:
    returncode, text = await _run_until_a_resource_is_ready(
        emulator,
        kubectl,
        tmp_path,
        ["--log-format", "full", "--leader-election"],
        {"POD_NAME": "operator-0", "POD_NAMESPACE": "default"},
    )

    assert returncode == 0, text
    lease = emulator.stored("coordination.k8s.io/v1/leases", "default", "flink-tm-memory-operator")
    assert lease is not None
    assert lease["spec"]["holderIdentity"] == ""
    # kopf stopped by a signal waits 5 s for a task left waiting on a stop flag, if it was given one:
    # the release must follow kopf's stop at once, not after that wait.
    stopping, released = (
        _logged_at(text, line) for line in ("Signal SIGTERM is received", "Released the Lease")
    )
    assert 0 <= (released - stopping).total_seconds() < 5.0, text


async def _run_until_a_resource_is_ready(
    emulator: ApiEmulator,
    kubectl: Kubectl,
    tmp_path: Path,
    options: list[str],
    environment: dict[str, str] | None = None,
) -> tuple[int | None, str]:
    """``flink-tm-memory run`` through a kubeconfig of the emulator until a new resource is Ready, then
    SIGTERM: its exit code and output."""
    config = tmp_path / "kubeconfig"
    config.write_text(yaml.safe_dump(kubeconfig(str(emulator.url))), encoding="utf-8")
    env = {**os.environ, "KUBECONFIG": str(config), **(environment or {})}
    env.pop("KUBERNETES_SERVICE_HOST", None)
    process = await asyncio.create_subprocess_exec(
        SCRIPT, "run", *options, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    try:
        await kubectl.create(MEMORIES, sample("process-size"))
        await ready(kubectl, "process-size", timeout=30)
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(process.communicate(), timeout=30)
    return process.returncode, output.decode()


def _logged_at(output: str, line: str) -> datetime.datetime:
    """The timestamp of the first ``--log-format full`` line containing ``line``."""
    [first, *_] = [entry for entry in output.splitlines() if line in entry]
    return datetime.datetime.strptime(first[1:24], "%Y-%m-%d %H:%M:%S,%f")
