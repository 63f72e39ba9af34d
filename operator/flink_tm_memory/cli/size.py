"""``flink-tm-memory size``: from what a job needs to the smallest TaskManager that provides it.

Needs are given as ``--need NAME=SIZE`` (names as in the layout: ``taskHeap``, ``managed``,
``network``, ``taskOffHeap``, ``frameworkHeap``, ``frameworkOffHeap``, ``jvmMetaspace``,
``jvmOverhead``; sizes in Flink's syntax), over the user's options (``--config``, ``-D``; without
either, Flink's shipped default). The answer (``memory/sizing.py``) is the options to set, the
layout Flink makes of them, and the container's requests: the process size as memory and the cores
Flink pins as CPU (limits are the same until a limit factor says otherwise).

``--jsonl`` reads one case per line, ``{"id", "config", "needs"}``, and writes one answer per line,
``{"id", "ok": true, "config": {option: value}, "bytes": {component: bytes}}`` or ``{"id", "ok":
false, "error": {"message"}}``. Exit codes: 0 sized (every line answered), 1 the needs cannot be met
(or a line could not be read), 2 a usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Mapping
from typing import Any, TextIO

from flink_tm_memory.cli.batch import config_section
from flink_tm_memory.cli.errors import CONFIGURATION_EXIT, UsageError
from flink_tm_memory.cli.formats.common import short_size
from flink_tm_memory.cli.inputs import ConfigInput, gather_configuration
from flink_tm_memory.memory.failures import JavaError
from flink_tm_memory.memory.layout import COMPONENT_NAMES
from flink_tm_memory.memory.meant import format_size, meant_size
from flink_tm_memory.memory.oracle_format import json_number
from flink_tm_memory.memory.sizes import format_human, parse_memory_size
from flink_tm_memory.memory.sizing import NEED_NAMES, Sizing, UnmeetableNeedsError, size_for_needs
from flink_tm_memory.memory.versions import FlinkVersion, UnsupportedVersionError, parse_flink_version


def run_size(arguments: argparse.Namespace) -> int:
    version = _version(arguments.flink_version)
    if arguments.jsonl:
        if arguments.config or arguments.dynamic or arguments.need or arguments.format:
            raise UsageError("--config, -D, --need and --format cannot be combined with --jsonl")
        return size_batch(sys.stdin, sys.stdout, sys.stderr, version)
    if not arguments.need:
        raise UsageError(f"give at least one --need NAME=SIZE (names: {', '.join(NEED_NAMES)})")
    try:
        needs = read_needs(dict(arguments.need))
    except ValueError as error:
        raise UsageError(str(error)) from None
    source = gather_configuration(arguments.config, arguments.dynamic, version)
    try:
        sizing = size_for_needs(
            source.entries, needs, version, standard_yaml=source.file.standard_yaml if source.file else None
        )
    except UnmeetableNeedsError as error:
        print(f"flink-tm-memory: the needs cannot be met: {error}", file=sys.stderr)
        return CONFIGURATION_EXIT
    document = sizing_document(sizing, needs, source)
    output_format = arguments.format or "table"
    if output_format == "table":
        sys.stdout.write(render_sizing_table(sizing, needs, source))
    else:
        from flink_tm_memory.cli.formats.structured import render_json, render_yaml

        sys.stdout.write(render_json(document) if output_format == "json" else render_yaml(document))
    return 0


def read_needs(raw: Mapping[str, object]) -> dict[str, int]:
    """Needs by name, in bytes, from sizes in Flink's syntax (or whole bytes); ValueError names the need."""
    needs: dict[str, int] = {}
    for name, value in raw.items():
        if name not in NEED_NAMES:
            raise ValueError(f"needs.{name}: unknown need; expected one of {', '.join(NEED_NAMES)}")
        needs[name] = _need_bytes(name, value)
    return needs


def _need_bytes(name: str, value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if not isinstance(value, str):
        raise ValueError(f"needs.{name}: expected a memory size such as 2g or 4096m (got {value!r})")
    try:
        return parse_memory_size(value)
    except JavaError:
        meant = meant_size(value)
        hint = f"; did you mean {format_size(meant)}?" if meant is not None else ""
        raise ValueError(f"needs.{name}: cannot read '{value}' as a memory size{hint}") from None


def pod_resources(sizing: Sizing) -> dict[str, dict[str, str]]:
    """Requests and limits of the TaskManager container: the process size, the cores Flink pins."""
    from flink_tm_memory.api.quantity import format_memory_quantity

    amounts = {
        "memory": format_memory_quantity(sizing.layout.total_process_bytes),
        "cpu": _millicores(sizing.layout.cpu_cores),
    }
    return {"requests": dict(amounts), "limits": dict(amounts)}


def _millicores(cores: float) -> str:
    millis = -(-round(cores * 1_000_000) // 1000)  # up to a millicore, as the operator rounds
    return f"{millis // 1000}" if millis % 1000 == 0 else f"{millis}m"


def sizing_document(sizing: Sizing, needs: Mapping[str, int], source: ConfigInput) -> dict[str, Any]:
    components = sizing.layout.components()
    return {
        "flinkVersion": sizing.result.version.name,
        "needs": {name: {"bytes": size, "human": format_human(size)} for name, size in needs.items()},
        "set": dict(sizing.changes),
        "summaries": list(sizing.summaries),
        "components": {
            name: {"bytes": size, "human": format_human(size)} for name, size in components.items()
        },
        "cpuCores": json_number(sizing.layout.cpu_cores),
        "numSlots": sizing.layout.num_slots,
        "resources": pod_resources(sizing),
        "configuration": dict(source.dynamic) if source.file is None else {"file": source.file.path},
    }


def render_sizing_table(sizing: Sizing, needs: Mapping[str, int], source: ConfigInput) -> str:
    components = sizing.layout.components()
    width = max(len(name) for name in COMPONENT_NAMES)
    lines = [
        f"Flink {sizing.result.version.name}, options: {source.describe()}",
        "",
        "Set:",
        *(f"  {key}: {value}" for key, value in sizing.changes.items()),
        "",
        "Why:",
        *(f"  {summary}" for summary in sizing.summaries),
        "",
        f"  {'component':<{width}}  {'size':>9}  need",
    ]
    for name in COMPONENT_NAMES:
        need = needs.get(name)
        met = "" if need is None else f"{short_size(need)} (met)"
        lines.append(f"  {name:<{width}}  {short_size(components[name]):>9}  {met}".rstrip())
    resources = pod_resources(sizing)
    requests = resources["requests"]
    lines += ["", f"Container: requests = limits = memory {requests['memory']}, cpu {requests['cpu']}", ""]
    return "\n".join(lines)


# ---------------------------------------------------------------------- --jsonl


def size_batch(lines: Iterable[str], out: TextIO, err: TextIO, version: FlinkVersion) -> int:
    """Answers every case, one line each; 1 if a line could not be read, else 0."""
    status = 0
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        case_id, answer, bad_input = _answer(line, number, version)
        if bad_input:
            status = CONFIGURATION_EXIT
            err.write(f"flink-tm-memory: line {number}: {answer['error']['message']}\n")
        out.write(json.dumps({"id": case_id, **answer}, ensure_ascii=False) + "\n")
    return status


def _answer(line: str, number: int, version: FlinkVersion) -> tuple[Any, dict[str, Any], bool]:
    case_id: Any = str(number)
    try:
        try:
            raw = json.loads(line)
        except ValueError as error:
            raise ValueError(f"not JSON: {error}") from None
        if not isinstance(raw, dict):
            raise ValueError("expected an object with id, config and needs")
        case_id = raw.get("id", case_id)
        unknown = sorted(set(raw) - {"id", "config", "needs"})
        if unknown:
            raise ValueError(f"unknown field(s) {', '.join(unknown)}: expected id, config and needs")
        config = config_section(raw, "config")
        raw_needs = raw.get("needs")
        if not isinstance(raw_needs, dict) or not raw_needs:
            raise ValueError('needs: expected an object of at least one need, e.g. {"taskHeap": "2g"}')
        needs = read_needs(raw_needs)
    except ValueError as error:
        return case_id, {"ok": False, "error": {"message": str(error)}}, True
    try:
        sizing = size_for_needs(config, needs, version)
    except UnmeetableNeedsError as error:
        return case_id, {"ok": False, "error": {"message": str(error)}}, False
    return case_id, {"ok": True, "config": dict(sizing.changes), "bytes": sizing.layout.components()}, False


def _version(text: str | None) -> FlinkVersion:
    try:
        return parse_flink_version(text)
    except UnsupportedVersionError as error:
        raise UsageError(str(error)) from None
