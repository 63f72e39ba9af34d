"""The operator's metrics: results, conflicts, per-resource state, webhooks and the API, as Prometheus reads them.

Each test records through ``OperatorMetrics`` and reads the registry back through the text exposition
format and ``prometheus_client``'s parser, as a scrape would.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from flink_tm_memory.api.workloads import WorkloadKind
from flink_tm_memory.cluster.contact import ApiContact, Outcome
from flink_tm_memory.render.metadata import MemoryRef
from flink_tm_memory.render.outcomes import ApplyOutcome, ConfigMapOutcome, TargetOutcome, WriteState
from flink_tm_memory.render.plan import MemoryPlan, derive_memory_plan
from flink_tm_memory.runtime.metrics import (
    DERIVATION_BUCKETS,
    WEBHOOK_BUCKETS,
    OperatorMetrics,
    Result,
    Trigger,
    WebhookOutcome,
    reconcile_result,
    webhook_outcome,
)

P = "flink_tm_memory"
ORDERS = MemoryRef("orders", "flink", "uid-1", 1)
PAYMENTS = MemoryRef("payments", "flink", "uid-2", 1)
VALID = derive_memory_plan({"flinkConfiguration": {"taskmanager.memory.process.size": "4g"}})
OFF = derive_memory_plan(
    {"flinkConfiguration": {"taskmanager.memory.process.size": "4g"}, "updateMode": "Off"}
)
CONFLICTING = derive_memory_plan(
    {
        "resources": {"memory": "2Gi"},
        "flinkConfiguration": {
            "taskmanager.memory.task.heap.size": "1536m",
            "taskmanager.memory.managed.size": "1g",
        },
    }
)
UNREADABLE = derive_memory_plan({"flinkVersion": 2.2, "resources": {"memory": []}})


def outcome(config_map: WriteState, *targets: WriteState) -> ApplyOutcome:
    return ApplyOutcome(
        1,
        ConfigMapOutcome("cm", config_map),
        tuple(
            TargetOutcome(WorkloadKind.DEPLOYMENT, f"t{index}", state) for index, state in enumerate(targets)
        ),
    )


def samples(metrics: OperatorMetrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = generate_latest(metrics.registry).decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(metrics: OperatorMetrics, metric: str, /, **labels: str) -> float | None:
    return samples(metrics).get((metric, tuple(sorted(labels.items()))))


def quiet_metrics(contact: ApiContact | None = None, **kwargs: Any) -> OperatorMetrics:
    return OperatorMetrics(contact or ApiContact(), runtime_collectors=False, **kwargs)


@pytest.mark.parametrize(
    ("plan", "written", "expected"),
    [
        (VALID, outcome(WriteState.CREATED), Result.APPLIED),
        (VALID, outcome(WriteState.UNCHANGED, WriteState.UPDATED), Result.APPLIED),
        (VALID, outcome(WriteState.UNCHANGED, WriteState.UNCHANGED), Result.UNCHANGED),
        (VALID, outcome(WriteState.UNCHANGED, WriteState.MISSING), Result.INCOMPLETE),
        (VALID, outcome(WriteState.CREATED, WriteState.REFUSED), Result.INCOMPLETE),
        (VALID, outcome(WriteState.FAILED), Result.FAILED),
        (VALID, outcome(WriteState.CREATED, WriteState.FAILED), Result.FAILED),
        (CONFLICTING, None, Result.DEGRADED),
        (CONFLICTING, outcome(WriteState.UNCHANGED), Result.DEGRADED),  # the last valid layout kept
        (CONFLICTING, outcome(WriteState.FAILED), Result.FAILED),
        (UNREADABLE, None, Result.DEGRADED),
        (OFF, None, Result.OFF),
    ],
)
def test_a_reconciliation_result_is_the_first_that_applies(
    plan: MemoryPlan, written: ApplyOutcome | None, expected: Result
) -> None:
    assert reconcile_result(plan, written) is expected


@pytest.mark.parametrize(
    ("reason", "trigger"),
    [("create", Trigger.CREATED), ("update", Trigger.UPDATED), ("resume", Trigger.RESUMED)],
)
def test_kopfs_change_reasons_name_the_trigger(reason: str, trigger: Trigger) -> None:
    assert Trigger.of_reason(reason) is trigger


def test_reconciliations_are_counted_by_trigger_and_result() -> None:
    metrics = quiet_metrics()
    metrics.reconciled(ORDERS, Trigger.CREATED, VALID, outcome(WriteState.CREATED))
    metrics.reconciled(ORDERS, Trigger.DRIFT, VALID, outcome(WriteState.UNCHANGED))
    metrics.reconciled(ORDERS, Trigger.DRIFT, VALID, outcome(WriteState.UNCHANGED))
    metrics.repaired(written=True)
    metrics.repaired(written=None)

    total = f"{P}_reconciliations_total"
    assert value(metrics, total, trigger="created", result="applied") == 1
    assert value(metrics, total, trigger="drift", result="unchanged") == 2
    assert value(metrics, total, trigger="repair", result="applied") == 1
    assert value(metrics, total, trigger="repair", result="failed") == 1


def test_each_conflict_reason_counts_once_per_reconciliation_and_degraded_resources_by_reason() -> None:
    metrics = quiet_metrics()
    reasons = {conflict.reason for conflict in CONFLICTING.conflicts}
    metrics.reconciled(ORDERS, Trigger.CREATED, CONFLICTING, None)
    metrics.reconciled(ORDERS, Trigger.DRIFT, CONFLICTING, None)
    metrics.reconciled(PAYMENTS, Trigger.CREATED, CONFLICTING, None)

    for reason in reasons:
        assert value(metrics, f"{P}_conflicts_total", reason=reason) == 3
        assert value(metrics, f"{P}_degraded_resources", reason=reason) == 2
    metrics.reconciled(ORDERS, Trigger.UPDATED, VALID, outcome(WriteState.UPDATED))  # fixed
    metrics.forget(PAYMENTS.key)  # deleted
    for reason in reasons:
        assert value(metrics, f"{P}_degraded_resources", reason=reason) is None
        assert value(metrics, f"{P}_conflicts_total", reason=reason) == 3


def test_the_last_successful_reconcile_is_per_resource_kept_through_failures_and_dropped_on_delete() -> None:
    now = [1_700_000_000.0]
    metrics = quiet_metrics(clock=lambda: now[0])
    last = f"{P}_last_successful_reconcile_timestamp_seconds"
    metrics.reconciled(ORDERS, Trigger.CREATED, VALID, outcome(WriteState.CREATED))
    now[0] += 60
    metrics.reconciled(ORDERS, Trigger.DRIFT, VALID, outcome(WriteState.FAILED))
    metrics.reconciled(PAYMENTS, Trigger.CREATED, CONFLICTING, None)  # degraded, yet reconciled
    assert value(metrics, last, namespace="flink", name="orders") == 1_700_000_000.0
    assert value(metrics, last, namespace="flink", name="payments") == 1_700_000_060.0

    metrics.forget(ORDERS.key)
    assert value(metrics, last, namespace="flink", name="orders") is None
    assert value(metrics, last, namespace="flink", name="payments") == 1_700_000_060.0


@pytest.mark.parametrize("per_resource", [True, False], ids=["per-resource", "operator-wide-only"])
def test_without_per_resource_series_no_label_names_a_resource_and_the_oldest_success_remains(
    per_resource: bool,
) -> None:
    now = [1_700_000_000.0]
    metrics = quiet_metrics(clock=lambda: now[0], per_resource=per_resource)
    metrics.reconciled(ORDERS, Trigger.CREATED, VALID, outcome(WriteState.CREATED))
    now[0] += 60
    metrics.reconciled(PAYMENTS, Trigger.CREATED, VALID, outcome(WriteState.CREATED))
    served = samples(metrics)
    named = [key for key in served if {"name", "namespace"} & {label for label, _ in key[1]}]
    assert bool(named) is per_resource
    assert value(metrics, f"{P}_oldest_successful_reconcile_timestamp_seconds") == 1_700_000_000.0
    assert value(metrics, f"{P}_resources") == 2
    metrics.forget(ORDERS.key)
    assert value(metrics, f"{P}_oldest_successful_reconcile_timestamp_seconds") == 1_700_000_060.0
    assert value(metrics, f"{P}_resources") == 1


def test_a_resource_that_never_succeeded_has_no_timestamp() -> None:
    metrics = quiet_metrics()
    metrics.reconciled(ORDERS, Trigger.CREATED, VALID, outcome(WriteState.FAILED))
    assert not [key for key in samples(metrics) if key[0].endswith("_timestamp_seconds")]


def test_derivation_time_is_observed_in_seconds_with_buckets_from_a_tenth_of_a_millisecond() -> None:
    metrics = quiet_metrics()
    with metrics.time_derivation():
        derive_memory_plan({"flinkConfiguration": {"taskmanager.memory.process.size": "4g"}})
    name = f"{P}_derivation_duration_seconds"
    assert value(metrics, f"{name}_count") == 1
    assert 0 < (value(metrics, f"{name}_sum") or 0) < 1
    assert DERIVATION_BUCKETS[0] == 0.0001
    assert DERIVATION_BUCKETS[-1] >= 0.01
    assert value(metrics, f"{name}_bucket", le="+Inf") == 1


def test_webhook_requests_are_counted_and_timed_and_an_unknown_path_is_one_label() -> None:
    metrics = quiet_metrics(webhooks=("validate-memory", "mutate-pod"))
    metrics.webhook_answered("validate-memory", WebhookOutcome.DENIED, 0.0007)
    metrics.webhook_answered("mutate-pod", WebhookOutcome.PATCHED, 0.003)
    for path in ("x" * 10, "y" * 20, None):
        metrics.webhook_answered(path, WebhookOutcome.ERROR, None)

    requests = f"{P}_webhook_requests_total"
    assert value(metrics, requests, webhook="validate-memory", outcome="denied") == 1
    assert value(metrics, requests, webhook="mutate-pod", outcome="patched") == 1
    assert value(metrics, requests, webhook="unknown", outcome="error") == 3
    latency = f"{P}_webhook_request_duration_seconds"
    assert value(metrics, f"{latency}_bucket", webhook="validate-memory", le="0.0005") == 0
    assert value(metrics, f"{latency}_bucket", webhook="validate-memory", le="0.001") == 1
    assert value(metrics, f"{latency}_count", webhook="unknown") is None  # errors without a time
    assert WEBHOOK_BUCKETS[0] == 0.0005
    assert WEBHOOK_BUCKETS[-1] >= 1


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        ({"allowed": True}, WebhookOutcome.ALLOWED),
        ({"allowed": True, "warnings": ["w"]}, WebhookOutcome.ALLOWED),
        ({"allowed": True, "patch": "W10=", "patchType": "JSONPatch"}, WebhookOutcome.PATCHED),
        ({"allowed": False, "status": {"code": 422, "message": "no"}}, WebhookOutcome.DENIED),
        ({}, WebhookOutcome.DENIED),
    ],
)
def test_the_outcome_is_what_the_answer_tells_the_api_server(
    response: dict[str, Any], expected: object
) -> None:
    assert webhook_outcome({"response": response}) is expected


def test_webhook_answers_counted_from_many_threads_at_once_are_all_counted() -> None:
    # The admission server counts from its own thread while the main loop's scrapes read.
    metrics = quiet_metrics(webhooks=("mutate-pod",))
    threads, each = 8, 2000

    def answer_many() -> None:
        for index in range(each):
            outcome = WebhookOutcome.PATCHED if index % 2 else WebhookOutcome.ERROR
            metrics.webhook_answered("mutate-pod", outcome, 0.001)

    workers = [threading.Thread(target=answer_many) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    requests = f"{P}_webhook_requests_total"
    assert value(metrics, requests, webhook="mutate-pod", outcome="patched") == threads * each / 2
    assert value(metrics, requests, webhook="mutate-pod", outcome="error") == threads * each / 2
    duration = f"{P}_webhook_request_duration_seconds_count"
    assert value(metrics, duration, webhook="mutate-pod") == threads * each


def test_a_webhook_path_the_server_does_not_know_is_counted_as_unknown() -> None:
    metrics = quiet_metrics(webhooks=("mutate-pod",))

    metrics.webhook_answered("x" * 300, WebhookOutcome.ERROR, None)

    assert value(metrics, f"{P}_webhook_requests_total", webhook="unknown", outcome="error") == 1


def test_api_requests_and_reachability_come_from_the_clients_contact() -> None:
    clock = [100.0]
    contact = ApiContact(monotonic=lambda: clock[0], wall=lambda: 1_700_000_000.0 + clock[0])
    metrics = quiet_metrics(contact)
    assert value(metrics, f"{P}_api_server_reachable") == 0
    assert value(metrics, f"{P}_api_last_contact_timestamp_seconds") is None

    for outcome_ in (Outcome.OK, Outcome.OK, Outcome.NOT_FOUND, Outcome.CONNECTION_ERROR, Outcome.TIMEOUT):
        contact.record(outcome_)
    assert value(metrics, f"{P}_api_requests_total", outcome="ok") == 2
    assert value(metrics, f"{P}_api_requests_total", outcome="not_found") == 1
    assert value(metrics, f"{P}_api_requests_total", outcome="server_error") == 0
    assert value(metrics, f"{P}_api_server_reachable") == 0
    assert value(metrics, f"{P}_api_consecutive_failures") == 2
    assert value(metrics, f"{P}_api_last_contact_timestamp_seconds") == 1_700_000_100.0

    clock[0] = 130.0
    contact.record(Outcome.CONFLICT)  # an answer: the API server is there
    assert value(metrics, f"{P}_api_server_reachable") == 1
    assert value(metrics, f"{P}_api_consecutive_failures") == 0
    assert value(metrics, f"{P}_api_last_contact_timestamp_seconds") == 1_700_000_130.0


def test_every_metric_is_prefixed_documented_and_named_by_the_conventions() -> None:
    contact = ApiContact()
    contact.record(Outcome.OK)
    metrics = quiet_metrics(contact, webhooks=("mutate-pod",))
    metrics.reconciled(ORDERS, Trigger.CREATED, CONFLICTING, None)
    metrics.webhook_answered("mutate-pod", WebhookOutcome.ALLOWED, 0.001)
    families = list(metrics.registry.collect())
    assert len(families) == 15
    for family in families:
        assert family.name.startswith(f"{P}_"), family.name
        assert family.documentation, family.name
        assert family.type in ("counter", "gauge", "histogram"), family.name
        if family.type == "histogram":
            assert family.name.endswith("_seconds"), family.name
        if family.type == "counter":
            assert all(sample.name.endswith(("_total", "_created")) for sample in family.samples)


def test_the_runtime_collectors_are_served_by_default() -> None:
    names = {family.name for family in OperatorMetrics(ApiContact()).registry.collect()}
    assert {"process_resident_memory_bytes", "python_info", "python_gc_objects_collected"} <= names


def test_two_operators_in_one_process_never_share_a_counter() -> None:
    first, second = quiet_metrics(), quiet_metrics()
    first.reconciled(ORDERS, Trigger.CREATED, VALID, outcome(WriteState.CREATED))
    assert value(first, f"{P}_reconciliations_total", trigger="created", result="applied") == 1
    assert value(second, f"{P}_reconciliations_total", trigger="created", result="applied") is None


def test_oom_kills_are_counted_by_budget_and_optionally_by_resource() -> None:
    metrics = quiet_metrics()
    metrics.oom_killed(("flink", "orders"), "JVM overhead")
    metrics.oom_killed(("flink", "orders"), "JVM overhead + managed (RocksDB)")
    metrics.oom_killed(("flink", "payments"), "JVM overhead")
    assert value(metrics, f"{P}_oom_kills_total", budget="JVM overhead") == 2
    assert value(metrics, f"{P}_oom_kills_total", budget="JVM overhead + managed (RocksDB)") == 1
    assert value(metrics, f"{P}_resource_oom_kills_total", namespace="flink", name="orders") == 2
    metrics.forget(("flink", "orders"))
    assert value(metrics, f"{P}_resource_oom_kills_total", namespace="flink", name="orders") is None
    assert value(metrics, f"{P}_oom_kills_total", budget="JVM overhead") == 2  # no name: kept

    unnamed = quiet_metrics(per_resource=False)
    unnamed.oom_killed(("flink", "orders"), "JVM overhead")
    assert value(unnamed, f"{P}_oom_kills_total", budget="JVM overhead") == 1
    assert not any(name.startswith(f"{P}_resource_oom_kills") for name, _ in samples(unnamed))
