"""A command's own parser (``build_parser(only=...)``, what a one-shot run builds) parses as the full one.

The whole parser is built only when the first argument names no command (``--help``, ``--version``,
a typo): then its answer covers every command. Otherwise only the named command's arguments are
built, and the result must not differ in anything: values, defaults, errors, help.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import re

import pytest

from flink_tm_memory.cli.arguments import COMMANDS, build_parser

ARGUMENT_LISTS = [
    ["derive"],
    [
        "derive",
        "--format",
        "flink",
        "--flink-version",
        "2.2.1",
        "-D",
        "taskmanager.memory.process.size=1728m",
    ],
    ["derive", "--jsonl", "--no-fixes", "--mode", "local"],
    ["derive", "--compare-version", "1.20", "-D", "taskmanager.memory.flink.size=1g"],
    ["size", "--need", "taskHeap=2g"],
    ["check", "-f", "manifests"],
    ["render", "-f", "manifests"],
    ["run", "--leader-election", "--namespace", "flink"],
    ["webhook-configurations"],
    ["derive", "--format", "nonsense"],
    ["derive", "--no-such-option"],
    ["derive", "--help"],
    ["run", "--help"],
    ["size", "extra"],
]


def outcome(parser: argparse.ArgumentParser, arguments: list[str]) -> tuple[object, str, str]:
    """The namespace (or exit code) and what was printed."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            result: object = vars(parser.parse_args(arguments))
        except SystemExit as done:
            result = done.code
        except Exception as error:  # the CLI's own parser raises UsageError instead of exiting
            result = (type(error).__name__, str(error))
    return result, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("arguments", ARGUMENT_LISTS, ids=" ".join)
def test_a_commands_own_parser_parses_as_the_whole_parser(arguments: list[str]) -> None:
    assert outcome(build_parser(only=arguments[0]), arguments) == outcome(build_parser(), arguments)


def test_the_commands_are_those_the_whole_parser_knows() -> None:
    # The help lists each command on a line of its own, indented under COMMAND, in order.
    listed = re.findall(r"^    (\S+)", build_parser().format_help(), flags=re.MULTILINE)
    assert tuple(listed) == COMMANDS
