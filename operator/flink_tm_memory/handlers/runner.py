"""Starting the operator: one client, one registry, kopf's settings, and kopf's main loop.

``run_operator`` is what the command line runs and what the integration tests run in their own event
loop (against an emulated API server), so the tested operator is the shipped one. It assumes one
active replica (kopf runs standalone, without peering): deploy one replica with the ``Recreate``
strategy, so two operators never write the same objects at once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from functools import partial

import kopf

from flink_tm_memory.cluster.client import (
    ClusterClient,
    ConfigurationNotFoundError,
    load_configuration,
    read_credentials,
)
from flink_tm_memory.handlers.certificates import ServingCertificates
from flink_tm_memory.handlers.mutation import PodMutator
from flink_tm_memory.handlers.options import OperatorOptions, WebhookOptions
from flink_tm_memory.handlers.reconcile import Reconciler
from flink_tm_memory.handlers.redaction import install_redaction
from flink_tm_memory.handlers.registration import register_handlers
from flink_tm_memory.handlers.repair import ConfigMapRepairer
from flink_tm_memory.handlers.settings import operator_settings
from flink_tm_memory.handlers.state import KeyedLocks, WatchedConfigMaps
from flink_tm_memory.handlers.webhook import serving_certificates, webhook_server
from flink_tm_memory.handlers.webhook_configurations import WebhookConfigurationKeeper


class ConnectionSetupError(Exception):
    """Neither a service account nor a kubeconfig says how to reach the API server."""


class WebhookSetupError(Exception):
    """The webhook's certificates can be neither read nor made."""


def configure_logging(log_format: str, *, verbose: bool) -> None:
    """kopf's logging: ``plain``, ``full`` (with timestamps and levels) or ``json`` lines."""
    formats = {"plain": kopf.LogFormat.PLAIN, "full": kopf.LogFormat.FULL, "json": kopf.LogFormat.JSON}
    kopf.configure(verbose=verbose, log_format=formats[log_format])


async def run_operator(
    options: OperatorOptions,
    *,
    stop_flag: asyncio.Event | None = None,
    ready_flag: asyncio.Event | None = None,
) -> None:
    """Runs the operator until ``stop_flag`` is set (or the process is signalled)."""
    install_redaction()  # before anything logs an object: secret-looking option values are masked
    try:
        configuration = load_configuration(options.server)
    except ConfigurationNotFoundError as error:
        raise ConnectionSetupError(f"cannot find how to reach the API server: {error}") from None
    certificates = _certificates(options.webhook) if options.webhook is not None else None
    settings = operator_settings(options)
    if options.webhook is not None and certificates is not None:
        settings.admission.server = webhook_server(options.webhook, certificates)
    client = ClusterClient(configuration, request_timeout=options.request_timeout)
    locks, config_maps = KeyedLocks(), WatchedConfigMaps()
    registry = kopf.OperatorRegistry()
    register_handlers(
        registry,
        reconciler=Reconciler(client, options, locks=locks, config_maps=config_maps),
        repairer=ConfigMapRepairer(client, locks=locks, config_maps=config_maps),
        mutator=PodMutator(client),
        credentials=partial(read_credentials, configuration),
        options=options,
    )
    try:
        async with _managed_configurations(client, options.webhook, certificates):
            await kopf.operator(
                registry=registry,
                settings=settings,
                namespaces=options.namespaces,
                clusterwide=not options.namespaces,
                standalone=True,
                liveness_endpoint=options.liveness_endpoint,
                stop_flag=stop_flag,
                ready_flag=ready_flag,
            )
    finally:
        client.close()


def _certificates(options: WebhookOptions) -> ServingCertificates:
    try:
        return serving_certificates(options)
    except (OSError, ValueError) as error:
        raise WebhookSetupError(f"cannot set up the webhook's certificates: {error}") from None


@contextlib.asynccontextmanager
async def _managed_configurations(
    client: ClusterClient, options: WebhookOptions | None, certificates: ServingCertificates | None
) -> AsyncIterator[None]:
    """Keeps the webhook configurations in the background while the operator runs, if asked to."""
    if options is None or certificates is None or not options.manage_configurations:
        yield
        return
    keeper = WebhookConfigurationKeeper(client, options, certificates)
    task = asyncio.create_task(keeper.keep(options.configuration_check_interval))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
