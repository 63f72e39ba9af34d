"""The workload watch keeps names only and lets through only the workloads some resource targets."""

from __future__ import annotations

from flink_tm_memory.api.v1alpha1 import WorkloadKind
from flink_tm_memory.control.new_workloads import NewWorkloads
from flink_tm_memory.control.state import Key, WatchedWorkloads

DEPLOYMENT, STATEFUL_SET = WorkloadKind.DEPLOYMENT, WorkloadKind.STATEFUL_SET
ORDERS: Key = ("flink", "orders")
PAYMENTS: Key = ("flink", "payments")


def test_targets_are_found_by_workload_in_the_resources_namespace_and_replaced_on_change() -> None:
    workloads = WatchedWorkloads()
    workloads.watch(ORDERS, [(DEPLOYMENT, "tm"), (STATEFUL_SET, "tm")])
    workloads.watch(PAYMENTS, [(DEPLOYMENT, "tm")])
    assert workloads.targeting(DEPLOYMENT, "flink", "tm") == [ORDERS, PAYMENTS]
    assert workloads.targeting(STATEFUL_SET, "flink", "tm") == [ORDERS]
    assert workloads.targeting(DEPLOYMENT, "other", "tm") == []  # a target is in its resource's namespace

    workloads.watch(ORDERS, [(DEPLOYMENT, "tm-v2")])
    assert workloads.targeting(STATEFUL_SET, "flink", "tm") == []
    assert workloads.targeting(DEPLOYMENT, "flink", "tm") == [PAYMENTS]
    assert workloads.targeting(DEPLOYMENT, "flink", "tm-v2") == [ORDERS]

    workloads.forget(PAYMENTS)
    workloads.watch(ORDERS, [])
    assert len(workloads) == 0  # nothing left behind


async def test_only_a_targeted_workload_passes_and_only_its_addition_checks_each_resource() -> None:
    workloads = WatchedWorkloads()
    workloads.watch(ORDERS, [(DEPLOYMENT, "tm")])
    workloads.watch(PAYMENTS, [(DEPLOYMENT, "tm")])
    checked: list[Key] = []

    async def check(key: Key) -> bool:
        checked.append(key)
        return False

    watch = NewWorkloads(workloads, check)
    wanted = watch.wanted(DEPLOYMENT)
    assert wanted(name="tm", namespace="flink", body={}) is True
    assert wanted(name="web", namespace="flink") is False
    assert watch.wanted(STATEFUL_SET)(name="tm", namespace="flink") is False
    assert wanted(name="tm", namespace=None) is False

    appeared = watch.on_event(DEPLOYMENT)
    for event in (None, "MODIFIED", "DELETED"):  # the initial listing, an edit, a deletion
        await appeared(type=event, name="tm", namespace="flink")
    assert checked == []
    await appeared(type="ADDED", name="tm", namespace="flink")
    assert checked == [ORDERS, PAYMENTS]
