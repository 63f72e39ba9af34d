"""``flink-tm-memory run``'s webhook options and ``flink-tm-memory webhook-configurations``."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
import yaml

from flink_tm_memory.cli.arguments import parse_arguments
from flink_tm_memory.cli.errors import UsageError
from flink_tm_memory.cli.run import operator_options
from flink_tm_memory.render.webhook_configurations import (
    DEFAULT_NAMESPACE,
    DEFAULT_SERVICE,
    INJECT_CA_ANNOTATION,
    ServiceEndpoint,
)
from flink_tm_memory.runtime.certificates import generate_certificates
from flink_tm_memory.runtime.options import WebhookOptions
from tests.unit.cli.conftest import CliRunner


def webhook(*args: str) -> WebhookOptions | None:
    return operator_options(parse_arguments(["run", *args])).webhook


def test_no_webhook_unless_a_port_is_given() -> None:
    assert webhook() is None


def test_a_self_signed_webhook_serves_the_listed_hosts_and_is_called_at_the_first() -> None:
    options = webhook("--webhook-port", "9443", "--webhook-self-signed", " 127.0.0.1, localhost ,")
    assert options == WebhookOptions(port=9443, self_signed_hosts=("127.0.0.1", "localhost"))
    assert options.url == "https://127.0.0.1:9443"
    ipv6 = webhook("--webhook-port", "9443", "--webhook-self-signed", "::1")
    assert ipv6 is not None
    assert ipv6.url == "https://[::1]:9443"


def test_managed_configurations_behind_a_service_with_mounted_certificates() -> None:
    options = webhook(
        "--webhook-port",
        "9443",
        "--webhook-listen",
        "127.0.0.1",
        "--webhook-cert-dir",
        "/etc/webhook/tls",
        "--webhook-manage-configurations",
        "--webhook-service",
        "flink-system/memory-webhook:8443",
    )
    assert options == WebhookOptions(
        port=9443,
        listen="127.0.0.1",
        cert_dir=Path("/etc/webhook/tls"),
        manage_configurations=True,
        service=ServiceEndpoint("flink-system", "memory-webhook", 8443),
    )
    default_port = webhook(
        "--webhook-port", "9443", "--webhook-cert-dir", "d", "--webhook-manage-configurations",
        "--webhook-service", "ns/svc",
    )  # fmt: skip
    assert default_port is not None
    assert default_port.service == ServiceEndpoint("ns", "svc", 443)


def test_the_drain_on_shutdown_is_five_seconds_unless_told() -> None:
    default = webhook("--webhook-port", "9443", "--webhook-cert-dir", "d")
    none = webhook("--webhook-port", "9443", "--webhook-cert-dir", "d", "--webhook-drain-seconds", "0")
    assert default is not None
    assert none is not None
    assert default.drain_seconds == 5.0
    assert none.drain_seconds == 0.0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--webhook-self-signed", "localhost"], "--webhook-self-signed needs --webhook-port"),
        (
            ["--webhook-manage-configurations", "--webhook-host", "h"],
            "--webhook-manage-configurations, --webhook-host need --webhook-port",
        ),
        (["--webhook-port", "9443"], "--webhook-port needs --webhook-cert-dir or --webhook-self-signed"),
        (
            ["--webhook-port", "9443", "--webhook-cert-dir", "d", "--webhook-service", "ns/svc"],
            "--webhook-service needs --webhook-manage-configurations",
        ),
    ],
)
def test_incomplete_webhook_options_are_usage_errors_saying_what_is_missing(
    args: list[str], message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        webhook(*args)


@pytest.mark.parametrize(
    "args",
    [
        ["--webhook-port", "0"],
        ["--webhook-port", "65536"],
        ["--webhook-port", "https"],
        ["--webhook-port", "1", "--webhook-cert-dir", "d", "--webhook-service", "svc"],
        ["--webhook-port", "1", "--webhook-cert-dir", "d", "--webhook-service", "ns/svc:0"],
        ["--webhook-port", "1", "--webhook-cert-dir", "d", "--webhook-service", "a/b/c"],
        ["--webhook-port", "1", "--webhook-cert-dir", "d", "--webhook-drain-seconds", "-1"],
        ["--webhook-port", "1", "--webhook-cert-dir", "d", "--webhook-drain-seconds", "nan"],
        ["--webhook-port", "1", "--webhook-cert-dir", "d", "--webhook-drain-seconds", "soon"],
    ],
)
def test_malformed_webhook_values_are_usage_errors(args: list[str]) -> None:
    with pytest.raises(UsageError):
        parse_arguments(["run", *args])


def load_all(text: str) -> list[dict[str, object]]:
    return [document for document in yaml.safe_load_all(text) if document]


def test_webhook_configurations_default_to_the_shipped_service_with_cert_manager_injection(
    cli: CliRunner,
) -> None:
    run = cli("webhook-configurations")
    assert run.code == 0, run.err
    validating, mutating = load_all(run.out)
    for configuration in (validating, mutating):
        assert configuration["metadata"]["annotations"] == {  # type: ignore[index]
            INJECT_CA_ANNOTATION: f"{DEFAULT_NAMESPACE}/{DEFAULT_SERVICE}"
        }
        service = configuration["webhooks"][0]["clientConfig"]["service"]  # type: ignore[index]
        assert (service["namespace"], service["name"], service["port"]) == (
            DEFAULT_NAMESPACE,
            DEFAULT_SERVICE,
            443,
        )
    help_text = cli("webhook-configurations", "--help").out
    assert f"{DEFAULT_NAMESPACE}/{DEFAULT_SERVICE}:443" in "".join(help_text.split())  # wrapped at hyphens


def test_webhook_configurations_for_an_operator_outside_the_cluster_carry_its_ca(
    cli: CliRunner, tmp_path: Path
) -> None:
    certificates = generate_certificates(tmp_path, ["127.0.0.1"])

    run = cli(
        "webhook-configurations", "--url", "https://127.0.0.1:9443", "--ca-file", str(certificates.cafile)
    )

    assert run.code == 0, run.err
    validating, _ = load_all(run.out)
    client = validating["webhooks"][0]["clientConfig"]  # type: ignore[index]
    assert client["url"] == "https://127.0.0.1:9443/validate-memory"
    assert base64.b64decode(client["caBundle"]) == certificates.ca_bundle()
    assert "annotations" not in validating["metadata"]  # type: ignore[operator]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--url", "http://127.0.0.1:9443"], "--url: the API server calls webhooks over HTTPS only"),
        (["--url", "https://127.0.0.1:9443"], "--url needs --ca-file or --cert-manager"),
        (["--ca-file", "/nonexistent/ca.crt"], "--ca-file: cannot read /nonexistent/ca.crt"),
        (["--cert-manager", "no-namespace"], "--cert-manager: expected NAMESPACE/NAME"),
        (["--service", "ns/svc", "--url", "https://x"], "not allowed with argument"),
    ],
)
def test_webhook_configuration_misuse_exits_2_saying_why(
    cli: CliRunner, args: list[str], message: str
) -> None:
    run = cli("webhook-configurations", *args)
    assert (run.code, run.out) == (2, "")
    assert message in run.err


def test_a_ca_file_without_a_certificate_is_refused(cli: CliRunner, tmp_path: Path) -> None:
    not_pem = tmp_path / "ca.crt"
    not_pem.write_text("hello")
    run = cli("webhook-configurations", "--ca-file", str(not_pem))
    assert run.code == 2
    assert "holds no PEM certificate" in run.err
