"""The fuzz targets: one function per input surface, each taking raw bytes and checking the contract.

A target decodes the bytes into the input its surface takes (a text, an option map, a spec, an
AdmissionReview), calls the code, and raises ``ContractError`` when the contract is broken.
Anything else it raises is a crash. The contracts (see ``fuzz/README.md``):

- ``memory-size``: ``parse_memory_size`` returns bytes in [0, 2^63-1] or raises ``JavaError`` with a
  message; the two text forms of any result never raise.
- ``configuration``: ``derive_task_manager_memory`` and ``derive_managed_memory_weights`` never raise and
  never report an internal error; every problem has a message and names a key.
- ``custom-resource``: ``derive_memory_plan`` of any spec never raises; a plan has a layout exactly when it
  has no conflict; every conflict names a field or a key; the admission verdict of the object never
  raises and each line of a denial opens with the field it is about.
- ``admission``: the webhook server's body check (``review_problem``) of any bytes never raises; a body it
  lets through gets a verdict (FlinkTaskManagerMemory) or a pod mutation whose JSONPatch applies to
  the pod, never an exception.

The byte-to-input decodings are simple on purpose, so that libFuzzer's mutations of the seeds stay
meaningful: an option map is ``key=value`` lines (a value starting ``#i``, ``#f`` or ``#b`` is an int,
a float or a bool), a spec or a review is JSON (bytes that are not JSON become a spec whose
``flinkConfiguration`` is those lines).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from typing import Any

from flink_tm_memory.control.mutation import apply_operations
from flink_tm_memory.memory import derive_task_manager_memory
from flink_tm_memory.memory.failures import JavaError, Reason
from flink_tm_memory.memory.sizes import MAX_BYTES, format_human, format_option_value, parse_memory_size
from flink_tm_memory.memory.versions import SUPPORTED_VERSIONS
from flink_tm_memory.memory.weights import derive_managed_memory_weights
from flink_tm_memory.render.admission import admission_verdict
from flink_tm_memory.render.plan import derive_memory_plan
from flink_tm_memory.render.pod_mutation import pod_mutation
from flink_tm_memory.runtime.admission.review import review_problem

Json = dict[str, Any]
DENIAL_PREFIXES = ("spec", "kind", "object")


class ContractError(AssertionError):
    """The code answered, but not as its contract says."""


def check(condition: bool, message: str) -> None:
    if not condition:
        raise ContractError(message)


def text_of(data: bytes) -> str:
    return data.decode("utf-8", "replace")


def scalar(text: str) -> str | int | float | bool:
    """A configuration value: ``#i``/``#f``/``#b`` prefixes give an int, a float or a bool."""
    tag, rest = text[:2], text[2:]
    if tag == "#i":
        digits = rest.strip()[:40]
        return int(digits) if digits.lstrip("-").isdecimal() and digits.isascii() else len(rest)
    if tag == "#f":
        try:
            return float(rest)
        except ValueError:
            return math.nan
    if tag == "#b":
        return rest.strip() == "true"
    return text


def option_map(text: str) -> dict[str, str | int | float | bool]:
    """``key=value`` lines as an option map (later lines win, as in a configuration file)."""
    config: dict[str, str | int | float | bool] = {}
    for line in text.split("\n"):
        key, _, value = line.partition("=")
        config[key] = scalar(value)
    return config


def fuzz_memory_size(data: bytes) -> None:
    text = text_of(data)
    try:
        size = parse_memory_size(text)
    except JavaError as error:
        check(bool(error.message), f"JavaError without a message for {text!r}")
        return
    check(isinstance(size, int) and 0 <= size <= MAX_BYTES, f"{text!r} parsed to {size!r}")
    format_human(size)
    format_option_value(size)


def fuzz_configuration(data: bytes) -> None:
    selector, text = (data[0], text_of(data[1:])) if data else (0, "")
    version = SUPPORTED_VERSIONS[selector % len(SUPPORTED_VERSIONS)]
    config = option_map(text)
    memory = derive_task_manager_memory(config, version, standard_yaml=not selector & 0x80)
    check((memory.layout is None) == bool(memory.problems), "a layout and problems, or neither")
    for problem in memory.problems:
        check(problem.reason is not Reason.INTERNAL_ERROR, f"internal error: {problem.message}")
        check(bool(problem.message or problem.headline), "a problem without a message")
        check(bool(problem.keys), f"a problem naming no key: {problem.message}")
    weights = derive_managed_memory_weights(config, version)
    for problem in weights.problems:
        check(
            problem.reason is not Reason.INTERNAL_ERROR, f"internal error in the weights: {problem.message}"
        )


def spec_of(data: bytes) -> Any:
    text = text_of(data)
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return {"flinkConfiguration": option_map(text)}


def fuzz_custom_resource(data: bytes) -> None:
    spec = spec_of(data)
    if isinstance(spec, Mapping):
        plan = derive_memory_plan(spec)
        check((plan.layout is None) == (bool(plan.conflicts) or plan.memory is None), "layout and conflicts")
        for conflict in plan.conflicts:
            check(bool(conflict.message), "a conflict without a message")
            named = conflict.fields or conflict.keys or conflict.message.startswith("spec")
            check(bool(named), f"a conflict naming no field: {conflict.message}")
            check(conflict.reason != Reason.INTERNAL_ERROR.value, f"internal error: {conflict.message}")
    verdict = admission_verdict({"kind": "FlinkTaskManagerMemory", "spec": spec})
    check(verdict.allowed != bool(verdict.message), "a denial needs a message, an admission none")
    for line in verdict.message.splitlines():
        check(line.startswith(DENIAL_PREFIXES), f"a denial line naming no field: {line}")


def fuzz_admission(data: bytes) -> None:
    if review_problem(data) is not None:
        return
    request = json.loads(data.decode("utf-8"))["request"]
    obj = request.get("object")
    if request["resource"]["resource"] == "pods":
        pod: Json = obj if isinstance(obj, dict) else {}
        resource = request.get("oldObject")  # the fuzzed FlinkTaskManagerMemory the pod's label names
        mutation = pod_mutation(pod, resource if isinstance(resource, dict) else None)
        check(all(isinstance(warning, str) for warning in mutation.warnings), "warnings are text")
        if mutation.changed:
            apply_operations(pod, mutation.patch)
        return
    verdict = admission_verdict(obj if obj is not None else {})
    check(verdict.allowed != bool(verdict.message), "a denial needs a message, an admission none")


TARGETS: dict[str, Callable[[bytes], None]] = {
    "memory-size": fuzz_memory_size,
    "configuration": fuzz_configuration,
    "custom-resource": fuzz_custom_resource,
    "admission": fuzz_admission,
}
