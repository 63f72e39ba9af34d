"""Law: whatever a client sends, the parser, the spec reader and the webhooks answer, naming the field.

The normal suite's share of the fuzzing (``fuzz/`` runs the same contracts a million times): any text
for ``parse_memory_size``; any JSON-shaped spec for ``derive_memory_plan`` and the validating verdict;
any pod and resource for the pod mutation; any bytes for the webhook server's body check.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from flink_tm_memory.control.mutation import apply_operations
from flink_tm_memory.memory.failures import JavaError
from flink_tm_memory.memory.sizes import MAX_BYTES, parse_memory_size
from flink_tm_memory.render.admission import admission_verdict
from flink_tm_memory.render.plan import derive_memory_plan
from flink_tm_memory.render.pod_mutation import PROFILE_LABEL, pod_mutation
from flink_tm_memory.runtime.admission.review import review_problem
from tests.property.strategies import ALL_KEYS, examples, hostile_texts

SPEC_FIELDS = ["flinkVersion", "flinkConfiguration", "resources", "consumers", "targets", "updateMode"]
RESOURCE_FIELDS = ["memory", "cpu", "memoryLimitFactor", "cpuLimitFactor"]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    hostile_texts(),
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
)
option_keys = st.one_of(st.sampled_from(ALL_KEYS), st.text(max_size=12))
specs = st.fixed_dictionaries(
    {},
    optional={
        "flinkVersion": st.one_of(st.sampled_from(["2.2", "1.17", "1.20.1", "３.０"]), json_values),
        "flinkConfiguration": st.one_of(st.dictionaries(option_keys, scalars, max_size=6), json_values),
        "resources": st.one_of(
            st.dictionaries(st.sampled_from(RESOURCE_FIELDS), scalars, max_size=4), json_values
        ),
        "consumers": json_values,
        "targets": json_values,
        "updateMode": st.one_of(st.sampled_from(["Apply", "Off"]), json_values),
        "extra": json_values,
    },
)


@examples(300, slow_inputs=True)
@given(hostile_texts())
@example("2048\uff4d")
@example("9" * 100_000)
def test_a_memory_size_is_bytes_or_flinks_message(text: str) -> None:
    size: int | str | None
    try:
        size = parse_memory_size(text)
    except JavaError as error:
        size = error.message
    assert (0 <= size <= MAX_BYTES) if isinstance(size, int) else size


@examples(200, slow_inputs=True)
@given(specs)
@example({"resources": {"memory": "2Gi", "memoryLimitFactor": float("inf")}})
@example({"flinkCon\x0ciguration": {}})
def test_any_spec_gets_a_layout_or_conflicts_each_naming_a_field(spec: dict[str, Any]) -> None:
    plan = derive_memory_plan(spec)

    assert (plan.layout is None) == (bool(plan.conflicts) or plan.memory is None)
    for conflict in plan.conflicts:
        assert conflict.reason != "InternalError", conflict.message
        assert conflict.fields or conflict.keys or conflict.message.startswith("spec"), conflict.message
    verdict = admission_verdict({"kind": "FlinkTaskManagerMemory", "spec": spec})
    assert verdict.allowed == (plan.layout is not None)
    for line in verdict.message.splitlines():
        assert line.startswith("spec"), line


@examples(100, slow_inputs=True)
@given(json_values)
def test_any_object_gets_a_verdict(obj: Any) -> None:
    verdict = admission_verdict(obj)

    assert verdict.allowed != bool(verdict.message)


pods = st.fixed_dictionaries(
    {
        "metadata": st.fixed_dictionaries(
            {"labels": st.just({PROFILE_LABEL: "tm"}), "namespace": st.just("flink")},
            optional={"annotations": json_values},
        ),
        "spec": st.fixed_dictionaries(
            {},
            optional={
                "containers": st.one_of(
                    json_values,
                    st.lists(
                        st.fixed_dictionaries(
                            {},
                            optional={
                                "name": st.one_of(
                                    st.sampled_from(["taskmanager", "flink-main-container"]), scalars
                                ),
                                "env": json_values,
                                "resources": json_values,
                            },
                        ),
                        max_size=3,
                    ),
                )
            },
        ),
    }
)


@examples(150, slow_inputs=True)
@given(pods, specs)
def test_any_opted_in_pod_gets_a_patch_that_applies_or_warnings(
    pod: dict[str, Any], spec: dict[str, Any]
) -> None:
    resource = {"metadata": {"name": "tm", "namespace": "flink"}, "spec": spec}

    mutation = pod_mutation(pod, resource)

    if mutation.changed:
        apply_operations(pod, mutation.patch)
    assert all(isinstance(warning, str) and warning for warning in mutation.warnings)


@examples(200)
@given(st.one_of(st.binary(max_size=256), json_values.map(lambda value: json.dumps(value).encode())))
@example(b'{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {}}')
def test_any_body_is_a_review_or_a_problem_naming_its_field(raw: bytes) -> None:
    problem = review_problem(raw)

    assert problem is None or problem.startswith(("request", "not ", "expected an AdmissionReview"))
