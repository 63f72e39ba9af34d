"""The operator's memory: a ConfigMap is found by name for the resource that wants it, and forgotten with it."""

from __future__ import annotations

import asyncio

from flink_tm_memory.control.state import KeyedLocks, WatchedConfigMaps
from flink_tm_memory.render.configmap import DesiredConfigMap
from flink_tm_memory.render.metadata import MemoryRef

ORDERS = MemoryRef("orders", "flink", "uid-1", 1)
PAYMENTS = MemoryRef("payments", "flink", "uid-2", 1)


def config_map(name: str) -> DesiredConfigMap:
    return DesiredConfigMap(
        name=name, namespace="flink", data={}, labels={}, memory=MemoryRef(name, "flink", "uid", 1)
    )


def test_a_watched_configmap_is_found_by_its_name() -> None:
    watched = WatchedConfigMaps()
    watched.watch(ORDERS, config_map("orders-cm"))
    found = watched.find("flink", "orders-cm")
    assert found is not None
    assert found.memory == ORDERS
    assert watched.find("flink", "other") is None


def test_a_renamed_configmap_is_no_longer_found_under_its_old_name() -> None:
    watched = WatchedConfigMaps()
    watched.watch(ORDERS, config_map("old"))
    watched.watch(ORDERS, config_map("new"))
    assert watched.find("flink", "old") is None
    assert watched.find("flink", "new") is not None
    assert len(watched) == 1


def test_forgetting_a_resource_leaves_another_resource_wanting_the_same_name_alone() -> None:
    watched = WatchedConfigMaps()
    watched.watch(ORDERS, config_map("shared"))
    watched.watch(PAYMENTS, config_map("shared"))
    watched.forget(ORDERS.key)
    found = watched.find("flink", "shared")
    assert found is not None
    assert found.memory == PAYMENTS


async def test_the_lock_of_one_resource_serialises_its_reconciliations_only() -> None:
    locks = KeyedLocks()
    order: list[str] = []

    async def hold(key: tuple[str, str], name: str, pause: float) -> None:
        async with locks.hold(key):
            order.append(f"{name} in")
            await asyncio.sleep(pause)
            order.append(f"{name} out")

    await asyncio.gather(hold(ORDERS.key, "a", 0.02), hold(ORDERS.key, "b", 0), hold(PAYMENTS.key, "c", 0))
    assert order.index("a out") < order.index("b in")
    assert order.index("c out") < order.index("a out")
