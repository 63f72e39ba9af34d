"""Mistakes on the command line: one line on stderr naming the problem, exit code 2."""

from __future__ import annotations

import pytest

from .conftest import CliRunner


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (
            ["derive", "-D", "taskmanager.memory.process.size"],
            "argument -D: expected KEY=VALUE, got 'taskmanager.memory.process.size'",
        ),
        (["derive", "-D", "=1g"], "argument -D: expected KEY=VALUE, got '=1g'"),
        (
            ["derive", "--flink-version", "1.16"],
            "Unsupported Flink version '1.16'; supported: 1.17, 1.18, 1.19, 1.20, 2.0, 2.1, 2.2, 2.3",
        ),
        (["derive", "--flink-version", "two"], "Unsupported Flink version 'two'"),
        (
            ["derive", "--config", "/nonexistent/config.yaml"],
            "cannot read configuration file '/nonexistent/config.yaml': No such file or directory",
        ),
        (["derive", "--format", "xml"], "argument --format: invalid choice: 'xml'"),
        (["derive", "--jsonl", "-D", "a=b"], "-D cannot be combined with --jsonl"),
        (["derive", "--jsonl", "--format", "json"], "--format cannot be combined with --jsonl"),
        (["derive", "--mode", "local"], "--mode only applies to --jsonl"),
        (["derive", "--jsonl", "--mode", "sideways"], "argument --mode: invalid choice: 'sideways'"),
        ([], "the following arguments are required: COMMAND"),
        (["explain"], "argument COMMAND: invalid choice: 'explain'"),
    ],
)
def test_a_usage_error_exits_2_with_one_line_naming_the_problem(
    cli: CliRunner, args: list[str], problem: str
) -> None:
    run = cli(*args)

    assert run.code == 2
    assert run.out == ""
    assert run.err.startswith("flink-tm-memory: error: ")
    assert problem in run.err
    assert run.err.count("\n") == 1


def test_patch_versions_are_accepted_and_shown_as_their_release(cli: CliRunner) -> None:
    run = cli("derive", "--flink-version", "1.20.1")

    assert run.code == 0
    assert run.out.startswith("Flink 1.20 TaskManager memory")


def test_help_describes_derive_and_exits_0(cli: CliRunner) -> None:
    run = cli("derive", "--help")

    assert run.code == 0
    assert "--flink-version" in run.out
    assert "taskmanager.memory.process.size: 1728m" in run.out
