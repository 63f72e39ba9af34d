"""Fixes for rejected configurations: accepted by Flink, minimal to 1 MiB, ranked, in the user's terms.

"Accepted" is asked of the engine here (held to Flink by every conformance vector); the conformance
suite asks real Flink about the fixes of every rejected public vector (``test_fix_vectors.py``).
"""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from flink_tm_memory.memory import derive_task_manager_memory
from flink_tm_memory.memory.configuration import ConfigValue
from flink_tm_memory.memory.fixes import Fix, apply_changes, closer_by_one_mib, propose_fixes, search_changes
from flink_tm_memory.memory.sizes import MIB, parse_memory_size

PROCESS = "taskmanager.memory.process.size"
FLINK = "taskmanager.memory.flink.size"
TASK_HEAP = "taskmanager.memory.task.heap.size"
MANAGED = "taskmanager.memory.managed.size"

REJECTED = [
    {PROCESS: "4Gi"},
    {PROCESS: "4g", TASK_HEAP: "4g"},
    {PROCESS: "1536m", FLINK: "3072m"},
    {FLINK: "6g", "taskmanager.cpu.cores": "abc"},
    {PROCESS: "4Gi", TASK_HEAP: "4g"},
    {
        PROCESS: "2048m",
        "taskmanager.memory.jvm-overhead.max": "128mb",
        "taskmanager.memory.jvm-overhead.min": "1152mb",
    },
    {
        TASK_HEAP: "8589933568g",
        MANAGED: "4294967296g",
        "taskmanager.memory.task.off-heap.size": "4611686018427387904 bytes",
    },
    {},
]


def accepted(config: Mapping[str, ConfigValue], version: str = "2.2") -> bool:
    return derive_task_manager_memory(config, version, thorough=False).ok


def test_a_configuration_flink_accepts_needs_no_fix() -> None:
    assert propose_fixes({PROCESS: "4g"}, "2.2") == ()


@pytest.mark.parametrize("config", REJECTED)
@pytest.mark.parametrize("version", ["1.17", "1.20", "2.2"])
def test_every_fix_is_accepted(config: dict[str, str], version: str) -> None:
    assert not accepted(config, version)
    fixes = propose_fixes(config, version)
    assert fixes
    for fix in fixes:
        assert accepted(fix.applied_to(config), version), fix


@pytest.mark.parametrize("config", REJECTED)
def test_a_changed_size_one_mib_closer_to_the_users_is_rejected(config: dict[str, str]) -> None:
    for changes in search_changes(config, "2.2"):
        for index, change in enumerate(changes):
            closer = closer_by_one_mib(change)
            if closer is not None:
                moved = (*changes[:index], closer, *changes[index + 1 :])
                assert not accepted(apply_changes(config, moved)), (change, closer)


@pytest.mark.parametrize("config", REJECTED)
def test_changed_sizes_are_whole_mib(config: dict[str, str]) -> None:
    for changes in search_changes(config, "2.2"):
        for change in changes:
            if change.user_bytes is not None and change.value is not None:
                assert parse_memory_size(change.value) % MIB == 0


@pytest.mark.parametrize("config", REJECTED)
def test_fixes_are_ranked_by_keys_changed(config: dict[str, str]) -> None:
    counts = [len(fix.set) + len(fix.unset) for fix in propose_fixes(config, "2.2")]
    assert counts == sorted(counts)
    assert len(counts) <= 5


def test_a_raise_names_the_users_value_and_the_least_flink_accepts() -> None:
    fixes = propose_fixes({PROCESS: "4g", TASK_HEAP: "4g"}, "2.2")
    raises = [fix for fix in fixes if fix.set and fix.set[0][0] == PROCESS]
    assert len(raises) == 1
    value = raises[0].set[0][1]
    assert raises[0].summary == f"raise {PROCESS} from 4g to {value}"
    assert not accepted({PROCESS: f"{parse_memory_size(value) // MIB - 1}m", TASK_HEAP: "4g"})


def test_a_kubernetes_unit_is_rewritten_in_flinks() -> None:
    assert propose_fixes({PROCESS: "4Gi"}, "2.2")[0] == Fix(
        ((PROCESS, "4g"),), (), f"write 4g for {PROCESS}: Flink reads Gi as no unit it knows"
    )


def test_a_rewritten_value_that_still_conflicts_is_changed_further() -> None:
    fix = propose_fixes({PROCESS: "4Gi", TASK_HEAP: "4g"}, "2.2")[0]
    assert len(fix.set) + len(fix.unset) <= 2
    assert fix.summary.startswith(f"write 4g for {PROCESS}")


def test_two_totals_that_disagree_can_lose_one() -> None:
    summaries = [fix.summary for fix in propose_fixes({PROCESS: "1536m", FLINK: "3072m"}, "2.2")]
    assert f"remove {FLINK}: {PROCESS} alone then fixes it" in summaries


def test_a_total_with_task_heap_and_managed_memory_can_go() -> None:
    config = {FLINK: "1g", TASK_HEAP: "1g", MANAGED: "1g"}
    summaries = [fix.summary for fix in propose_fixes(config, "2.2")]
    assert f"remove {FLINK}: task heap and managed memory already fix it" in summaries


def test_no_memory_configured_gets_flinks_shipped_process_size() -> None:
    assert propose_fixes({}, "2.2")[0].set == ((PROCESS, "1728m"),)


@pytest.mark.parametrize("value", ["abc", "NaN", "-1"])
def test_unreadable_cpu_cores_without_a_guess_are_removed(value: str) -> None:
    fixes = propose_fixes({PROCESS: "4g", "taskmanager.cpu.cores": value}, "2.2")
    assert fixes[0].unset == ("taskmanager.cpu.cores",)


def test_the_number_of_fixes_can_be_limited() -> None:
    assert len(propose_fixes({PROCESS: "1536m", FLINK: "3072m"}, "2.2", limit=1)) == 1


def test_a_misspelled_key_is_renamed_to_the_option_it_is_nearest() -> None:
    fixes = propose_fixes({"taskmanager.memory.proces.size": "4g"}, "2.2")
    assert fixes[0] == Fix(
        ((PROCESS, "4g"),),
        ("taskmanager.memory.proces.size",),
        f"rename taskmanager.memory.proces.size to {PROCESS}: Flink knows no option taskmanager.memory.proces.size",
    )


def test_a_misspelled_key_is_not_renamed_onto_an_option_already_set() -> None:
    config = {PROCESS: "4g", "taskmanager.memory.task.heap.siz": "8g", TASK_HEAP: "5g"}
    assert all("rename" not in fix.summary for fix in propose_fixes(config, "2.2"))


def test_an_unreadable_value_with_no_guess_replaced_by_a_size_is_said_as_one_change() -> None:
    [fix] = propose_fixes({PROCESS: "-1g"}, "2.2")
    assert fix.set == ((PROCESS, "1728m"),)
    assert fix.unset == ()
    assert fix.summary.endswith("instead of '-1g': Flink reads no negative sizes ('-1g')")


@pytest.mark.parametrize(
    ("key", "value", "why"),
    [
        ("taskmanager.cpu.cores", "-0.5", "Flink needs a positive number of CPU cores, not -0.5"),
        ("taskmanager.memory.managed.fraction", "-0.1", "Flink needs a fraction from 0 to 1, not -0.1"),
        ("taskmanager.memory.managed.fraction", "abc", "Flink cannot read 'abc'"),
    ],
)
def test_a_removed_value_says_why_flink_refuses_it(key: str, value: str, why: str) -> None:
    [fix] = propose_fixes({FLINK: "6g", key: value}, "2.2")
    assert fix.unset == (key,)
    assert fix.summary.startswith(f"remove {key}: {why}; Flink then ")


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("4\u0261", "'\u0261' is U+0261 LATIN SMALL LETTER SCRIPT G, not 'g'"),
        ("\uff14g", "'\uff14' is U+FF14 FULLWIDTH DIGIT FOUR, not '4'"),
    ],
)
def test_a_look_alike_character_is_named_with_the_one_flink_reads(value: str, why: str) -> None:
    fix = propose_fixes({PROCESS: value}, "2.2")[0]
    assert fix.set == ((PROCESS, "4g"),)
    assert fix.summary == f"write 4g for {PROCESS}: Flink reads ASCII digits and units only: {why}"


def test_not_a_number_is_said_so() -> None:
    [fix] = propose_fixes({PROCESS: "NaN"}, "2.2")
    assert fix.summary.endswith("instead of 'NaN': 'NaN' is not a number Flink reads")
