"""The one-shot ``derive`` read without argparse (``cli/quick_arguments.py``) parses as argparse does.

Whenever the quick reader answers, its namespace must equal the one ``argparse`` builds from the same
command line, value for value; when it does not answer, the command falls back to ``argparse``, so
declining is always safe. Command lines are generated from the words the simple form uses and from
the ones that look like it but are not (abbreviations, ``--opt=value``, values starting with ``-``,
unknown formats, malformed ``-D`` entries, stray words).
"""

from __future__ import annotations

import argparse

from hypothesis import example, given, settings
from hypothesis import strategies as st

from flink_tm_memory.cli.arguments import build_parser
from flink_tm_memory.cli.errors import UsageError
from flink_tm_memory.cli.quick_arguments import DeriveArguments, parse_quick_derive

OPTIONS = ["-D", "--format", "--flink-version", "--config", "--flink-tm-heap"]
LOOK_ALIKES = [
    "--form",
    "--flink",
    "--format=flink",
    "-Dk=v",
    "--",
    "-",
    "--jsonl",
    "--mode",
    "--help",
    "derive",
]
VALUES = [
    "flink",
    "table",
    "json",
    "yaml",
    "svg",
    "nonsense",
    "",
    "2.2.1",
    "1.20",
    "taskmanager.memory.process.size=1728m",
    "k=v=w",
    " key =",
    "=value",
    " =x",
    "no-separator",
    "-1",
    "-x=1",
    "a b=c",
    "conf/config.yaml",
]

words = st.one_of(st.sampled_from(OPTIONS + LOOK_ALIKES + VALUES), st.text(max_size=6))
simple_pairs = st.lists(st.tuples(st.sampled_from(OPTIONS), st.sampled_from(VALUES)), max_size=6)


def argparse_outcome(arguments: list[str]) -> dict[str, object] | None:
    """argparse's namespace for the command line, or ``None`` when it refuses it (or prints help)."""
    try:
        return vars(build_parser(only="derive").parse_args(arguments))
    except (UsageError, SystemExit):
        return None


def check(arguments: list[str]) -> DeriveArguments | None:
    quick = parse_quick_derive(arguments)
    if quick is not None:
        assert vars(quick) == argparse_outcome(arguments), arguments
    return quick


@settings(max_examples=400, deadline=None)
@given(simple_pairs)
@example([("--format", "flink"), ("-D", "taskmanager.memory.process.size=1728m")])
def test_the_simple_form_parses_as_argparse_parses_it(pairs: list[tuple[str, str]]) -> None:
    arguments = ["derive", *(word for pair in pairs for word in pair)]
    quick = check(arguments)
    if all(value[:1] != "-" for _, value in pairs) and argparse_outcome(arguments) is not None:
        assert quick is not None, arguments  # the simple form is read quickly whenever argparse accepts it


@settings(max_examples=400, deadline=None)
@given(st.lists(words, max_size=8), st.booleans())
def test_any_other_command_line_is_left_to_argparse_or_parsed_as_it(tail: list[str], named: bool) -> None:
    check(["derive", *tail] if named else tail)


def test_the_benchmarked_command_line_is_read_quickly() -> None:
    arguments = ["derive", "--format", "flink", "-D", "taskmanager.memory.process.size=1728m"]
    quick = check(arguments)
    assert quick is not None
    assert quick.dynamic == [("taskmanager.memory.process.size", "1728m")]


def test_help_errors_and_other_forms_go_to_argparse() -> None:
    for arguments in (
        ["derive", "--help"],
        ["derive", "--format", "nonsense"],
        ["derive", "-D", "no-separator"],
        ["derive", "--format=flink"],
        ["derive", "--form", "flink"],
        ["derive", "--jsonl"],
        ["derive", "-D"],
        ["size", "--need", "taskHeap=2g"],
        [],
    ):
        assert parse_quick_derive(arguments) is None, arguments


def test_the_namespace_has_argparses_attributes() -> None:
    assert vars(DeriveArguments()) == vars(build_parser(only="derive").parse_args(["derive"]))
    assert isinstance(build_parser(only="derive").parse_args(["derive"]), argparse.Namespace)
