"""The layout's two TaskManager strings, checked against Java's ``HashMap`` and Flink itself.

Every expectation comes from ``tests/golden/java_semantics.jsonl``, written by
``tests/golden/generate.py``: iteration orders of a real ``java.util.HashMap`` and ``HashSet`` (JDK 17), CPU values
through Flink 2.2.1's ``CPUResource``, and whole configurations answered by the flink-oracle (Flink 2.2.1).
"""

from __future__ import annotations

from typing import Any

import pytest

from flink_tm_memory.memory import MemoryLayout, derive_task_manager_memory
from flink_tm_memory.memory.layout import java_hash_map_order, java_hash_set_order
from flink_tm_memory.memory.oracle_format import task_manager_output
from tests.golden.cases import golden, short

ORACLE_VERSION = "2.2"
AMOUNT_PREFIX = "external-resource."
AMOUNT_SUFFIX = ".amount"


def layout_with_resources(names: list[str]) -> MemoryLayout:
    return MemoryLayout(
        framework_heap_bytes=134217728,
        task_heap_bytes=402653174,
        framework_off_heap_bytes=134217728,
        task_off_heap_bytes=0,
        network_bytes=134217730,
        managed_bytes=536870920,
        jvm_metaspace_bytes=268435456,
        jvm_overhead_bytes=201326592,
        cpu_cores=1.0,
        num_slots=1,
        external_resources=tuple((name, 1) for name in names),
    )


def dynamic_config_keys(dynamic_configs: str) -> list[str]:
    assert dynamic_configs.startswith("-D ")
    return [entry.split("=", 1)[0] for entry in dynamic_configs[len("-D ") :].split(" -D ")]


def dynamic_config_value(dynamic_configs: str, key: str) -> str:
    for entry in dynamic_configs[len("-D ") :].split(" -D "):
        entry_key, _, value = entry.partition("=")
        if entry_key == key:
            return value
    raise AssertionError(f"{key} is not pinned in {dynamic_configs}")


def differences(flink: dict[str, Any], ours: dict[str, Any], prefix: str = "") -> list[str]:
    """The fields in which two oracle-shaped answers differ, one level into nested objects."""
    lines = []
    for key in [*flink, *(key for key in ours if key not in flink)]:
        theirs, mine = flink.get(key), ours.get(key)
        if theirs == mine:
            continue
        if isinstance(theirs, dict) and isinstance(mine, dict) and not prefix:
            lines += differences(theirs, mine, f"{key}.")
        else:
            lines.append(
                f"    {prefix}{key}: flink {short(theirs, 300)}\n"
                f"    {' ' * len(prefix + key)}  ours  {short(mine, 300)}"
            )
    return lines


HASH_MAP_ORDER = golden("hashMapOrder")
HASH_SET_ORDER = golden("hashSetOrder")
CPU_CORES = golden("cpuCores")
TASK_MANAGER = golden("taskManager")
FLINK_KEY_GROUPS = ("flink dynamic config keys", "flink keys with external resources")


@pytest.mark.parametrize("group", sorted(HASH_MAP_ORDER))
def test_java_hash_map_order_agrees_with_java_hash_map(group: str) -> None:
    cases = HASH_MAP_ORDER[group]
    assert cases
    found = [
        f"{short(case.input, 300)}\n    java {case.expect['value']}\n    ours {ours}"
        for case in cases
        if (ours := list(java_hash_map_order(tuple(case.input)))) != case.expect["value"]
    ]
    if found:
        pytest.fail(
            f"{len(found)} of {len(cases)} key lists iterate differently:\n" + "\n".join(found[:10]),
            pytrace=False,
        )


@pytest.mark.parametrize("group", sorted(HASH_SET_ORDER))
def test_java_hash_set_order_agrees_with_a_hash_set_built_from_a_list(group: str) -> None:
    # new HashSet<>(list) sizes its table for the list first: Flink collects resource names this way.
    cases = HASH_SET_ORDER[group]
    assert cases
    found = [
        f"{short(case.input, 300)}\n    java {case.expect['value']}\n    ours {ours}"
        for case in cases
        if (ours := list(java_hash_set_order(list(case.input)))) != case.expect["value"]
    ]
    if found:
        pytest.fail(
            f"{len(found)} of {len(cases)} item lists iterate differently:\n" + "\n".join(found[:10]),
            pytrace=False,
        )


@pytest.mark.parametrize("group", FLINK_KEY_GROUPS)
def test_dynamic_configs_list_the_pinned_keys_in_java_hash_map_order(group: str) -> None:
    # Flink puts the 13 keys, then one amount key per external resource, into a HashMap.
    cases = HASH_MAP_ORDER[group]
    assert cases
    found = []
    for case in cases:
        names = [
            key[len(AMOUNT_PREFIX) : -len(AMOUNT_SUFFIX)] for key in case.input if key.endswith(AMOUNT_SUFFIX)
        ]
        ours = dynamic_config_keys(layout_with_resources(names).dynamic_configs())
        if ours != case.expect["value"]:
            found.append(f"resources {names}\n    java {case.expect['value']}\n    ours {ours}")
    if found:
        pytest.fail(
            f"{len(found)} of {len(cases)} layouts pin keys in another order:\n" + "\n".join(found[:10]),
            pytrace=False,
        )


def test_cpu_cores_are_pinned_as_flink_renders_cpu_resource() -> None:
    # String.valueOf(new CPUResource(Double.parseDouble(text)).getValue().doubleValue())
    cases = CPU_CORES["cpu rendering"]
    assert cases
    found = []
    for case in cases:
        result = derive_task_manager_memory(
            {"taskmanager.memory.process.size": "1728m", "taskmanager.cpu.cores": case.input}, ORACLE_VERSION
        )
        problem = result.primary_problem
        if result.layout is not None and case.expect["ok"]:
            ours = dynamic_config_value(result.layout.dynamic_configs(), "taskmanager.cpu.cores")
            if ours != case.expect["value"]:
                found.append(f"{case.input!r}: java {case.expect['value']}, ours {ours}")
        elif problem is not None and not case.expect["ok"]:
            ours_root = (problem.classes[-1], problem.chain[-1])
            if ours_root != (case.expect["class"], case.expect["message"]):
                found.append(f"{case.input!r}: java {case.expect}, ours {ours_root}")
        else:
            found.append(f"{case.input!r}: java {case.expect}, ours {problem or 'a layout'}")
    if found:
        pytest.fail(
            f"{len(found)} of {len(cases)} CPU values render differently:\n" + "\n".join(found), pytrace=False
        )


@pytest.mark.parametrize("group", sorted(TASK_MANAGER))
def test_task_manager_output_agrees_with_flink(group: str) -> None:
    cases = TASK_MANAGER[group]
    assert cases
    found = []
    for case in cases:
        try:
            ours = task_manager_output(derive_task_manager_memory(case.input, ORACLE_VERSION))
        except Exception as error:  # the engine must answer every configuration
            ours = {"raised": f"{type(error).__name__}: {error}"}
        if ours != case.expect:
            found.append(f"{short(case.input, 120)}\n" + "\n".join(differences(case.expect, ours)))
    if found:
        pytest.fail(
            f"{len(found)} of {len(cases)} configurations differ from Flink:\n" + "\n".join(found),
            pytrace=False,
        )
