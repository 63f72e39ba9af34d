"""Oversized and hostile specs get a denial naming the field, quickly, and never an exception.

Each case goes through ``derive_memory_plan`` (what the reconciler and both webhooks derive) and
``admission_verdict`` (the validating webhook's answer). The operator side of the same cases (Degraded
status, nothing written) is in ``tests/integration/test_hostile_specs.py``.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from flink_tm_memory.api.quantity import MAX_QUANTITY_LENGTH, QuantityError, parse_quantity
from flink_tm_memory.api.v1alpha1 import MAX_OPTIONS, MAX_VALUE_LENGTH
from flink_tm_memory.memory.versions import UnsupportedVersionError, parse_flink_version
from flink_tm_memory.render.admission import admission_verdict
from flink_tm_memory.render.plan import (
    SPEC_SIZE_LIMIT,
    SPEC_TOO_LARGE,
    TEXT_LIMIT,
    derive_memory_plan,
)
from flink_tm_memory.render.pod_mutation import PROFILE_LABEL, pod_mutation

PROCESS = "taskmanager.memory.process.size"
MEGABYTE = 1 << 20


def nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth):
        value = {"a": value}
    return value


def denial(spec: dict[str, Any]) -> str:
    verdict = admission_verdict({"kind": "FlinkTaskManagerMemory", "spec": spec})
    assert not verdict.allowed
    assert derive_memory_plan(spec).layout is None
    return verdict.message


HOSTILE: dict[str, tuple[dict[str, Any], str]] = {
    "megabyte-digits": (
        {"flinkConfiguration": {PROCESS: "1" * MEGABYTE}},
        f"spec.flinkConfiguration[{PROCESS}]: ",
    ),
    "megabyte-key": ({"flinkConfiguration": {"k" * MEGABYTE: "1"}}, "spec.flinkConfiguration[kkkk"),
    "megabyte-quantity": ({"resources": {"memory": "1" * MEGABYTE}}, "spec.resources: "),
    "megabyte-version": ({"flinkVersion": "1." + "2" * MEGABYTE}, "spec.flinkVersion: "),
    "ten-thousand-keys": (
        {"flinkConfiguration": {f"key.{index}": str(index) for index in range(10_000)}},
        "spec.flinkConfiguration (10000 options): ",
    ),
    "five-thousand-workloads": (
        {"targets": {"workloads": [{"kind": "Deployment", "name": f"d{index}"} for index in range(5000)]}},
        "spec.targets: ",
    ),
    "deep-option": (
        {"flinkConfiguration": {PROCESS: nested(5000)}},
        f"spec.flinkConfiguration[{PROCESS}]: nested",
    ),
    "deep-unknown-field": ({"extra": nested(5000)}, "spec.extra: nested more than"),
}


@pytest.mark.parametrize(("spec", "opening"), HOSTILE.values(), ids=HOSTILE.keys())
def test_an_oversized_spec_is_one_conflict_naming_the_field(spec: dict[str, Any], opening: str) -> None:
    plan = derive_memory_plan(spec)

    assert [conflict.reason for conflict in plan.conflicts] == [SPEC_TOO_LARGE]
    assert plan.conflicts[0].message.startswith(opening)
    assert len(plan.conflicts[0].message) < 1024
    assert denial(spec) == plan.conflicts[0].message


def test_a_spec_within_the_limit_is_derived_and_one_past_it_is_not() -> None:
    options = {
        f"option.{index}": "x" * MAX_VALUE_LENGTH for index in range(SPEC_SIZE_LIMIT // MAX_VALUE_LENGTH)
    }
    within = {"flinkConfiguration": {PROCESS: "2g", **options, "option.0": "x" * (MAX_VALUE_LENGTH - 200)}}
    past = {"flinkConfiguration": {PROCESS: "2g", **options, "one.more": "y" * 100}}

    assert derive_memory_plan(within).layout is not None
    assert [conflict.reason for conflict in derive_memory_plan(past).conflicts] == [SPEC_TOO_LARGE]


def test_a_long_value_is_quoted_clipped_in_the_status_and_the_denial() -> None:
    text = "9" * (MAX_VALUE_LENGTH - 1) + "m"  # an overflow: Flink's message repeats the text whole
    plan = derive_memory_plan({"flinkConfiguration": {PROCESS: text}})

    strings = [conflict.message for conflict in plan.conflicts]
    strings += [link for conflict in plan.conflicts for link in conflict.chain]
    strings += [reading.value for reading in plan.interpretations]
    strings += [reading.message for reading in plan.interpretations]
    assert plan.conflicts
    assert max(map(len, strings)) <= TEXT_LIMIT + 40
    assert "more characters)" in plan.interpretations[0].message


def test_thousands_of_schema_errors_are_summed_up_after_the_first_twenty() -> None:
    spec = {"flinkConfiguration": {f"key.{index}": {"nested": index} for index in range(1000)}}

    plan = derive_memory_plan(spec)

    assert len(plan.conflicts) == 21
    assert plan.conflicts[-1].message == "spec: 980 more schema errors"


@pytest.mark.parametrize(
    ("value", "field"),
    [
        (2**64, f"spec.flinkConfiguration[{PROCESS}]"),
        ("9223372036854775808", f"spec.flinkConfiguration[{PROCESS}]"),
        ("8388608t", f"spec.flinkConfiguration[{PROCESS}]"),
    ],
    ids=["int-2^64", "long-max+1", "8388608t"],
)
def test_a_size_overflowing_a_64_bit_long_is_denied_naming_the_option(value: object, field: str) -> None:
    assert denial({"flinkConfiguration": {PROCESS: value}}).startswith(f"{field}: ")


@pytest.mark.parametrize(
    ("configuration", "field"),
    [
        (
            {PROCESS: "2g", "taskmanager.memory.managed.fraction": math.nan},
            "taskmanager.memory.managed.fraction",
        ),
        (
            {PROCESS: "2g", "taskmanager.memory.network.fraction": math.inf},
            "taskmanager.memory.network.fraction",
        ),
        (
            {PROCESS: "2g", "taskmanager.memory.managed.fraction": "NaN"},
            "taskmanager.memory.managed.fraction",
        ),
        (
            {PROCESS: "2g", "taskmanager.memory.jvm-overhead.fraction": "Infinity"},
            "taskmanager.memory.jvm-overhead.fraction",
        ),
        (
            {PROCESS: "2g", "kubernetes.taskmanager.memory.limit-factor": "Infinity"},
            "kubernetes.taskmanager.memory.limit-factor",
        ),
        (
            {PROCESS: "2g", "kubernetes.taskmanager.cpu.limit-factor": 1e308},
            "kubernetes.taskmanager.cpu.limit-factor",
        ),
    ],
    ids=["nan", "infinity", "nan-text", "infinity-text", "infinite-limit-option", "huge-limit-option"],
)
def test_nan_and_infinity_fractions_are_denied_naming_the_option(
    configuration: dict[str, Any], field: str
) -> None:
    assert denial({"flinkConfiguration": configuration}).startswith(f"spec.flinkConfiguration[{field}]")


@pytest.mark.parametrize("factor", [math.inf, math.nan, 1e300], ids=["infinity", "nan", "1e300"])
def test_an_infinite_or_huge_limit_factor_is_denied_naming_the_field(factor: float) -> None:
    # Infinity once passed the schema (ge=1) and crashed the pod resources' exact arithmetic.
    spec = {"resources": {"memory": "2Gi", "memoryLimitFactor": factor}}

    assert denial(spec).startswith("spec.resources.memoryLimitFactor: ")


@pytest.mark.parametrize(
    "text",
    ["2048\uff4d", "2048\u043c", "2\u0261", "\uff12\uff10\uff14\uff18m", "2048\u217f"],
    ids=["fullwidth-m", "cyrillic-em", "script-g", "fullwidth-digits", "roman-numeral-m"],
)
def test_unicode_look_alikes_of_units_are_denied_as_flink_refuses_them(text: str) -> None:
    message = denial({"flinkConfiguration": {PROCESS: text}})

    assert message.startswith(f"spec.flinkConfiguration[{PROCESS}]: Cannot read memory size")


@pytest.mark.parametrize(
    "text", ["2\uff27i", "2G\u0456", "\uff12Gi"], ids=["fullwidth-G", "cyrillic-i", "fullwidth-2"]
)
def test_unicode_look_alikes_in_a_quantity_are_denied(text: str) -> None:
    assert (
        denial({"resources": {"memory": text}})
        == f"spec.resources.memory: Value error, {text!r} is not a Kubernetes quantity"
    )


def test_a_quantity_longer_than_any_real_one_is_refused_without_reading_its_digits() -> None:
    with pytest.raises(QuantityError, match=f"is {MEGABYTE} characters long; a quantity has at most"):
        parse_quantity("1" * MEGABYTE)
    assert parse_quantity("0" * (MAX_QUANTITY_LENGTH - 2) + "Gi").rounded_up == 0


@pytest.mark.parametrize("text", ["\uff12.\uff12", "\u0662.\u0662", "1." + "2" * 5000])
def test_a_flink_version_in_other_digits_or_of_thousands_of_digits_is_unsupported(text: str) -> None:
    with pytest.raises(UnsupportedVersionError, match=r"^Unsupported Flink version") as raised:
        parse_flink_version(text)
    assert len(str(raised.value)) < 200


def test_a_pod_whose_only_container_has_no_name_is_sized_like_any_single_container() -> None:
    # Found by fuzzing: the container was chosen by its name as read (""), then looked up by None.
    pod = {"metadata": {"labels": {PROFILE_LABEL: "tm"}, "namespace": "flink"}, "spec": {"containers": [{}]}}
    resource = {"metadata": {"name": "tm", "namespace": "flink"}, "spec": {"resources": {"memory": "2Gi"}}}

    mutation = pod_mutation(pod, resource)

    assert [operation["path"] for operation in mutation.patch] == [
        "/spec/containers/0/resources",
        "/spec/containers/0/env",
        "/metadata/annotations",
    ]


def test_more_options_than_the_schema_allows_are_denied_as_the_api_server_would() -> None:
    options = {f"k{index}": "v" for index in range(MAX_OPTIONS + 1)}

    assert denial({"flinkConfiguration": options}).startswith(
        "spec.flinkConfiguration: Dictionary should have at most"
    )


def test_an_option_value_longer_than_the_schema_allows_is_denied_naming_the_option() -> None:
    message = denial({"flinkConfiguration": {"env.java.opts.all": "x" * (MAX_VALUE_LENGTH + 1)}})

    assert message.startswith(
        "spec.flinkConfiguration.env.java.opts.all: Value error, a Flink option value may have at most"
    )


def test_a_field_name_with_line_breaks_still_makes_one_line_per_conflict() -> None:
    # Found by fuzzing: a form feed in a key split the denial's line and repeated its field.
    message = denial({"flinkCon\x0ciguration": {}, "x\u2028y": 1})

    assert message.splitlines() == [
        "spec.flinkCon iguration: Extra inputs are not permitted",
        "spec.x y: Extra inputs are not permitted",
    ]


def test_a_memory_key_with_a_look_alike_letter_is_admitted_with_a_warning_naming_the_real_key() -> None:
    # Flink ignores a key it does not know: the layout is derived without it, so only a warning can say.
    spec = {"flinkConfiguration": {PROCESS: "2g", "taskmanager.memory.managed.fracti\u043en": "0.1"}}

    verdict = admission_verdict({"kind": "FlinkTaskManagerMemory", "spec": spec})

    assert verdict.allowed
    [warning] = verdict.warnings
    assert warning == (
        "spec.flinkConfiguration: 'taskmanager.memory.managed.fracti\u043en' is not a Flink 2.2 TaskManager "
        "memory option; Flink ignores it. Did you mean 'taskmanager.memory.managed.fraction'?"
    )
