"""The admission process: ``python -m flink_tm_memory.service.admission_child``, started by the operator.

The reconciling process (``service.isolated_admission``) starts this module with its setup
(``AdmissionSetup``, JSON in ``$FLINK_TM_MEMORY_ADMISSION_SETUP``) and, when its metrics are served,
``$PROMETHEUS_MULTIPROC_DIR`` (``runtime.metrics``). Everything admission needs is built here, in
this process, from the same sources the parent uses: its own API client from the same kubeconfig or
in-cluster service account (``cluster.client.load_configuration``), its own FlinkTaskManagerMemory
cache (list+watch), both webhooks with the SubjectAccessReviews of the validating one, and the
server following the certificate files the parent names (the operator's own, which the parent keeps
and rotates in the shared Secret and writes to its directory, or cert-manager's mounted Secret): a
rotation is served without a restart, as before (``runtime.admission.tls``).

It reports to the parent and obeys it through its stdio (``runtime.admission.channel``): ``serving``
or ``failed`` once, then its readiness checks; ``drain`` makes it report not ready while it keeps
answering, ``stop`` (or the end of stdin: the parent is gone) stops it. It never outlives the parent
(``die_with_parent``); a terminal's SIGINT is the parent's to handle, SIGTERM stops it at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flink_tm_memory.cluster.access_reviews import SubjectAccessReviews
from flink_tm_memory.cluster.client import ClusterClient, ConfigurationNotFoundError, load_configuration
from flink_tm_memory.control.admission import VALIDATE_ID, authorization_step
from flink_tm_memory.control.mutation import MUTATE_ID
from flink_tm_memory.runtime.admission.channel import (
    DRAIN,
    HEARTBEAT,
    STOP,
    ParentChannel,
    ParentGoneError,
    die_with_parent,
)
from flink_tm_memory.runtime.admission.server import AdmissionServerError
from flink_tm_memory.runtime.certificates import ServingCertificates
from flink_tm_memory.runtime.log_format import LOG_FORMATS, configure_logging
from flink_tm_memory.runtime.log_levels import install_log_levels
from flink_tm_memory.runtime.metrics import WebhookMetrics
from flink_tm_memory.runtime.options import OperatorOptions, WebhookOptions
from flink_tm_memory.runtime.redaction import install_redaction
from flink_tm_memory.service.admission import Admission

CHILD_MODULE = "flink_tm_memory.service.admission_child"
SETUP_ENV = "FLINK_TM_MEMORY_ADMISSION_SETUP"
METRICS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"
METRICS_FILE_ID = "admission"
"""What names the child's metric files (``counter_admission.db``...), instead of its pid."""
STATUS_INTERVAL = 0.2
"""Seconds between two looks at the readiness checks (a line is sent only when they changed)."""
FLUSH_TIMEOUT = 2.0
BAD_SETUP_EXIT = 2


@dataclass(frozen=True, slots=True)
class AdmissionSetup:
    """What the admission process needs to know from the operator's options."""

    parent_pid: int
    server: str | None
    namespaces: tuple[str, ...]
    request_timeout: float
    listen: str
    port: int
    certfile: str
    pkeyfile: str
    cafile: str | None
    certificate_check_interval: float
    log_format: str = "full"
    verbose: bool = False
    metrics: bool = False
    """Count the answers in ``$PROMETHEUS_MULTIPROC_DIR`` (the parent serves them)."""

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> AdmissionSetup:
        """The setup in ``text``; raises ``ValueError`` naming the field that is missing or wrong."""
        data: Any = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("expected a JSON object")
        fields = {field.name: field for field in dataclasses.fields(cls)}
        unknown = sorted(set(data) - set(fields))
        if unknown:
            raise ValueError(f"{unknown[0]}: not a setting of the admission process")
        data["namespaces"] = tuple(data.get("namespaces") or ())
        try:
            setup = cls(**data)
        except TypeError as error:
            raise ValueError(str(error)) from None
        problem = setup._problem()
        if problem is not None:
            raise ValueError(problem)
        return setup

    def _problem(self) -> str | None:
        checks: list[tuple[str, bool]] = [
            ("parent_pid", isinstance(self.parent_pid, int) and self.parent_pid > 0),
            ("server", self.server is None or isinstance(self.server, str)),
            ("namespaces", all(isinstance(namespace, str) for namespace in self.namespaces)),
            ("request_timeout", isinstance(self.request_timeout, int | float) and self.request_timeout > 0),
            ("listen", isinstance(self.listen, str)),
            ("port", isinstance(self.port, int) and 0 <= self.port <= 65535),
            ("certfile", isinstance(self.certfile, str) and bool(self.certfile)),
            ("pkeyfile", isinstance(self.pkeyfile, str) and bool(self.pkeyfile)),
            ("cafile", self.cafile is None or isinstance(self.cafile, str)),
            (
                "certificate_check_interval",
                isinstance(self.certificate_check_interval, int | float)
                and self.certificate_check_interval > 0,
            ),
            ("log_format", self.log_format in LOG_FORMATS),
            ("verbose", isinstance(self.verbose, bool)),
            ("metrics", isinstance(self.metrics, bool)),
        ]
        wrong = [name for name, ok in checks if not ok]
        return f"{wrong[0]}: not a valid value" if wrong else None

    @property
    def certificates(self) -> ServingCertificates:
        return ServingCertificates(
            Path(self.certfile), Path(self.pkeyfile), Path(self.cafile) if self.cafile else None
        )


def main() -> int:
    """Serves admission until the parent says stop or goes; the exit status says how it ended."""
    try:
        setup = AdmissionSetup.from_json(os.environ.get(SETUP_ENV, ""))
    except ValueError as error:
        print(f"flink-tm-memory admission process: ${SETUP_ENV}: {error}", file=sys.stderr)
        return BAD_SETUP_EXIT
    protocol_fd = ParentChannel.claim_stdout()
    try:
        die_with_parent(setup.parent_pid)
    except (ParentGoneError, OSError) as error:
        print(f"flink-tm-memory admission process: {error}", file=sys.stderr)
        return 1
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's: it drains, then stops us
    configure_logging(setup.log_format, verbose=setup.verbose)
    install_redaction()
    install_log_levels()
    return asyncio.run(serve(setup, ParentChannel(protocol_fd)))


async def serve(setup: AdmissionSetup, channel: ParentChannel) -> int:
    await channel.open()
    try:
        try:
            client = ClusterClient(load_configuration(setup.server), request_timeout=setup.request_timeout)
        except ConfigurationNotFoundError as error:
            channel.send({"failed": f"cannot find how to reach the API server: {error}"})
            return 1
        try:
            return await _serve(setup, client, channel)
        finally:
            client.close()
    finally:
        await _flush(channel)


async def _serve(setup: AdmissionSetup, client: ClusterClient, channel: ParentChannel) -> int:
    if setup.metrics and not os.environ.get(METRICS_DIR_ENV):
        channel.send({"failed": f"metrics asked for without ${METRICS_DIR_ENV}"})
        return 1
    from prometheus_client import CollectorRegistry, values  # noqa: PLC0415 (after the environment is checked)

    # One set of files whoever the child is (not one per pid): a restarted child reopens its
    # predecessor's counts and goes on from them, and the directory never grows with restarts.
    values.ValueClass = values.MultiProcessValue(lambda: METRICS_FILE_ID)  # type: ignore[no-untyped-call]
    metrics = WebhookMetrics(CollectorRegistry(), (VALIDATE_ID, MUTATE_ID)) if setup.metrics else None
    webhook = WebhookOptions(
        port=setup.port,
        listen=setup.listen,
        certificate_check_interval=setup.certificate_check_interval,
    )
    admission = Admission(
        client,
        OperatorOptions(namespaces=setup.namespaces),
        webhook,
        setup.certificates,
        metrics,
        validating_after=(authorization_step(SubjectAccessReviews(client)),),
    )
    try:
        await admission.start()
    except AdmissionServerError as error:
        channel.send({"failed": str(error)})
        return 1
    stopped = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopped.set)
    channel.send({"serving": True})
    tasks = [
        asyncio.create_task(_report(admission, client, channel)),
        asyncio.create_task(_obey(admission, channel, stopped)),
    ]
    try:
        await stopped.wait()
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await admission.stop()
    return 0


async def _report(admission: Admission, client: ClusterClient, channel: ParentChannel) -> None:
    """Sends the readiness checks and API requests when they change, and at least every ``HEARTBEAT`` s."""
    loop = asyncio.get_running_loop()
    last = -HEARTBEAT
    while True:
        now = loop.time()
        due = now - last >= HEARTBEAT
        checks = {name: check() for name, check in admission.checks().items()}
        requests = {outcome.value: count for outcome, count in client.contact.requests.items()}
        channel.send_status(checks, requests, force=due)
        if due:
            last = now
        await asyncio.sleep(STATUS_INTERVAL)


async def _obey(admission: Admission, channel: ParentChannel, stopped: asyncio.Event) -> None:
    """Drains on ``drain``; ends on ``stop`` or when the parent's end of the pipe closes."""
    async for command in channel.commands():
        if command == DRAIN:
            admission.drain()
        elif command == STOP:
            break
    stopped.set()


async def _flush(channel: ParentChannel) -> None:
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(FLUSH_TIMEOUT):
            await channel.flushed()
    channel.close()


if __name__ == "__main__":
    sys.exit(main())
