"""The v1alpha1 models read the wire form, refuse what Kubernetes or Flink would not accept, and write it back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import ValidationError

from flink_tm_memory.api.quantity import format_memory_quantity
from flink_tm_memory.api.v1alpha1 import (
    API_VERSION,
    KIND,
    Breakdown,
    Condition,
    ConditionStatus,
    ConditionType,
    FlinkTaskManagerMemory,
    FlinkTaskManagerMemorySpec,
    FlinkTaskManagerMemoryStatus,
    LayoutSummary,
    ResourceAmounts,
    UpdateMode,
)
from flink_tm_memory.api.workloads import WorkloadKind


def resource(spec: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"apiVersion": API_VERSION, "kind": KIND, "metadata": {"name": "orders"}, "spec": spec, **extra}


def spec_error(spec: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as caught:
        FlinkTaskManagerMemorySpec.model_validate(spec)
    return str(caught.value)


def test_a_full_spec_is_read_from_camel_case_into_snake_case() -> None:
    spec = FlinkTaskManagerMemorySpec.model_validate(
        {
            "flinkVersion": "1.20",
            "flinkConfiguration": {"taskmanager.memory.process.size": "4g"},
            "resources": {"memory": "4Gi", "cpu": "1500m", "memoryLimitFactor": 1.5, "cpuLimitFactor": 2},
            "consumers": {"stateBackend": "rocksdb", "stateBackendUsesManagedMemory": True, "python": True},
            "targets": {
                "configMap": {"name": "flink-config"},
                "workloads": [{"kind": "StatefulSet", "name": "tm", "container": "taskmanager"}],
            },
            "updateMode": "Off",
        }
    )
    assert spec.flink_version == "1.20"
    assert spec.resources.memory == "4Gi"
    assert spec.resources.memory_limit_factor == 1.5
    assert spec.resources.cpu_limit_factor == 2.0
    assert spec.consumers.state_backend_uses_managed_memory is True
    assert spec.targets.config_map.name == "flink-config"
    assert spec.targets.workloads[0].kind is WorkloadKind.STATEFUL_SET
    assert spec.resolved_update_mode is UpdateMode.OFF


def test_an_empty_spec_is_valid_and_leaves_everything_unset() -> None:
    spec = FlinkTaskManagerMemorySpec.model_validate({})
    assert spec.flink_version is None
    assert spec.resources.memory is None
    assert spec.targets.workloads == []
    assert spec.resolved_update_mode is UpdateMode.APPLY
    assert spec.to_manifest() == {
        "flinkConfiguration": {},
        "resources": {},
        "consumers": {},
        "sizing": {"needs": {}},
        "targets": {"configMap": {}, "workloads": []},
        "oomKills": {},
    }


def test_flink_configuration_values_keep_their_yaml_types() -> None:
    values = {"a": "4g", "b": 4, "c": 0.4, "d": True, "e": 4294967296}
    spec = FlinkTaskManagerMemorySpec.model_validate({"flinkConfiguration": values})
    assert spec.flink_configuration == values
    assert [type(value) for value in spec.flink_configuration.values()] == [str, int, float, bool, int]


@pytest.mark.parametrize(
    ("value", "kind"), [({"OPERATOR": 70}, "dict"), ([1, 2], "list"), (None, "NoneType")]
)
def test_a_flink_configuration_value_that_is_not_a_scalar_is_refused_with_the_flat_form(
    value: object, kind: str
) -> None:
    message = spec_error({"flinkConfiguration": {"taskmanager.memory.managed.consumer-weights": value}})
    assert f"a Flink option value must be a string, number or boolean, not {kind}" in message
    assert "'OPERATOR:70,STATE_BACKEND:70'" in message


def test_an_unknown_spec_field_is_refused_rather_than_ignored() -> None:
    assert "Extra inputs are not permitted" in spec_error({"resources": {"memroy": "4Gi"}})


def test_snake_case_names_are_accepted_from_python() -> None:
    spec = FlinkTaskManagerMemorySpec.model_validate({"update_mode": "Apply", "flink_version": "2.0"})
    assert (spec.update_mode, spec.flink_version) == (UpdateMode.APPLY, "2.0")


def test_an_unquoted_flink_version_is_refused_because_yaml_reads_1_20_as_1_2() -> None:
    assert "Input should be a valid string" in spec_error({"flinkVersion": 1.20})


def test_an_unsupported_flink_version_is_refused_with_the_supported_list() -> None:
    message = spec_error({"flinkVersion": "1.16"})
    assert (
        "Unsupported Flink version '1.16'; supported: 1.17, 1.18, 1.19, 1.20, 2.0, 2.1, 2.2, 2.3" in message
    )


@pytest.mark.parametrize("version", ["2.2", "2.2.1", "v1.20", "1.19.3", "2.0-SNAPSHOT"])
def test_a_supported_flink_version_may_carry_a_patch_or_suffix(version: str) -> None:
    assert FlinkTaskManagerMemorySpec.model_validate({"flinkVersion": version}).flink_version == version


@pytest.mark.parametrize(
    ("memory", "reason"), [("4g", "not a Kubernetes quantity"), ("0", "positive"), (True, "valid")]
)
def test_a_memory_that_is_not_a_positive_quantity_is_refused(memory: object, reason: str) -> None:
    assert reason in spec_error({"resources": {"memory": memory}})


@pytest.mark.parametrize("memory", ["4Gi", 4294967296, "2G", "2048m", "1e9"])
def test_any_positive_quantity_is_accepted_as_memory_and_kept_as_written(memory: str | int) -> None:
    assert (
        FlinkTaskManagerMemorySpec.model_validate({"resources": {"memory": memory}}).resources.memory
        == memory
    )


@pytest.mark.parametrize("cpu", ["0", "-1", "2 cores"])
def test_a_cpu_that_is_not_a_positive_quantity_is_refused(cpu: str) -> None:
    spec_error({"resources": {"cpu": cpu}})


@pytest.mark.parametrize("factor", [0.5, 0.999, "2", True])
def test_a_limit_factor_must_be_a_number_of_at_least_one(factor: object) -> None:
    spec_error({"resources": {"memoryLimitFactor": factor}})


def test_a_container_on_a_flinkdeployment_target_is_refused() -> None:
    message = spec_error(
        {"targets": {"workloads": [{"kind": "FlinkDeployment", "name": "job", "container": "tm"}]}}
    )
    assert "container does not apply to a FlinkDeployment" in message


def test_a_workload_listed_twice_is_refused() -> None:
    twice = [{"kind": "Deployment", "name": "tm"}, {"kind": "Deployment", "name": "tm", "container": "x"}]
    assert "each workload may be listed once: Deployment tm" in spec_error({"targets": {"workloads": twice}})


def test_the_same_name_under_two_kinds_is_two_workloads() -> None:
    both = [{"kind": "Deployment", "name": "tm"}, {"kind": "StatefulSet", "name": "tm"}]
    assert (
        len(FlinkTaskManagerMemorySpec.model_validate({"targets": {"workloads": both}}).targets.workloads)
        == 2
    )


@pytest.mark.parametrize(
    ("name", "ok"), [("flink-config", True), ("a.b", True), ("Flink", False), ("-x", False)]
)
def test_a_config_map_name_must_be_a_dns_subdomain(name: str, ok: bool) -> None:
    spec = {"targets": {"configMap": {"name": name}}}
    if ok:
        FlinkTaskManagerMemorySpec.model_validate(spec)
    else:
        spec_error(spec)


def test_the_config_map_defaults_to_the_resource_name_with_a_suffix() -> None:
    ftmm = FlinkTaskManagerMemory.model_validate(resource({}))
    assert ftmm.config_map_name == "orders-flink-tm-memory"
    named = FlinkTaskManagerMemory.model_validate(resource({"targets": {"configMap": {"name": "cfg"}}}))
    assert named.config_map_name == "cfg"


def test_workload_kinds_know_their_api_versions() -> None:
    assert WorkloadKind.DEPLOYMENT.api_version == "apps/v1"
    assert WorkloadKind.STATEFUL_SET.api_version == "apps/v1"
    assert WorkloadKind.FLINK_DEPLOYMENT.api_version == "flink.apache.org/v1beta1"


def test_a_resource_of_another_kind_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"expected flinkmemory\.io/v1alpha1 FlinkTaskManagerMemory"):
        FlinkTaskManagerMemory.model_validate({**resource({}), "kind": "FlinkDeployment"})


def test_a_resource_keeps_the_metadata_it_does_not_model() -> None:
    raw = resource({})
    raw["metadata"] = {"name": "orders", "namespace": "jobs", "generation": 3, "labels": {"team": "data"}}
    ftmm = FlinkTaskManagerMemory.model_validate(raw)
    assert (ftmm.metadata.namespace, ftmm.metadata.generation) == ("jobs", 3)
    assert ftmm.to_manifest()["metadata"]["labels"] == {"team": "data"}


def test_a_status_from_a_newer_operator_is_still_read() -> None:
    status = FlinkTaskManagerMemoryStatus.model_validate({"observedGeneration": 2, "someFutureField": 1})
    assert status.observed_generation == 2


def test_a_condition_time_is_written_in_utc_to_the_second() -> None:
    moment = datetime(2025, 1, 2, 4, 4, 5, 123456, tzinfo=timezone(timedelta(hours=1)))
    condition = Condition(
        type=ConditionType.READY,
        status=ConditionStatus.TRUE,
        reason="Applied",
        message="The layout is in place.",
        last_transition_time=moment,
        observed_generation=1,
    )
    assert condition.to_manifest() == {
        "type": "Ready",
        "status": "True",
        "reason": "Applied",
        "message": "The layout is in place.",
        "lastTransitionTime": "2025-01-02T03:04:05Z",
        "observedGeneration": 1,
    }
    assert Condition.model_validate(condition.to_manifest()).last_transition_time == moment.replace(
        microsecond=0
    ).astimezone(UTC)


@pytest.mark.parametrize("reason", ["", "two words", "1Leading"])
def test_a_condition_reason_must_be_one_camel_case_word(reason: str) -> None:
    with pytest.raises(ValidationError):
        Condition(
            type="Ready",
            status=ConditionStatus.FALSE,
            reason=reason,
            message="",
            last_transition_time=datetime.now(UTC),
        )


def breakdown(**sizes: int) -> Breakdown:
    names = [field.alias or name for name, field in Breakdown.model_fields.items()]
    return Breakdown.model_validate({name: sizes.get(name, 0) for name in names})


@pytest.mark.parametrize(
    ("size_bytes", "short"),
    [(1439563372, "1.341gb"), (4 * 1024**3, "4.000gb"), (512, "512 bytes"), (0, "0 bytes")],
)
def test_the_summary_carries_flinks_short_forms_of_the_breakdowns_bytes(size_bytes: int, short: str) -> None:
    summary = LayoutSummary.of(breakdown(totalProcess=size_bytes, jvmHeap=size_bytes))
    assert (summary.process, summary.heap, summary.managed, summary.network) == (
        short,
        short,
        "0 bytes",
        "0 bytes",
    )


def test_the_breakdown_is_one_integer_per_component() -> None:
    assert breakdown(taskHeap=402653174).to_manifest()["taskHeap"] == 402653174
    with pytest.raises(ValidationError, match="taskHeap"):
        Breakdown.model_validate({**breakdown().to_manifest(), "taskHeap": {"bytes": 1}})


@pytest.mark.parametrize(
    "size_bytes", [0, 1, 1023, 1024, 1811939328, 4 << 30, (4 << 30) + 1, 1500 * 10**6, 5 << 60]
)
def test_a_memory_amounts_bytes_are_its_exact_quantity(size_bytes: int) -> None:
    amounts = ResourceAmounts(memory=format_memory_quantity(size_bytes), cpu="1")
    assert amounts.memory_bytes == size_bytes
    assert set(amounts.to_manifest()) == {"memory", "cpu"}


def test_an_older_statuss_memory_bytes_is_read_and_not_written_back() -> None:
    amounts = ResourceAmounts.model_validate({"memory": "4Gi", "memoryBytes": 4 << 30, "cpu": "2"})
    assert amounts.to_manifest() == {"memory": "4Gi", "cpu": "2"}


def test_a_resource_round_trips_through_its_wire_form() -> None:
    raw = resource(
        {"resources": {"memory": "4Gi"}, "flinkConfiguration": {"taskmanager.numberOfTaskSlots": 2}},
        status={"observedGeneration": 1, "breakdown": None, "conditions": []},
    )
    ftmm = FlinkTaskManagerMemory.model_validate(raw)
    again = FlinkTaskManagerMemory.model_validate(ftmm.to_manifest())
    assert again == ftmm
    assert ftmm.to_manifest()["spec"]["resources"] == {"memory": "4Gi"}
