"""A spec's Kubernetes-native fields fold into Flink's configuration; disagreements are conflicts."""

from __future__ import annotations

from typing import Any

import pytest

from flink_tm_memory.api.interpretation import Convention
from flink_tm_memory.api.resolve import (
    OPERATOR,
    PYTHON,
    STATE_BACKEND,
    ResolvedSpec,
    flink_field,
    resolve_spec,
)
from flink_tm_memory.api.v1alpha1 import FlinkTaskManagerMemorySpec, UpdateMode

PROCESS_SIZE = "taskmanager.memory.process.size"
CPU_CORES = "taskmanager.cpu.cores"


def resolve(spec: dict[str, Any]) -> ResolvedSpec:
    return resolve_spec(FlinkTaskManagerMemorySpec.model_validate(spec))


def test_an_empty_spec_resolves_to_flinks_defaults() -> None:
    resolved = resolve({})
    assert resolved.version.name == "2.2"
    assert resolved.configuration == {}
    assert (resolved.memory_limit_factor, resolved.cpu_limit_factor) == (1.0, 1.0)
    assert resolved.update_mode is UpdateMode.APPLY
    assert (resolved.state_backend, resolved.state_backend_uses_managed_memory) == (None, None)
    assert resolved.use_cases == (STATE_BACKEND,)
    assert resolved.problems == ()
    assert resolved.interpretations == ()


def test_the_flink_configuration_is_passed_through_untouched() -> None:
    configuration = {PROCESS_SIZE: "4g", "taskmanager.numberOfTaskSlots": 4, "pipeline.name": "orders"}
    assert resolve({"flinkConfiguration": configuration}).configuration == configuration


def test_resources_memory_becomes_the_process_size_in_exact_bytes() -> None:
    resolved = resolve({"resources": {"memory": "4Gi"}})
    assert resolved.configuration == {PROCESS_SIZE: "4294967296b"}
    assert resolved.field_for(PROCESS_SIZE) == "spec.resources.memory"
    assert resolved.interpretations[0].size_bytes == 4294967296


def test_a_milli_byte_memory_is_rounded_up_and_flagged_not_silently_fixed() -> None:
    resolved = resolve({"resources": {"memory": "2048m"}})
    assert resolved.configuration[PROCESS_SIZE] == "3b"
    assert resolved.interpretations[0].ambiguous


def test_the_same_size_in_both_forms_is_no_conflict() -> None:
    resolved = resolve({"resources": {"memory": "4Gi"}, "flinkConfiguration": {PROCESS_SIZE: "4096m"}})
    assert resolved.problems == ()
    assert [reading.convention for reading in resolved.interpretations] == [
        Convention.KUBERNETES,
        Convention.FLINK,
    ]


def test_different_sizes_in_both_forms_are_a_conflict_naming_both_fields() -> None:
    resolved = resolve({"resources": {"memory": "4G"}, "flinkConfiguration": {PROCESS_SIZE: "4g"}})
    [problem] = resolved.problems
    assert problem.reason == "ProcessSizeMismatch"
    assert problem.fields == ("spec.resources.memory", flink_field(PROCESS_SIZE))
    assert problem.keys == (PROCESS_SIZE,)
    assert problem.message == (
        "spec.resources.memory (4G) is 4000000000 bytes but spec.flinkConfiguration[taskmanager.memory.process.size] "
        "(4g) is 4294967296 bytes: set the process size in one of them."
    )


def test_an_unreadable_flink_size_beside_resources_memory_is_a_conflict() -> None:
    resolved = resolve({"resources": {"memory": "4Gi"}, "flinkConfiguration": {PROCESS_SIZE: "4Gi"}})
    [problem] = resolved.problems
    assert "(4Gi) cannot be read" in problem.message


def test_resources_cpu_becomes_flinks_cpu_cores() -> None:
    resolved = resolve({"resources": {"cpu": "1500m"}})
    assert resolved.configuration == {CPU_CORES: "1.5"}
    assert resolved.field_for(CPU_CORES) == "spec.resources.cpu"


@pytest.mark.parametrize("cores", [1.5, "1.5", "1.50"])
def test_the_same_cpu_in_both_forms_is_no_conflict(cores: float | str) -> None:
    assert resolve({"resources": {"cpu": "1500m"}, "flinkConfiguration": {CPU_CORES: cores}}).problems == ()


def test_different_cpus_in_both_forms_are_a_conflict() -> None:
    [problem] = resolve({"resources": {"cpu": 2}, "flinkConfiguration": {CPU_CORES: 4}}).problems
    assert (problem.reason, problem.fields) == ("CpuMismatch", ("spec.resources.cpu", flink_field(CPU_CORES)))


def test_limit_factors_fall_back_to_flinks_options() -> None:
    resolved = resolve(
        {
            "flinkConfiguration": {
                "kubernetes.taskmanager.memory.limit-factor": "1.5",
                "kubernetes.taskmanager.cpu.limit-factor": 2,
            }
        }
    )
    assert (resolved.memory_limit_factor, resolved.cpu_limit_factor, resolved.problems) == (1.5, 2.0, ())


def test_a_limit_factor_in_the_spec_wins_when_flink_has_none() -> None:
    resolved = resolve({"resources": {"memoryLimitFactor": 1.25, "cpuLimitFactor": 3}})
    assert (resolved.memory_limit_factor, resolved.cpu_limit_factor) == (1.25, 3.0)


def test_different_limit_factors_in_both_forms_are_a_conflict() -> None:
    resolved = resolve(
        {
            "resources": {"memoryLimitFactor": 2},
            "flinkConfiguration": {"kubernetes.taskmanager.memory.limit-factor": 1.5},
        }
    )
    [problem] = resolved.problems
    assert problem.reason == "LimitFactorMismatch"
    assert problem.fields[0] == "spec.resources.memoryLimitFactor"
    assert resolved.memory_limit_factor == 2.0


@pytest.mark.parametrize("factor", ["0.5", "many", True, "Infinity", "NaN"])
def test_a_flink_limit_factor_below_one_or_not_a_number_is_a_conflict(factor: object) -> None:
    resolved = resolve({"flinkConfiguration": {"kubernetes.taskmanager.cpu.limit-factor": factor}})
    [problem] = resolved.problems
    assert problem.reason == "InvalidLimitFactor"
    assert resolved.cpu_limit_factor == 1.0


@pytest.mark.parametrize(
    ("consumers", "uses_managed"),
    [
        ({}, None),
        ({"stateBackend": "rocksdb"}, True),
        ({"stateBackend": "forst"}, True),
        ({"stateBackend": "hashmap"}, False),
        ({"stateBackend": "rocksdb", "stateBackendUsesManagedMemory": False}, False),
        ({"stateBackendUsesManagedMemory": True}, True),
    ],
)
def test_a_declared_state_backend_decides_like_the_applications_own_backend(
    consumers: dict[str, Any], uses_managed: bool | None
) -> None:
    resolved = resolve({"consumers": consumers, "flinkConfiguration": {"state.backend.type": "hashmap"}})
    assert resolved.state_backend_uses_managed_memory is uses_managed
    assert resolved.state_backend == consumers.get("stateBackend")


@pytest.mark.parametrize(
    ("spec", "use_cases"),
    [
        ({}, (STATE_BACKEND,)),
        ({"consumers": {"operators": True}}, (OPERATOR, STATE_BACKEND)),
        ({"consumers": {"python": True}}, (STATE_BACKEND, PYTHON)),
        ({"consumers": {"python": False, "operators": False}}, (STATE_BACKEND,)),
        (
            {
                "consumers": {"python": True},
                "flinkConfiguration": {"python.fn-execution.memory.managed": "FALSE"},
            },
            (STATE_BACKEND,),
        ),
        (
            {
                "consumers": {"python": True},
                "flinkConfiguration": {"python.fn-execution.memory.managed": "maybe"},
            },
            (STATE_BACKEND, PYTHON),
        ),
        (
            {
                "consumers": {"python": True},
                "flinkConfiguration": {"python.fn-execution.memory.managed": False},
            },
            (STATE_BACKEND,),
        ),
    ],
)
def test_the_consumers_decide_which_use_cases_share_a_slots_managed_memory(
    spec: dict[str, Any], use_cases: tuple[str, ...]
) -> None:
    assert resolve(spec).use_cases == use_cases


def test_every_memory_size_option_is_interpreted_and_nothing_else() -> None:
    resolved = resolve(
        {
            "flinkVersion": "1.20",
            "flinkConfiguration": {
                "taskmanager.memory.task.heap.size": "1G",
                "taskmanager.network.memory.min": "64m",
                "taskmanager.heap.size": "2g",
                "taskmanager.numberOfTaskSlots": 2,
                "taskmanager.memory.managed.fraction": 0.5,
            },
        }
    )
    assert [reading.field for reading in resolved.interpretations] == [
        flink_field("taskmanager.memory.task.heap.size"),
        flink_field("taskmanager.network.memory.min"),
        flink_field("taskmanager.heap.size"),
    ]
    assert [reading.ambiguous for reading in resolved.interpretations] == [True, False, False]


def test_a_legacy_option_is_not_a_size_in_flink_2() -> None:
    resolved = resolve({"flinkVersion": "2.0", "flinkConfiguration": {"taskmanager.heap.size": "2g"}})
    assert resolved.interpretations == ()


def test_a_key_not_folded_from_a_kubernetes_field_points_at_the_flink_configuration() -> None:
    assert resolve({}).field_for("taskmanager.memory.task.heap.size") == (
        "spec.flinkConfiguration[taskmanager.memory.task.heap.size]"
    )
