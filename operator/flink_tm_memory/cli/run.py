"""``flink-tm-memory run``: the operator, from the command line.

The operator (kopf, the Kubernetes client, pydantic) is imported here, when ``run`` is asked for, so
``derive`` keeps its quick start. Logging follows kopf's formats (``--log-format json`` for log
collectors); kopf stops the operator gracefully on SIGINT and SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
from datetime import timedelta
from pathlib import Path

from flink_tm_memory.cli.errors import OperatorStartError, UsageError
from flink_tm_memory.render.webhook_configurations import ServiceEndpoint
from flink_tm_memory.runtime.certificate_schedule import Validity
from flink_tm_memory.runtime.options import (
    DEFAULT_VALIDITY,
    LeaderElectionOptions,
    OperatorOptions,
    SecretReference,
    WebhookOptions,
)

SERVICE_ACCOUNT_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
"""Where a pod finds its own namespace when ``POD_NAMESPACE`` is not set."""
LEADERSHIP_LOST_EXIT = 1


def operator_options(arguments: argparse.Namespace) -> OperatorOptions:
    """The operator's options from ``run``'s arguments."""
    return OperatorOptions(
        namespaces=tuple(arguments.namespaces),
        liveness_endpoint=arguments.liveness,
        drift_interval=arguments.drift_interval,
        webhook=webhook_options(arguments),
        metrics_port=arguments.metrics_port,
        metrics_listen=arguments.metrics_listen,
        api_unready_after=arguments.api_unready_after,
        per_resource_metrics=arguments.per_resource_metrics,
        leader_election=leader_election_options(arguments),
        workload_watch=arguments.workload_watch,
        oom_watch=arguments.oom_watch,
        workload_selector=arguments.workload_selector or None,
        reconcile_nice=arguments.reconcile_nice,
        log_format=arguments.log_format,
        verbose=arguments.verbose,
    )


def leader_election_options(arguments: argparse.Namespace) -> LeaderElectionOptions | None:
    """The Lease's options when ``--leader-election`` is given; refused (naming the flag) when unusable."""
    if not arguments.leader_election:
        given = [flag for flag, value in _election_flags(arguments) if value]
        if given:
            raise UsageError(f"{', '.join(given)} need{'s' if len(given) == 1 else ''} --leader-election")
        return None
    from flink_tm_memory.runtime.leader import default_identity

    namespace = arguments.leader_election_namespace or _own_namespace()
    if not namespace:
        raise UsageError(
            "--leader-election needs --leader-election-namespace outside a pod "
            "(no $POD_NAMESPACE, no service account namespace file)"
        )
    options = LeaderElectionOptions(
        namespace=namespace,
        identity=arguments.leader_election_identity or default_identity(),
        name=arguments.leader_election_lease,
        lease_duration=arguments.lease_duration,
        renew_deadline=arguments.renew_deadline,
        retry_period=arguments.retry_period,
    )
    problems = options.problems()
    if problems:
        raise UsageError("; ".join(problems))
    return options


def _election_flags(arguments: argparse.Namespace) -> list[tuple[str, object]]:
    return [
        ("--leader-election-namespace", arguments.leader_election_namespace),
        ("--leader-election-identity", arguments.leader_election_identity),
    ]


def _own_namespace() -> str | None:
    if os.environ.get("POD_NAMESPACE"):
        return os.environ["POD_NAMESPACE"]
    try:
        return SERVICE_ACCOUNT_NAMESPACE.read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def webhook_options(arguments: argparse.Namespace) -> WebhookOptions | None:
    """The webhook's options: served when ``--webhook-port`` is given, with certificates said how."""
    cert_dir = Path(arguments.webhook_cert_dir) if arguments.webhook_cert_dir else None
    hosts = tuple(host.strip() for host in (arguments.webhook_self_signed or "").split(",") if host.strip())
    if arguments.webhook_port is None:
        given = [flag for flag, value in _webhook_flags(arguments) if value]
        if given:
            raise UsageError(f"{', '.join(given)} need{'s' if len(given) == 1 else ''} --webhook-port")
        return None
    if cert_dir is None and not hosts:
        raise UsageError("--webhook-port needs --webhook-cert-dir or --webhook-self-signed")
    if arguments.webhook_service and not arguments.webhook_manage_configurations:
        raise UsageError("--webhook-service needs --webhook-manage-configurations")
    own = [flag for flag, value in _own_certificate_flags(arguments) if value is not None]
    if own and not hosts:
        raise UsageError(f"{', '.join(own)} need{'s' if len(own) == 1 else ''} --webhook-self-signed")
    service = ServiceEndpoint(*arguments.webhook_service) if arguments.webhook_service else None
    secret = SecretReference(*arguments.webhook_secret) if arguments.webhook_secret else None
    interval = arguments.webhook_check_interval
    options = WebhookOptions(
        port=arguments.webhook_port,
        listen=arguments.webhook_listen,
        cert_dir=cert_dir,
        self_signed_hosts=hosts,
        secret=secret,
        validity=_validity(arguments),
        host=arguments.webhook_host,
        manage_configurations=arguments.webhook_manage_configurations,
        service=service,
        drain_seconds=arguments.webhook_drain_seconds,
        **(
            {}
            if interval is None
            else {"configuration_check_interval": interval, "certificate_check_interval": interval}
        ),
    )
    problem = options.validity_problem()
    if problem is not None:
        raise UsageError(
            f"--webhook-ca-validity, --webhook-certificate-validity, --webhook-rotation-overlap: {problem}"
        )
    return options


def _validity(arguments: argparse.Namespace) -> Validity:
    def given(seconds: float | None, default: timedelta) -> timedelta:
        return default if seconds is None else timedelta(seconds=seconds)

    return Validity(
        ca=given(arguments.webhook_ca_validity, DEFAULT_VALIDITY.ca),
        serving=given(arguments.webhook_certificate_validity, DEFAULT_VALIDITY.serving),
        overlap=given(arguments.webhook_rotation_overlap, DEFAULT_VALIDITY.overlap),
    )


def _own_certificate_flags(arguments: argparse.Namespace) -> list[tuple[str, object]]:
    return [
        ("--webhook-secret", arguments.webhook_secret),
        ("--webhook-ca-validity", arguments.webhook_ca_validity),
        ("--webhook-certificate-validity", arguments.webhook_certificate_validity),
        ("--webhook-rotation-overlap", arguments.webhook_rotation_overlap),
    ]


def _webhook_flags(arguments: argparse.Namespace) -> list[tuple[str, object]]:
    return [
        ("--webhook-cert-dir", arguments.webhook_cert_dir),
        ("--webhook-self-signed", arguments.webhook_self_signed),
        ("--webhook-manage-configurations", arguments.webhook_manage_configurations),
        ("--webhook-service", arguments.webhook_service),
        ("--webhook-host", arguments.webhook_host),
        ("--webhook-check-interval", arguments.webhook_check_interval),
        *_own_certificate_flags(arguments),
    ]


def run_operator_command(arguments: argparse.Namespace) -> int:
    from flink_tm_memory.runtime.admission.server import AdmissionServerError
    from flink_tm_memory.runtime.health import HealthServerError
    from flink_tm_memory.runtime.leader import LeadershipLostError
    from flink_tm_memory.runtime.log_format import configure_logging
    from flink_tm_memory.service.runner import (
        ConnectionSetupError,
        LeaderElectionSetupError,
        WebhookSetupError,
        run_operator,
    )

    options = operator_options(arguments)
    configure_logging(arguments.log_format, verbose=arguments.verbose)
    try:
        asyncio.run(run_operator(options))
    except (
        ConnectionSetupError,
        WebhookSetupError,
        HealthServerError,
        AdmissionServerError,
        LeaderElectionSetupError,
    ) as error:
        raise OperatorStartError(str(error)) from None
    except LeadershipLostError:  # logged where it was lost; the kubelet restarts the process as a standby
        logging.getLogger(__name__).error("Exiting: this replica lost the leader Lease.")
        return LEADERSHIP_LOST_EXIT
    return 0
