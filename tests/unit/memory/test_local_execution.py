"""Local execution (MiniCluster) resources: notes, version differences and errors.

Every expectation was printed by real Flink: sizes and errors by ``flink-oracle --local``, the log lines
by ``TaskExecutorResourceUtils.resourceSpecFromConfigForLocalExecution`` run with logging switched on
(Flink 2.2.1 and 1.19.3).
"""

from __future__ import annotations

from decimal import Decimal

from flink_tm_memory.memory.explain import Note, NoteCode, NoteLevel
from flink_tm_memory.memory.failures import Reason
from flink_tm_memory.memory.local import derive_local_execution, local_output

TIB = 1099511627776

RESOURCE_OPTIONS_TEXT = (
    "[Key: 'taskmanager.cpu.cores' , default: null (fallback keys: []), "
    "Key: 'taskmanager.memory.task.heap.size' , default: null (fallback keys: []), "
    "Key: 'taskmanager.memory.task.off-heap.size' , default: 0 bytes (fallback keys: []), "
    "Key: 'taskmanager.memory.network.min' , default: 64 mb "
    "(fallback keys: [{key=taskmanager.network.memory.min, isDeprecated=true}]), "
    "Key: 'taskmanager.memory.network.max' , default: 9223372036854775807 bytes "
    "(fallback keys: [{key=taskmanager.network.memory.max, isDeprecated=true}]), "
    "Key: 'taskmanager.memory.managed.size' , default: null "
    "(fallback keys: [{key=taskmanager.memory.size, isDeprecated=true}])]"
)
UNUSED_OPTIONS_TEXT = (
    "[Key: 'taskmanager.memory.process.size' , default: null (fallback keys: []), "
    "Key: 'taskmanager.memory.flink.size' , default: null (fallback keys: []), "
    "Key: 'taskmanager.memory.framework.heap.size' , default: 128 mb (fallback keys: []), "
    "Key: 'taskmanager.memory.framework.off-heap.size' , default: 128 mb (fallback keys: []), "
    "Key: 'taskmanager.memory.jvm-metaspace.size' , default: 256 mb (fallback keys: []), "
    "Key: 'taskmanager.memory.jvm-overhead.min' , default: 192 mb (fallback keys: []), "
    "Key: 'taskmanager.memory.jvm-overhead.max' , default: 1 gb (fallback keys: []), "
    "Key: 'taskmanager.memory.jvm-overhead.fraction' , default: 0.1 (fallback keys: [])]"
)
PROCESS_SIZE_TEXT = "Key: 'taskmanager.memory.process.size' , default: null (fallback keys: [])"
OVERHEAD_FRACTION_TEXT = "Key: 'taskmanager.memory.jvm-overhead.fraction' , default: 0.1 (fallback keys: [])"
UNUSED_CONFIG = {
    "taskmanager.memory.process.size": "2g",
    "taskmanager.memory.jvm-overhead.fraction": "0.5",
    "taskmanager.memory.network.max": "32m",
    "taskmanager.memory.size": "1g",
}
PINNED = {
    "taskmanager.memory.framework.heap.size": "128 mb",
    "taskmanager.memory.framework.off-heap.size": "128 mb",
    "taskmanager.memory.jvm-metaspace.size": "256 mb",
    "taskmanager.memory.jvm-overhead.max": "1 gb",
    "taskmanager.memory.jvm-overhead.min": "1 gb",
}


def unused_warning(option_text: str, listed_text: str) -> Note:
    return Note(
        NoteLevel.WARNING,
        NoteCode.LOCAL_EXECUTION,
        f"The resource configuration option {option_text} is set but it will have no effect for local "
        f"execution, only the following options matter for the resource configuration: {listed_text}",
        (option_text.split("'")[1],),
    )


def not_set_info(key: str, value: str) -> Note:
    return Note(
        NoteLevel.INFO,
        NoteCode.LOCAL_EXECUTION,
        f"The configuration option {key} required for local execution is not set, setting it to {value}.",
        (key,),
    )


MAXIMAL_NOTES = tuple(
    not_set_info(key, "the maximal possible value")
    for key in (
        "taskmanager.cpu.cores",
        "taskmanager.memory.task.heap.size",
        "taskmanager.memory.task.off-heap.size",
    )
)


def test_an_empty_configuration_gets_unlimited_cpu_and_task_memory_and_small_network_and_managed() -> None:
    for version in ("1.17", "1.19", "1.20", "2.3"):
        result = derive_local_execution({}, version)

        assert result.ok
        assert result.resources is not None
        assert result.resources.cpu_cores == 1000000.0
        assert result.resources.components() == {
            "taskHeap": TIB,
            "taskOffHeap": TIB,
            "network": 67108864,
            "managed": 134217728,
        }


def test_flink_2_warns_about_unused_options_listing_those_that_matter_and_removes_them() -> None:
    result = derive_local_execution(UNUSED_CONFIG, "2.2")

    assert result.notes == (
        unused_warning(PROCESS_SIZE_TEXT, RESOURCE_OPTIONS_TEXT),
        unused_warning(OVERHEAD_FRACTION_TEXT, RESOURCE_OPTIONS_TEXT),
        *MAXIMAL_NOTES,
    )
    assert result.adjusted_config == {
        "taskmanager.cpu.cores": "1000000.0",
        **PINNED,
        "taskmanager.memory.network.max": "32m",
        "taskmanager.memory.network.min": "32 mb",
        "taskmanager.memory.size": "1g",
        "taskmanager.memory.task.heap.size": "1099511627776 bytes",
        "taskmanager.memory.task.off-heap.size": "1099511627776 bytes",
    }


def test_flink_1_19_warns_with_the_list_of_unused_options_and_keeps_them() -> None:
    result = derive_local_execution(UNUSED_CONFIG, "1.19")

    assert result.notes == (
        unused_warning(PROCESS_SIZE_TEXT, UNUSED_OPTIONS_TEXT),
        unused_warning(OVERHEAD_FRACTION_TEXT, UNUSED_OPTIONS_TEXT),
        *MAXIMAL_NOTES,
    )
    assert result.adjusted_config["taskmanager.memory.process.size"] == "2g"
    assert result.adjusted_config["taskmanager.memory.jvm-overhead.fraction"] == "0.5"


def test_flink_1_19_only_fills_absent_process_level_sizes_while_1_20_overwrites_them() -> None:
    config = {"taskmanager.memory.framework.heap.size": "1g", "taskmanager.memory.jvm-overhead.min": "x"}

    old = derive_local_execution(config, "1.19").adjusted_config
    new = derive_local_execution(config, "1.20").adjusted_config

    assert old["taskmanager.memory.framework.heap.size"] == "1g"
    assert old["taskmanager.memory.jvm-overhead.min"] == "x"
    assert new["taskmanager.memory.framework.heap.size"] == "128 mb"
    assert new["taskmanager.memory.jvm-overhead.min"] == "1 gb"


def test_missing_network_and_managed_memory_are_announced_with_their_default_values() -> None:
    config = {
        "taskmanager.cpu.cores": "2",
        "taskmanager.memory.task.heap.size": "1g",
        "taskmanager.memory.task.off-heap.size": "0",
    }

    result = derive_local_execution(config, "2.2")

    assert result.notes == (
        not_set_info("taskmanager.memory.network.min", "its default value 64 mb"),
        not_set_info("taskmanager.memory.network.max", "its default value 64 mb"),
        not_set_info("taskmanager.memory.managed.size", "its default value 128 mb"),
    )
    assert result.resources is not None
    assert result.resources.cpu_cores == 2.0
    assert result.resources.task_heap_bytes == 1073741824
    assert result.resources.task_off_heap_bytes == 0


def test_a_deprecated_network_key_counts_as_set_and_its_value_becomes_the_other_bound() -> None:
    result = derive_local_execution({"taskmanager.network.memory.min": "32m"}, "2.2")

    assert result.resources is not None
    assert result.resources.network_bytes == 33554432
    assert result.adjusted_config["taskmanager.memory.network.max"] == "32 mb"
    assert "taskmanager.memory.network.min" not in result.adjusted_config


def test_network_min_and_max_that_differ_fail_with_both_in_option_notation() -> None:
    config = {"taskmanager.network.memory.max": "32m", "taskmanager.memory.network.min": "16m"}

    result = derive_local_execution(config, "2.2")

    problem = result.primary_problem
    assert problem is not None
    assert problem.chain == (
        "Failed to create TaskExecutorResourceSpec",
        "The network memory min (16 mb) and max (32 mb) mismatch, the network memory has to be resolved "
        "and set to a fixed value before task executor starts",
    )
    assert problem.message == problem.chain[1]
    assert problem.reason is Reason.NETWORK_MISMATCH
    assert problem.keys == ("taskmanager.memory.network.min", "taskmanager.network.memory.max")
    assert result.adjusted_config["taskmanager.memory.network.min"] == "16m"


def test_an_unreadable_network_bound_fails_while_adjusting_and_leaves_no_adjusted_configuration() -> None:
    result = derive_local_execution({"taskmanager.memory.network.max": "x"}, "2.2")

    assert local_output(result) == {
        "ok": False,
        "error": {
            "class": "java.lang.NumberFormatException",
            "message": "text does not start with a number",
            "chain": [
                "Could not parse value 'x' for key 'taskmanager.memory.network.max'.",
                "text does not start with a number",
            ],
            "classes": ["java.lang.IllegalArgumentException", "java.lang.NumberFormatException"],
        },
    }
    assert result.adjusted_config == {}


def test_task_off_heap_memory_is_read_before_managed_memory() -> None:
    config = {"taskmanager.memory.managed.size": "x", "taskmanager.memory.task.off-heap.size": "y"}

    problem = derive_local_execution(config, "2.2").primary_problem

    assert problem is not None
    assert problem.chain[0] == "Could not parse value 'y' for key 'taskmanager.memory.task.off-heap.size'."


def test_cpu_is_read_before_task_heap_memory() -> None:
    config = {"taskmanager.cpu.cores": "abc", "taskmanager.memory.task.heap.size": "x"}

    problem = derive_local_execution(config, "2.2").primary_problem

    assert problem is not None
    assert problem.chain == (
        "Could not parse value 'abc' for key 'taskmanager.cpu.cores'.",
        'For input string: "abc"',
    )


def test_a_negative_cpu_is_rejected_by_the_cpu_resource_itself() -> None:
    problem = derive_local_execution({"taskmanager.cpu.cores": "-1"}, "2.2").primary_problem

    assert problem is not None
    assert problem.chain == ("Resource value must be no less than 0",)
    assert problem.classes == ("java.lang.IllegalArgumentException",)
    assert problem.reason is Reason.NON_POSITIVE_CPU


def test_zero_cpu_and_a_negative_cpu_above_minus_one_hundred_millionth_are_accepted_as_zero() -> None:
    for cores in ("0", "-0.0", "-0.000000001", "1e-9"):
        result = derive_local_execution({"taskmanager.cpu.cores": cores}, "2.2")

        assert result.resources is not None
        assert result.resources.cpu == Decimal(0)
        assert local_output(result)["cpuCores"] == 0.0
        assert result.adjusted_config["taskmanager.cpu.cores"] == cores


def test_infinite_cpu_fails_in_big_decimal_naming_the_letter_after_the_sign() -> None:
    for cores in ("-Infinity", "Infinity"):
        problem = derive_local_execution({"taskmanager.cpu.cores": cores}, "2.2").primary_problem

        assert problem is not None
        assert problem.chain == (
            'Character I is neither a decimal digit number, decimal point, nor "e" notation exponential mark.',
        )
        assert problem.classes == ("java.lang.NumberFormatException",)


def test_cpu_keeps_eight_decimals_rounded_down() -> None:
    result = derive_local_execution({"taskmanager.cpu.cores": "123456789.123456789"}, "2.2")

    assert result.resources is not None
    assert local_output(result)["cpuCores"] == 123456789.12345679
    assert result.adjusted_config["taskmanager.cpu.cores"] == "123456789.123456789"
