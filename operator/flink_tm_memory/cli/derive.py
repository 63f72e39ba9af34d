"""``flink-tm-memory derive``: one configuration in, Flink's answer out, in the format asked for.

Exit code 0 when Flink would accept the configuration, 1 when it would reject it (or could not load
the file), 2 for usage errors. ``--jsonl`` hands over to the batch mode of ``batch.py``.
"""

from __future__ import annotations

import os
import sys

from flink_tm_memory.cli.errors import CONFIGURATION_EXIT, CliError, UsageError
from flink_tm_memory.cli.inputs import ConfigInput, gather_configuration
from flink_tm_memory.memory.engine import TaskManagerMemory, derive_task_manager_memory
from flink_tm_memory.memory.versions import FlinkVersion, UnsupportedVersionError, parse_flink_version

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see memory/records.py)
if TYPE_CHECKING:
    from argparse import Namespace
    from typing import TextIO

    from flink_tm_memory.cli.quick_arguments import DeriveArguments

    Arguments = Namespace | DeriveArguments


def run_derive(arguments: Arguments) -> int:
    version = _version(arguments.flink_version)
    if arguments.jsonl:
        return _run_batch(arguments, version)
    if arguments.mode is not None:
        raise UsageError("--mode only applies to --jsonl")
    if arguments.no_fixes:
        raise UsageError("--no-fixes only applies to --jsonl")
    source = gather_configuration(arguments.config, arguments.dynamic, version)
    if arguments.compare_version is not None:
        return _compare(arguments, version, source)
    result = derive_task_manager_memory(
        source.entries,
        version,
        legacy_heap_env=_legacy_heap(arguments),
        standard_yaml=source.file.standard_yaml if source.file else None,
    )
    _write(result, source, arguments.format or "table", sys.stdout)
    return 0 if result.ok else CONFIGURATION_EXIT


def _compare(arguments: Arguments, version: FlinkVersion, source: ConfigInput) -> int:
    """``--compare-version``: both releases' layouts side by side; exit 1 if the other rejects them."""
    from flink_tm_memory.memory.comparison import compare_versions

    other = _version(arguments.compare_version)
    output_format = arguments.format or "table"
    if output_format not in ("table", "yaml", "json"):
        raise UsageError("--compare-version writes table, yaml or json")
    try:
        other_source = gather_configuration(arguments.config, arguments.dynamic, other)
    except CliError as error:
        raise type(error)(f"--compare-version {other}: {error}") from None
    comparison = compare_versions(
        source.entries,
        version,
        other,
        after_config=other_source.entries,
        legacy_heap_env=_legacy_heap(arguments),
        before_standard_yaml=source.file.standard_yaml if source.file else None,
        after_standard_yaml=other_source.file.standard_yaml if other_source.file else None,
        file_readers=_readers(source, other_source),
    )
    if output_format == "table":
        from flink_tm_memory.cli.formats.comparison import render_comparison_table

        warnings = [f"  - {warning}" for warning in other_source.warnings if warning not in source.warnings]
        sys.stdout.write(render_comparison_table(comparison) + "".join(line + "\n" for line in warnings))
    else:
        from flink_tm_memory.cli.formats.comparison import comparison_document
        from flink_tm_memory.cli.formats.structured import render_json, render_yaml, result_document

        document = {
            **result_document(comparison.before, source),
            "comparison": comparison_document(comparison),
        }
        document["comparison"]["warnings"] = list(other_source.warnings)
        sys.stdout.write(render_json(document) if output_format == "json" else render_yaml(document))
    return 0 if comparison.after.ok else CONFIGURATION_EXIT


def _readers(source: ConfigInput, other: ConfigInput) -> tuple[str, str] | None:
    if source.file is None or other.file is None:
        return None
    return str(source.file.parser), str(other.file.parser)


def _legacy_heap(arguments: Arguments) -> str | None:
    """``--flink-tm-heap``, else the environment Flink 1.x's ``BashJavaUtils`` would read it from."""
    flag: str | None = arguments.flink_tm_heap
    return flag if flag is not None else os.environ.get("FLINK_TM_HEAP")


def _version(text: str | None) -> FlinkVersion:
    try:
        return parse_flink_version(text)
    except UnsupportedVersionError as error:
        raise UsageError(str(error)) from None


def _run_batch(arguments: Arguments, version: FlinkVersion) -> int:
    given = [
        flag
        for flag, value in (
            ("--config", arguments.config),
            ("-D", arguments.dynamic),
            ("--format", arguments.format),
            ("--flink-tm-heap", arguments.flink_tm_heap),
            ("--compare-version", arguments.compare_version),
        )
        if value
    ]
    if given:
        raise UsageError(
            f"{' and '.join(given)} cannot be combined with --jsonl (each case carries its config)"
        )
    from flink_tm_memory.cli.batch import run_batch

    return run_batch(
        sys.stdin,
        sys.stdout,
        version,
        arguments.mode or "tm",
        flush=sys.stdout.isatty(),
        fixes=not arguments.no_fixes,
        err=sys.stderr,
    )


def _write(result: TaskManagerMemory, source: ConfigInput, output_format: str, out: TextIO) -> None:
    from flink_tm_memory.cli.formats.registry import DERIVE_FORMATS

    DERIVE_FORMATS[output_format](result, source, out)
