"""Starting the operator: one client, one registry, kopf's settings, and kopf's main loop.

``run_operator`` is what the command line runs and what the integration tests run in their own event
loop (against an emulated API server), so the tested operator is the shipped one.

Without leader election kopf (reconciliation, the ConfigMap repair watch, kopf's Events) and its
companions (the drift loop, the Event senders, the pod watch for OOM kills) start at once: the
process assumes it is the only writer (development, tests). With ``options.leader_election`` every
replica serves health and metrics (and admission, which needs no leadership), but the writers run
only inside
``LeaderElector.lead``: while this replica holds the Lease. A graceful stop ends kopf first and then
releases the Lease; a lost Lease cancels kopf at once and raises ``LeadershipLostError``.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import signal
import tempfile
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import kopf

from flink_tm_memory.cluster.client import (
    ClusterClient,
    ConfigurationNotFoundError,
    load_configuration,
    read_credentials,
)
from flink_tm_memory.cluster.flink_rest import JOB_MANAGER_TIMEOUT, JobManagerClient
from flink_tm_memory.cluster.objects import Lease
from flink_tm_memory.control.admission import VALIDATE_ID
from flink_tm_memory.control.drift import DriftLoop
from flink_tm_memory.control.events import EventPoster
from flink_tm_memory.control.mutation import MUTATE_ID
from flink_tm_memory.control.new_workloads import NewWorkloads
from flink_tm_memory.control.oom import OomWatch
from flink_tm_memory.control.reconcile import Reconciler
from flink_tm_memory.control.repair import ConfigMapRepairer
from flink_tm_memory.control.state import KeyedLocks, WatchedConfigMaps, WatchedWorkloads
from flink_tm_memory.control.usage import UsageLoop
from flink_tm_memory.handlers.registration import OPTIONAL_GROUPS, register_handlers
from flink_tm_memory.runtime.certificate_metrics import CertificateExpiryCollector
from flink_tm_memory.runtime.certificates import ServingCertificates, mounted_certificates
from flink_tm_memory.runtime.health import (
    API_SERVER_CHECK,
    WEBHOOK_CONFIGURATIONS_CHECK,
    ApiServerCheck,
    Check,
    keep_in_touch,
    probe,
    serve_health,
)
from flink_tm_memory.runtime.leader import (
    LEADER_ELECTION_CHECK,
    LeaderElector,
    LeadershipCollector,
    LeaderStatus,
    standalone_status,
)
from flink_tm_memory.runtime.log_levels import install_log_levels
from flink_tm_memory.runtime.metrics import PREFIX, OperatorMetrics
from flink_tm_memory.runtime.options import LeaderElectionOptions, OperatorOptions, WebhookOptions
from flink_tm_memory.runtime.priority import yield_cpu
from flink_tm_memory.runtime.redaction import install_redaction
from flink_tm_memory.runtime.settings import event_reporter, operator_settings
from flink_tm_memory.runtime.webhook_configurations import WebhookConfigurationKeeper
from flink_tm_memory.service.isolated_admission import IsolatedAdmission

if TYPE_CHECKING:
    from flink_tm_memory.runtime.shared_certificates import CertificateKeeper

HANDLERS_AT_ONCE = kopf.lifecycles.all_at_once
"""Every handler selected for a change runs in one cycle, on the same body.

After a restart, a changed resource selects both the resume and the update handler. kopf's default
runs one per cycle and stores the diff base (the spec it considers handled) only when all are done,
from the body of the last cycle: the first handler applied the spec it was given, and an edit
landing before the second cycle that reverts the spec to the old diff base (6g, 7g, 6g) left no
difference for the update handler, so that edit was never applied. Run together, the handlers finish
in one cycle on one body, which becomes the diff base; the next edit is a change of its own.
"""


class ConnectionSetupError(Exception):
    """Neither a service account nor a kubeconfig says how to reach the API server."""


class WebhookSetupError(Exception):
    """The webhook's certificates can be neither read nor made."""


class LeaderElectionSetupError(Exception):
    """The leader election's settings cannot work (a timing client-go would refuse, an empty name)."""


StopFlag = asyncio.Event | threading.Event
"""What tells the operator to stop, as kopf accepts it (the tests run it in a thread: a threading.Event)."""
STOP_FLAG_POLL = 0.05
"""Seconds between two looks at a ``threading.Event`` stop flag (it cannot be awaited)."""


async def run_operator(
    options: OperatorOptions,
    *,
    stop_flag: StopFlag | None = None,
    ready_flag: asyncio.Event | threading.Event | None = None,
) -> None:
    """Runs the operator until ``stop_flag`` is set (or the process is signalled).

    ``ready_flag`` is set once kopf has started: at once without leader election, else once this
    replica leads. Raises ``LeadershipLostError`` if it led and lost the Lease.
    """
    install_redaction()  # before anything logs an object: secret-looking option values are masked
    # kopf's routine lines below ERROR; FlinkDeployments are watched only where their CRD is installed.
    install_log_levels(optional_groups=OPTIONAL_GROUPS)
    try:
        configuration = load_configuration(options.server)
    except ConfigurationNotFoundError as error:
        raise ConnectionSetupError(f"cannot find how to reach the API server: {error}") from None
    client = ClusterClient(configuration, request_timeout=options.request_timeout)
    try:
        own = _own_certificates(client, options.webhook) if options.webhook is not None else None
        certificates = await _certificates(options.webhook, own) if options.webhook is not None else None
    except BaseException:
        client.close()
        raise
    keeper = _keeper(client, options.webhook, certificates)
    if own is not None and keeper is not None:
        own.published = keeper.carries
    try:
        elector = _elector(client, options.leader_election)
    except BaseException:
        client.close()
        raise
    # The admission process's webhook metrics: written there, read here at each scrape (removed at the end).
    metrics_dir = _webhook_metrics_dir() if certificates is not None else None
    admission = _admission(options, certificates, metrics_dir)
    metrics = _metrics(
        client, options, own=own, elector=elector, admission=admission, metrics_dir=metrics_dir
    )
    settings = operator_settings(options)
    locks, config_maps, workloads = KeyedLocks(), WatchedConfigMaps(), WatchedWorkloads()
    events = EventPoster(client, event_reporter(), options.api_backoffs)
    reconciler = Reconciler(
        client,
        options,
        locks=locks,
        config_maps=config_maps,
        metrics=metrics,
        events=events,
        workloads=workloads,
    )
    writers = _leader_writers(
        client,
        options,
        reconciler=reconciler,
        events=events,
        workloads=workloads,
        locks=locks,
        metrics=metrics,
    )
    registry = kopf.OperatorRegistry()
    register_handlers(
        registry,
        reconciler=reconciler,
        repairer=ConfigMapRepairer(
            client, locks=locks, config_maps=config_maps, metrics=metrics, events=events
        ),
        new_workloads=NewWorkloads(workloads, reconciler.check_drift),
        credentials=partial(read_credentials, configuration),
        options=options,
    )
    kopf.on.probe(registry=registry, id=API_SERVER_CHECK)(probe(client.contact))

    async def reconcile(kopf_stop: StopFlag | None) -> None:
        """kopf and the writers beside it, until kopf stops."""
        async with _background(*events.senders()), _background(*writers()):
            await kopf.operator(
                registry=registry,
                settings=settings,
                lifecycle=HANDLERS_AT_ONCE,
                namespaces=options.namespaces,
                clusterwide=not options.namespaces,
                standalone=True,
                liveness_endpoint=options.liveness_endpoint,
                stop_flag=kopf_stop,
                ready_flag=ready_flag,
            )

    try:
        async with (
            _served_health(options, metrics, client, keeper=keeper, admission=admission, elector=elector),
            admission.serving() if admission is not None else contextlib.nullcontext(),
            _yielding_cpu(options, admission),
            _background(keep_in_touch(client, options.api_check_interval)),
            _kept_certificates(keeper, own, options.webhook),
        ):
            if elector is None:
                await reconcile(stop_flag)
            else:
                await _lead(elector, reconcile, stop_flag)
    finally:
        client.close()
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def _leader_writers(
    client: ClusterClient,
    options: OperatorOptions,
    *,
    reconciler: Reconciler,
    events: EventPoster,
    workloads: WatchedWorkloads,
    locks: KeyedLocks,
    metrics: OperatorMetrics,
) -> Callable[[], list[Coroutine[Any, Any, None]]]:
    """What runs beside kopf while this replica leads: the drift loop, the usage polls, the OOM watch.

    A function, because each term of leadership needs fresh coroutines (and fresh watches).
    """
    drift = DriftLoop(options, known=reconciler.known, check=reconciler.check_drift)
    usage = UsageLoop(
        client,
        known=reconciler.recommending,
        reconcile=reconciler.check_drift,
        events=events,
        job_managers=JobManagerClient(timeout=min(options.request_timeout, JOB_MANAGER_TIMEOUT)),
    )
    oom = (
        OomWatch(
            client,
            namespaces=options.namespaces,
            workloads=workloads,
            locks=locks,
            events=events,
            metrics=metrics,
            recorded=usage.wake,
        )
        if options.oom_watch
        else None
    )

    def works() -> list[Coroutine[Any, Any, None]]:
        return [drift.run(), usage.run(), *(oom.works() if oom is not None else [])]

    return works


@contextlib.asynccontextmanager
async def _yielding_cpu(options: OperatorOptions, admission: IsolatedAdmission | None) -> AsyncIterator[None]:
    """Once the admission process serves: this process's threads yield the CPU to it (``runtime.priority``)."""
    if admission is not None and options.reconcile_nice:
        spare = admission.supervisor.thread_id
        yield_cpu(options.reconcile_nice, spare=() if spare is None else (spare,))
    yield


def _metrics(
    client: ClusterClient,
    options: OperatorOptions,
    *,
    own: CertificateKeeper | None,
    elector: LeaderElector | None,
    admission: IsolatedAdmission | None,
    metrics_dir: Path | None,
) -> OperatorMetrics:
    """The operator's metrics, with the certificates', the leadership's and the admission process's."""
    metrics = OperatorMetrics(
        client.contact,
        webhooks=(VALIDATE_ID, MUTATE_ID),
        per_resource=options.per_resource_metrics,
        webhook_metrics_dir=metrics_dir,
    )
    if own is not None:
        metrics.registry.register(CertificateExpiryCollector(own))
    metrics.registry.register(LeadershipCollector(_leader_status(elector), PREFIX))
    if admission is not None:
        metrics.count_api_requests_of(admission.api_requests)
        metrics.registry.register(admission.collector())
    return metrics


def _webhook_metrics_dir() -> Path:
    """A private directory (``0700``) for the admission process's metric files, under ``$TMPDIR``."""
    return Path(tempfile.mkdtemp(prefix="flink-tm-memory-webhook-metrics-"))


def _elector(client: ClusterClient, options: LeaderElectionOptions | None) -> LeaderElector | None:
    if options is None:
        return None
    problems = options.problems()
    if problems:
        raise LeaderElectionSetupError(f"cannot elect a leader: {'; '.join(problems)}")
    return LeaderElector(Lease(client, options.namespace, options.name), options)


def _leader_status(elector: LeaderElector | None) -> Callable[[], LeaderStatus]:
    if elector is None:
        return standalone_status
    return lambda: elector.status


async def _lead(
    elector: LeaderElector,
    reconcile: Callable[[StopFlag | None], Coroutine[Any, Any, None]],
    stop_flag: StopFlag | None,
) -> None:
    """Reconciles while this replica leads; stops on ``stop_flag``, SIGTERM or SIGINT, then releases.

    While standing by, kopf (which handles the signals itself once it runs) is not running: the
    signals set ``stopping`` here, as they would stop kopf. kopf gets ``stopping`` as its stop flag
    only when there is a ``stop_flag`` to pass on: a kopf stopped by a signal leaves the task waiting
    on its stop flag pending, and waits 5 s for it before cancelling it, which would delay every
    release of the Lease (and so every handover) by 5 s.
    """
    stopping = asyncio.Event()
    if threading.current_thread() is threading.main_thread():
        loop = asyncio.get_running_loop()
        for number in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(number, stopping.set)
    kopf_stop = stopping if stop_flag is not None else None
    async with _background(_watch_flag(stop_flag, stopping)):
        await elector.lead(lambda: reconcile(kopf_stop), stopping)


async def _watch_flag(flag: StopFlag | None, stopping: asyncio.Event) -> None:
    """Sets ``stopping`` once ``flag`` is set."""
    if flag is None:
        return
    if isinstance(flag, asyncio.Event):
        await flag.wait()
    else:
        while not flag.is_set():
            await asyncio.sleep(STOP_FLAG_POLL)
    stopping.set()


def _own_certificates(client: ClusterClient, options: WebhookOptions) -> CertificateKeeper | None:
    """The keeper of the operator's own certificates (shared through a Secret, else in memory), if it makes them."""
    if not options.self_signed_hosts:
        return None
    problem = options.validity_problem()
    if problem is not None:
        raise WebhookSetupError(f"cannot keep the webhook's certificates: {problem}")
    from flink_tm_memory.runtime.certificate_store import (  # noqa: PLC0415 (cryptography: only when used)
        CertificateStore,
        MemoryStore,
        SecretStore,
    )
    from flink_tm_memory.runtime.shared_certificates import CertificateKeeper  # noqa: PLC0415

    store: CertificateStore = (
        SecretStore(client, options.secret.namespace, options.secret.name)
        if options.secret
        else MemoryStore()
    )
    directory = options.cert_dir or Path(tempfile.mkdtemp(prefix="flink-tm-memory-webhook-"))
    return CertificateKeeper(
        store, hosts=options.self_signed_hosts, validity=options.validity, directory=directory
    )


async def _certificates(options: WebhookOptions, own: CertificateKeeper | None) -> ServingCertificates:
    """The files to serve: the operator's own, once they are in place (retried until then), or mounted ones."""
    if own is not None:
        await own.start(retry_delay=options.configuration_check_interval)
        return own.certificates
    if options.cert_dir is None:
        raise WebhookSetupError("the webhook needs a certificate directory or hosts to make certificates for")
    try:
        return mounted_certificates(options.cert_dir)
    except OSError as error:
        raise WebhookSetupError(f"cannot set up the webhook's certificates: {error}") from None


def _served_health(
    options: OperatorOptions,
    metrics: OperatorMetrics,
    client: ClusterClient,
    *,
    keeper: WebhookConfigurationKeeper | None,
    admission: IsolatedAdmission | None,
    elector: LeaderElector | None,
) -> contextlib.AbstractAsyncContextManager[None]:
    if options.metrics_port is None:
        return contextlib.nullcontext()
    checks: dict[str, Check] = {API_SERVER_CHECK: ApiServerCheck(client.contact, options.api_unready_after)}
    if keeper is not None:
        checks[WEBHOOK_CONFIGURATIONS_CHECK] = keeper.check
    if admission is not None:
        checks.update(admission.checks())
    if elector is not None:
        checks[LEADER_ELECTION_CHECK] = elector.check
    return serve_health(options.metrics_listen, options.metrics_port, metrics, checks)


@contextlib.asynccontextmanager
async def _background(*works: Coroutine[Any, Any, None]) -> AsyncIterator[None]:
    """Runs ``works`` as tasks while the block runs; cancels them after.

    The tasks exist before kopf starts: kopf, when it stops, cancels the tasks created after it
    started and waits for them, which would cost every stop its grace period.
    """
    tasks = [asyncio.create_task(work) for work in works]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


def _admission(
    options: OperatorOptions, certificates: ServingCertificates | None, metrics_dir: Path | None
) -> IsolatedAdmission | None:
    """The admission webhooks, served by every replica from a process of its own (kopf serves none).

    The validating webhook asks the API server whether the requester may make the writes themselves
    (``control.authorization``, SubjectAccessReviews through the admission process's own client).
    """
    if options.webhook is None or certificates is None:
        return None
    return IsolatedAdmission(options, options.webhook, certificates, metrics_dir=metrics_dir)


def _keeper(
    client: ClusterClient, options: WebhookOptions | None, certificates: ServingCertificates | None
) -> WebhookConfigurationKeeper | None:
    """The keeper of the webhook configurations, if the operator is asked to write them."""
    if options is None or certificates is None or not options.manage_configurations:
        return None
    return WebhookConfigurationKeeper(client, options, certificates)


@contextlib.asynccontextmanager
async def _kept_certificates(
    keeper: WebhookConfigurationKeeper | None, own: CertificateKeeper | None, options: WebhookOptions | None
) -> AsyncIterator[None]:
    """Checks the operator's own certificates, then the webhook configurations, in the background.

    One loop for both: the configurations are patched with the bundle just read from the store, so a
    replica never puts back a bundle another one has already rotated past.
    """
    if options is None or (keeper is None and own is None):
        yield
        return
    interval = options.configuration_check_interval
    if keeper is None:
        assert own is not None
        work = _every(interval, own.check)
    else:
        work = keeper.keep(interval, before=own.check if own is not None else None)
    async with _background(work):
        yield


async def _every(interval: float, check: Callable[[], Awaitable[bool]]) -> None:
    while True:
        await asyncio.sleep(interval)
        await check()
