"""``flink-tm-memory derive --jsonl``: the flink-oracle's batch protocol, answered without a JVM.

Input and output follow ``flink-oracle`` exactly (one JSON case per line in, one result per line out,
``id`` first, same JSON spelling), so ``diff <(flink-tm-memory derive --jsonl) <(flink-oracle ...)``
compares us with Flink directly. Input is read the way the oracle reads it: values become the strings
a user would write (``repr`` for numbers), ``null`` drops a key, and a line that cannot be read is
answered with the oracle's own error class ``ORACLE_BAD_INPUT`` instead of ending the stream (where the
oracle itself would crash, e.g. on ``"useCases": null``, this answers ``ORACLE_BAD_INPUT`` too). Lines
are streamed: one case in memory at a time, flushed per line only when a person is watching.

One addition to the oracle's schema: a rejected tm case also gets ``"fixes"`` (``memory/fixes.py``),
each ``{"set": {key: value}, "unset": [key], "summary": text}``; ``fixes=False`` (``--no-fixes``)
leaves them out, for an answer that is exactly the oracle's.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TextIO

from flink_tm_memory.memory.versions import FlinkVersion

BAD_INPUT = "ORACLE_BAD_INPUT"
INTERNAL_ERROR = "FLINK_TM_MEMORY_INTERNAL_ERROR"
USE_CASES = ("OPERATOR", "STATE_BACKEND", "PYTHON")

Output = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Case:
    """One input line, validated as the oracle validates it."""

    config: dict[str, str]
    job_config: dict[str, str]
    use_cases: tuple[str, ...] = USE_CASES
    state_backend_uses_managed_memory: bool | None = None
    fraction_of_use_case: float = 1.0


Evaluator = Callable[[Case], Output]


def run_batch(
    lines: Iterable[str],
    out: TextIO,
    version: FlinkVersion,
    mode: str,
    *,
    flush: bool,
    fixes: bool = True,
    err: TextIO | None = None,
) -> int:
    """Answers every case; 1 if a line could not be read or hit an internal error (each said in its line).

    A line that cannot be read is also named on ``err`` (its number and why), so a pipeline notices it.
    """
    evaluate = _evaluator(mode, version, fixes=fixes)
    status = 0
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        case_id, output = _answer(line, number, mode, evaluate)
        error_class = output.get("error", {}).get("class")
        if error_class in (INTERNAL_ERROR, BAD_INPUT):
            status = 1
        if error_class == BAD_INPUT and err is not None:
            err.write(f"flink-tm-memory: line {number}: {output['error']['message']}\n")
        _write_line(out, {"id": case_id, **output})
        if flush:
            out.flush()
    return status


def _answer(line: str, number: int, mode: str, evaluate: Evaluator) -> tuple[Any, Output]:
    case_id: Any = str(number)
    try:
        raw = json.loads(line)
        case_id = raw.get("id", case_id)
        case = read_case(raw, mode)
    except (ValueError, AttributeError, TypeError) as error:
        return case_id, {"ok": False, "error": {"class": BAD_INPUT, "message": str(error)}}
    try:
        return case_id, evaluate(case)
    except Exception as error:  # one faulty case must not end the stream; it is reported in its line
        return case_id, {"ok": False, "error": {"class": INTERNAL_ERROR, "message": repr(error)}}


FIELDS = {
    "tm": frozenset({"id", "config", "jobConfig", "expect"}),
    "local": frozenset({"id", "config", "jobConfig", "expect"}),
    "weights": frozenset(
        {
            "id",
            "config",
            "jobConfig",
            "useCases",
            "stateBackendUsesManagedMemory",
            "fractionOfUseCase",
            "expect",
        }
    ),
}
"""The fields of a case per mode (``expect`` is a vector file's answer, ignored), as the oracle reads them."""


def read_case(raw: dict[str, Any], mode: str) -> Case:
    """The oracle's ``encode_case``: the same checks, in the same order, with the same messages.

    Stricter than the oracle in one way: a line without ``config``, or with a field the mode does not
    read (a typo such as ``conf``), is refused instead of being answered as an empty configuration.
    """
    if isinstance(raw, dict):
        unknown = sorted(set(raw) - FIELDS[mode])
        if unknown:
            fields = ", ".join(sorted(FIELDS[mode] - {"expect"}))
            raise ValueError(f"unknown field(s) {', '.join(unknown)}: a {mode} case has {fields}")
        if "config" not in raw:
            raise ValueError("config: required (an object of Flink options; {} for none)")
    config = config_section(raw, "config")
    job_config = config_section(raw, "jobConfig")
    if mode != "weights":
        return Case(config, job_config)
    use_cases = tuple(raw.get("useCases", list(USE_CASES)))
    for use_case in use_cases:
        if use_case not in USE_CASES:
            raise ValueError(f"unknown use case {use_case!r} (expected one of {', '.join(USE_CASES)})")
    backend = raw.get("stateBackendUsesManagedMemory")
    fraction = float(raw["fractionOfUseCase"]) if "fractionOfUseCase" in raw else 1.0
    return Case(config, job_config, use_cases, None if backend is None else bool(backend), fraction)


def config_section(raw: dict[str, Any], section: str) -> dict[str, str]:
    entries = raw.get(section) or {}
    if not isinstance(entries, dict):
        raise ValueError(f"'{section}' must be an object")
    strings = {}
    for key, value in entries.items():
        if value is None:
            continue
        text = _config_string(value)
        key.encode("utf-8")  # the oracle ships keys and values as UTF-8; a lone surrogate is bad input
        text.encode("utf-8")
        strings[key] = text
    return strings


def _config_string(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return value
    raise ValueError(f"config values must be strings (got {value!r})")


def _write_line(out: TextIO, output: Output) -> None:
    try:
        out.write(json.dumps(output, ensure_ascii=False) + "\n")
    except UnicodeEncodeError:  # a stream that cannot carry the text gets it escaped
        out.write(json.dumps(output) + "\n")


# ---------------------------------------------------------------------- what each mode derives


def _evaluator(mode: str, version: FlinkVersion, *, fixes: bool) -> Evaluator:
    if mode == "tm":
        return _task_manager(version, fixes=fixes)
    if mode == "local":
        return _local_execution(version)
    return _weights(version)


def _task_manager(version: FlinkVersion, *, fixes: bool) -> Evaluator:
    from flink_tm_memory.cli.formats.common import fix_document, fixes_for
    from flink_tm_memory.memory.engine import derive_task_manager_memory
    from flink_tm_memory.memory.oracle_format import task_manager_output

    def evaluate(case: Case) -> Output:
        # Only Flink's answer goes into the oracle schema: skip our extra analysis (independent problems,
        # advice, trace), which fleet-sized batches would pay for per case.
        result = derive_task_manager_memory(case.config, version, thorough=False)
        output = task_manager_output(result)
        if fixes and not result.ok:
            output["fixes"] = [fix_document(fix) for fix in fixes_for(result, case.config)]
        return output

    return evaluate


def _local_execution(version: FlinkVersion) -> Evaluator:
    from flink_tm_memory.memory.local import derive_local_execution, local_output

    return lambda case: local_output(derive_local_execution(case.config, version))


def _weights(version: FlinkVersion) -> Evaluator:
    from flink_tm_memory.memory.weights import derive_managed_memory_weights, weights_output

    def evaluate(case: Case) -> Output:
        result = derive_managed_memory_weights(
            case.config,
            version,
            use_cases=case.use_cases,
            state_backend_uses_managed_memory=case.state_backend_uses_managed_memory,
            fraction_of_use_case=case.fraction_of_use_case,
            job_config=case.job_config or None,  # the oracle cannot tell an empty job config from none
        )
        return weights_output(result)

    return evaluate
