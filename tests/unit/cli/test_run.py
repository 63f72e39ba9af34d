"""``flink-tm-memory run``: its options, its usage errors, and a clear failure without a cluster to talk to."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from flink_tm_memory.cli.arguments import parse_arguments
from flink_tm_memory.cli.errors import UsageError
from flink_tm_memory.cli.run import operator_options
from flink_tm_memory.runtime.options import OperatorOptions

SCRIPT = Path(sys.executable).parent / "flink-tm-memory"


def test_the_options_reach_the_operator() -> None:
    arguments = parse_arguments(
        [
            "run",
            "-n",
            "flink",
            "--namespace",
            "batch-*",
            "--drift-interval",
            "15",
            "--liveness",
            "http://0.0.0.0:8080/healthz",
        ]
    )
    assert operator_options(arguments) == OperatorOptions(
        namespaces=("flink", "batch-*"),
        drift_interval=15.0,
        liveness_endpoint="http://0.0.0.0:8080/healthz",
    )


def test_the_reconciling_process_yields_the_cpu_when_asked_and_the_step_count_is_checked() -> None:
    assert operator_options(parse_arguments(["run"])).reconcile_nice == 0  # off until shown to help
    assert operator_options(parse_arguments(["run", "--reconcile-nice", "10"])).reconcile_nice == 10
    assert operator_options(parse_arguments(["run", "--reconcile-nice", "19"])).reconcile_nice == 19


def test_by_default_every_namespace_is_served_and_drift_is_checked_every_minute() -> None:
    options = operator_options(parse_arguments(["run"]))
    assert (options.namespaces, options.drift_interval) == ((), 60.0)
    assert operator_options(parse_arguments(["run", "--all-namespaces"])).namespaces == ()


def test_the_metrics_and_health_options_reach_the_operator() -> None:
    arguments = parse_arguments(
        ["run", "--metrics-port", "8081", "--metrics-listen", "127.0.0.1", "--api-unready-after", "30"]
    )
    options = operator_options(arguments)
    assert (options.metrics_port, options.metrics_listen, options.api_unready_after) == (
        8081,
        "127.0.0.1",
        30.0,
    )
    defaults = operator_options(parse_arguments(["run"]))
    assert (defaults.metrics_port, defaults.metrics_listen, defaults.api_unready_after) == (
        None,
        "0.0.0.0",
        60.0,
    )


@pytest.mark.parametrize(
    "args",
    [
        ["run", "-n", "flink", "-A"],
        ["run", "--drift-interval", "0"],
        ["run", "--drift-interval", "soon"],
        ["run", "--log-format", "xml"],
        ["run", "--metrics-port", "0"],
        ["run", "--metrics-port", "http"],
        ["run", "--api-unready-after", "-5"],
        ["run", "--reconcile-nice", "-1"],
        ["run", "--reconcile-nice", "20"],
        ["run", "--reconcile-nice", "low"],
    ],
)
def test_misuse_is_a_usage_error(args: list[str]) -> None:
    with pytest.raises(UsageError):
        parse_arguments(args)


def test_without_a_service_account_or_kubeconfig_it_exits_1_saying_why(tmp_path: Path) -> None:
    environment = {**os.environ, "KUBECONFIG": str(tmp_path / "absent"), "HOME": str(tmp_path)}
    environment.pop("KUBERNETES_SERVICE_HOST", None)

    completed = subprocess.run(
        [SCRIPT, "run"], env=environment, capture_output=True, text=True, check=False, timeout=60
    )

    assert completed.returncode == 1
    assert completed.stderr.startswith("flink-tm-memory: error: cannot find how to reach the API server")


def test_a_metrics_port_already_taken_exits_1_naming_the_address(tmp_path: Path) -> None:
    completed, port = _run_with_a_port_taken(
        tmp_path, lambda port: ["--metrics-port", str(port), "--metrics-listen", "127.0.0.1"]
    )

    assert completed.returncode == 1, completed.stderr
    assert completed.stderr.startswith(f"flink-tm-memory: error: cannot serve metrics on 127.0.0.1:{port}: ")


def test_a_webhook_port_already_taken_exits_1_naming_the_address(tmp_path: Path) -> None:
    completed, port = _run_with_a_port_taken(
        tmp_path,
        lambda port: [
            *("--webhook-port", str(port), "--webhook-listen", "127.0.0.1"),
            *("--webhook-self-signed", "localhost", "--webhook-cert-dir", str(tmp_path / "tls")),
        ],
    )

    assert completed.returncode == 1, completed.stderr
    assert completed.stderr.startswith(
        f"flink-tm-memory: error: cannot serve the admission webhooks on 127.0.0.1:{port}: "
    ), completed.stderr


def _run_with_a_port_taken(
    tmp_path: Path, options: Callable[[int], list[str]]
) -> tuple[subprocess.CompletedProcess[str], int]:
    """``flink-tm-memory run`` with ``options(port)``, a loopback port some socket listens on."""
    config = tmp_path / "kubeconfig"
    config.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        "clusters: [{name: c, cluster: {server: 'http://127.0.0.1:9'}}]\n"
        "users: [{name: u, user: {}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\n"
    )
    environment = {**os.environ, "KUBECONFIG": str(config), "HOME": str(tmp_path)}
    environment.pop("KUBERNETES_SERVICE_HOST", None)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port: int = taken.getsockname()[1]
        completed = subprocess.run(
            [SCRIPT, "run", *options(port)],
            env=environment,
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
    return completed, port
