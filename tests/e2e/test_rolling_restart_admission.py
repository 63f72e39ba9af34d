"""A rolling restart of the operator under 200 admission requests per second fails none of them.

The chart with its defaults (two replicas, webhooks on, the validating webhook failing closed) on the
real node. A client in this test sends server-side dry-run creates of ``FlinkTaskManagerMemory``
resources through the API server, 200 per second, each one an AdmissionReview for the operator's
validating webhook (nothing is stored). Meanwhile ``kubectl rollout restart`` replaces both operator
pods one at a time (``maxSurge: 1``, ``maxUnavailable: 0``); the load goes on until the rollout is
complete and a few seconds more. Every request must be admitted: a request the API server could not
get an answer for (no endpoint, a connection refused or reset, a TLS error during the handover) is
refused with "failed calling webhook", and counts as a failed admission.

Needs every replica to serve the webhooks (issue 14, point 2: on main) with one shared CA (point 3:
not yet). Measured on this branch with each replica's own CA: 3 586 of 5 643 requests failed with
"tls: failed to verify certificate", the two keepers taking turns writing their CA.
"""

from __future__ import annotations

import concurrent.futures
import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import kubernetes.client
import kubernetes.config
import pytest

from tests.e2e.controlplane import ControlPlane
from tests.e2e.node.cluster import NodeCluster
from tests.e2e.node.images import NodeImages
from tests.e2e.support import RELEASE, SYSTEM, chart_upgraded

APPS = "admission-load"
RATE = 200.0
"""Admission requests per second."""
SENDERS = 32
"""Requests in flight at most (an answer takes a few milliseconds: 200/s need a handful)."""
AFTER_ROLLOUT = 5.0
"""Seconds of load after the rollout completed (the last old pod is gone by then)."""
Json = dict[str, Any]
PATH = f"/apis/flinkmemory.io/v1alpha1/namespaces/{APPS}/flinktaskmanagermemories"


@pytest.fixture(scope="module")
def plane(node_cluster: NodeCluster, node_images: NodeImages) -> Iterator[ControlPlane]:
    with chart_upgraded(node_cluster.control_plane, node_images, APPS):
        yield node_cluster.control_plane


class AdmissionLoad:
    """Dry-run creates at ``RATE`` per second from a thread pool, until stopped; outcomes counted."""

    def __init__(self, plane: ControlPlane) -> None:
        configuration = kubernetes.client.Configuration()
        kubernetes.config.load_kube_config(  # type: ignore[no-untyped-call]
            config_file=str(plane.kubeconfig), client_configuration=configuration
        )
        configuration.retries = 0
        configuration.connection_pool_maxsize = SENDERS
        self._api = kubernetes.client.ApiClient(configuration)
        self._pool = concurrent.futures.ThreadPoolExecutor(SENDERS)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.outcomes: Counter[str] = Counter()
        self.failures: list[str] = []
        self._sender = threading.Thread(target=self._send_all, daemon=True)

    def __enter__(self) -> AdmissionLoad:
        self._sender.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._sender.join(30)
        self._pool.shutdown(wait=True)
        self._api.close()  # type: ignore[no-untyped-call]

    def _send_all(self) -> None:
        started, sent = time.monotonic(), 0
        while not self._stop.is_set():
            due = started + sent / RATE
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            self._pool.submit(self._one, sent)
            sent += 1

    def _one(self, number: int) -> None:
        body = {
            "apiVersion": "flinkmemory.io/v1alpha1",
            "kind": "FlinkTaskManagerMemory",
            "metadata": {"name": f"load-{number}"},
            "spec": {
                "flinkVersion": "2.2",
                "flinkConfiguration": {"taskmanager.memory.process.size": "1728m"},
            },
        }
        method, url, headers, serialized, _ = self._api.param_serialize(
            method="POST",
            resource_path=PATH,
            query_params=[("dryRun", "All")],
            header_params={"Content-Type": "application/json", "Accept": "application/json"},
            body=body,
            auth_settings=["BearerToken"],
        )
        try:
            response = self._api.call_api(
                method, url, header_params=headers, body=serialized, _request_timeout=30
            )
            data: bytes = response.read()  # type: ignore[no-untyped-call]
        except Exception as error:  # the client could not even reach the API server
            self._count("unsent", f"{type(error).__name__}: {error}")
            return
        if 200 <= response.status <= 299:
            self._count("admitted", None)
        else:
            self._count("failed", f"{response.status}: {data.decode(errors='replace')[:300]}")

    def _count(self, outcome: str, failure: str | None) -> None:
        with self._lock:
            self.outcomes[outcome] += 1
            if failure is not None and len(self.failures) < 20:
                self.failures.append(failure)


def test_a_rolling_restart_under_200_admission_requests_per_second_fails_none(plane: ControlPlane) -> None:
    with AdmissionLoad(plane) as load:
        time.sleep(5.0)  # the load runs steadily before the restart
        started = time.monotonic()
        plane.kubectl("rollout", "restart", f"deployment/{RELEASE}", "-n", SYSTEM)
        plane.kubectl(
            "rollout", "status", f"deployment/{RELEASE}", "-n", SYSTEM, "--timeout=240s", timeout=270
        )
        rollout = time.monotonic() - started
        time.sleep(AFTER_ROLLOUT)
        seconds = time.monotonic() - started + 5.0
    total = sum(load.outcomes.values())
    print(
        f"\nrolling restart in {rollout:.1f} s under {total / seconds:.0f} admission requests/s: "
        f"{dict(load.outcomes)}"
    )
    assert load.outcomes["failed"] == 0, load.failures
    assert load.outcomes["unsent"] == 0, load.failures
    assert total / seconds >= 0.9 * RATE, f"only {total / seconds:.0f} requests/s were sent"
