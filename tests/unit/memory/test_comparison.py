"""The same options under two releases: component by component, and only the reasons that apply."""

from __future__ import annotations

from flink_tm_memory.memory import derive_task_manager_memory, parse_flink_version
from flink_tm_memory.memory.comparison import compare_versions

V118, V120, V20, V22 = (parse_flink_version(name) for name in ("1.18", "1.20", "2.0", "2.2"))


def test_options_every_release_reads_alike_lay_out_the_same_to_the_byte() -> None:
    comparison = compare_versions({"taskmanager.memory.process.size": "4g"}, V118, V22)
    assert comparison.same
    assert comparison.reasons == ()
    assert all(not change.changed for change in comparison.components)


def test_a_legacy_key_is_the_reason_its_component_changes() -> None:
    config = {
        "taskmanager.network.numberOfBuffers": "10000",
        "taskmanager.memory.task.heap.size": "1g",
        "taskmanager.memory.managed.size": "1g",
    }
    comparison = compare_versions(config, V120, V20)
    changes = {change.name: change for change in comparison.components}
    before = derive_task_manager_memory(config, V120).layout
    after = derive_task_manager_memory(config, V20).layout
    assert before is not None
    assert after is not None
    assert changes["network"].before == before.network_bytes
    assert changes["network"].after == after.network_bytes
    assert changes["network"].changed
    assert not changes["managed"].changed
    assert comparison.reasons == (
        "taskmanager.network.numberOfBuffers (Flink 1.x's legacy network buffer count) counts in 1.20, "
        "not in 2.0 (removed in 2.0)",
    )


def test_a_release_that_rejects_the_options_says_so_with_flinks_message() -> None:
    config = {"taskmanager.memory.process.size": "4g", "taskmanager.heap.size": "2g"}
    comparison = compare_versions(config, V22, V120)
    assert not comparison.after.ok
    assert all(change.after is None for change in comparison.components)
    assert comparison.reasons[-1].startswith("1.20 rejects the options: Derived JVM Overhead size")


def test_the_legacy_heap_environment_variable_counts_only_in_1x() -> None:
    comparison = compare_versions({}, V120, V22, legacy_heap_env="2g")
    assert "FLINK_TM_HEAP=2g counts in 1.20, not in 2.2 (removed in 2.0)" in comparison.reasons


def test_entries_a_file_reader_reads_differently_are_named_with_both_readers() -> None:
    comparison = compare_versions(
        {"taskmanager.memory.process.size": "4g", "taskmanager.numberOfTaskSlots": "2"},
        V118,
        V22,
        after_config={"taskmanager.memory.process.size": "4g"},
        file_readers=("flink-conf.yaml", "standard YAML"),
    )
    assert comparison.reasons == (
        "taskmanager.numberOfTaskSlots: read from the file by 1.18, not by 2.2 "
        "(flink-conf.yaml in 1.18, standard YAML in 2.2)",
    )


def test_list_values_read_as_yaml_by_one_release_only_are_a_reason() -> None:
    config = {"taskmanager.memory.process.size": "4g", "external-resources": "[gpu]"}
    comparison = compare_versions(config, V118, V22)
    assert (
        "external-resources: 2.2 reads its value as standard YAML first, 1.18 does not" in comparison.reasons
    )
