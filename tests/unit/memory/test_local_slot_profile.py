"""What one default slot of a local TaskExecutor gets (``generateDefaultSlotResourceProfile``).

Expectations were printed by Flink's own ``TaskExecutorResourceUtils.generateDefaultSlotResourceProfile``
(flink-dist 2.2.1, 1.19.3 and 1.17.2) for the same resource specs.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from flink_tm_memory.memory.failures import Problem, Reason
from flink_tm_memory.memory.local import Resources, default_slot_profile

TIB = 1099511627776
LOCAL_DEFAULTS = Resources(Decimal("1000000"), TIB, TIB, 67108864, 134217728)


def profile(resources: Resources, num_slots: int, version: str = "2.2") -> Resources:
    result = default_slot_profile(resources, num_slots, version)
    assert isinstance(result, Resources)
    return result


def problem(resources: Resources, num_slots: int, version: str = "2.2") -> Problem:
    result = default_slot_profile(resources, num_slots, version)
    assert isinstance(result, Problem)
    return result


def small(cpu: str) -> Resources:
    return Resources(Decimal(cpu), 10, 10, 10, 10)


def test_one_slot_gets_everything() -> None:
    assert profile(LOCAL_DEFAULTS, 1) == LOCAL_DEFAULTS


def test_each_resource_is_divided_by_the_slot_count_rounding_down() -> None:
    slot = profile(LOCAL_DEFAULTS, 3)

    assert slot.cpu_cores == 333333.33333333
    assert slot.components() == {
        "taskHeap": 366503875925,
        "taskOffHeap": 366503875925,
        "network": 22369621,
        "managed": 44739242,
    }


def test_configured_resources_are_divided_the_same_way() -> None:
    slot = profile(Resources(Decimal("4"), TIB, 23414362, 67108864, 1073741824), 3)

    assert slot.cpu_cores == 1.33333333
    assert slot.components() == {
        "taskHeap": 366503875925,
        "taskOffHeap": 7804787,
        "network": 22369621,
        "managed": 357913941,
    }


def test_cpu_below_one_hundred_millionth_per_slot_becomes_zero() -> None:
    assert profile(Resources(Decimal("0.5"), 1000, 1001, 1002, 1003), 6).cpu_cores == 0.08333333
    assert profile(small("0.00000003"), 4).cpu_cores == 0.0
    assert profile(Resources(Decimal("1.23456789"), 7, 7, 7, 7), 2147483647).components() == {
        "taskHeap": 0,
        "taskOffHeap": 0,
        "network": 0,
        "managed": 0,
    }


@pytest.mark.parametrize("cpu", ["2.5", "0"])
def test_zero_slots_fail_dividing_the_cpu(cpu: str) -> None:
    failure = problem(small(cpu), 0)

    assert failure.chain == ("/ by zero",)
    assert failure.classes == ("java.lang.ArithmeticException",)
    assert failure.reason is Reason.INVALID_NUMBER
    assert failure.keys == ("taskmanager.numberOfTaskSlots",)


def test_negative_slots_make_a_positive_cpu_negative() -> None:
    failure = problem(small("2.5"), -1)

    assert failure.chain == ("Resource value must be no less than 0",)
    assert failure.classes == ("java.lang.IllegalArgumentException",)


@pytest.mark.parametrize(
    ("version", "message"),
    [("2.2", "divisor must be != 0"), ("1.19", "divisor must be >= 0"), ("1.17", "divisor must be >= 0")],
)
def test_negative_slots_with_a_cpu_that_rounds_to_zero_fail_dividing_memory(
    version: str, message: str
) -> None:
    for cpu, num_slots in (("0", -1), ("0.00000001", -2)):
        failure = problem(small(cpu), num_slots, version)

        assert failure.chain == (message,)
        assert failure.classes == ("java.lang.IllegalArgumentException",)
