"""``derive --jsonl``: the flink-oracle's batch protocol, so our answers diff directly against Flink's."""

from __future__ import annotations

import io
import json
import re
import sys
from collections.abc import Iterator

import pytest

from flink_tm_memory.cli import main
from flink_tm_memory.cli.batch import read_case
from flink_tm_memory.memory.fixes import propose_fixes

from .conftest import CliRunner, load_vectors


def oracle_line(case_id: object, answer: dict[str, object]) -> str:
    """How flink-oracle prints one result."""
    return json.dumps({"id": case_id, **answer}, ensure_ascii=False)


def test_jsonl_reproduces_every_flink_2_2_1_vector_as_the_oracle_prints_it(cli: CliRunner) -> None:
    cases = load_vectors("2.2.1.jsonl")
    stdin = "".join(json.dumps({"id": case["id"], "config": case["config"]}) + "\n" for case in cases)

    run = cli("derive", "--jsonl", "--no-fixes", "--flink-version", "2.2.1", stdin=stdin)

    assert run.code == 0
    assert run.out.splitlines() == [oracle_line(case["id"], case["expect"]) for case in cases]


def test_jsonl_adds_the_fixes_of_every_rejected_case_to_flinks_answer(cli: CliRunner) -> None:
    cases = load_vectors("2.2.1.jsonl")[:200]
    stdin = "".join(json.dumps({"id": case["id"], "config": case["config"]}) + "\n" for case in cases)

    run = cli("derive", "--jsonl", "--flink-version", "2.2.1", stdin=stdin)

    answers = [json.loads(line) for line in run.out.splitlines()]
    assert any(not case["expect"]["ok"] for case in cases)
    for case, answer in zip(cases, answers, strict=True):
        fixes = answer.pop("fixes", None)
        assert answer == {"id": case["id"], **case["expect"]}
        if case["expect"]["ok"]:
            assert fixes is None
            continue
        expected = propose_fixes(case["config"], "2.2.1")
        assert fixes == [
            {"set": dict(fix.set), "unset": list(fix.unset), "summary": fix.summary} for fix in expected
        ]
        assert fixes
        assert all(isinstance(value, str) for fix in fixes for value in fix["set"].values())


def test_no_fixes_applies_only_to_jsonl(cli: CliRunner) -> None:
    assert cli("derive", "--no-fixes").code == 2


# The oracle's own answers (flink-oracle --flink 2.2.1) to input it cannot read.
BAD_LINES = [
    ("not json", {"id": "1", "message": "Expecting value: line 1 column 1 (char 0)"}),
    ("[1, 2]", {"id": "1", "message": "'list' object has no attribute 'get'"}),
    ('{"id": "a", "config": ["x"]}', {"id": "a", "message": "'config' must be an object"}),
    (
        '{"id": "b", "config": {"taskmanager.memory.process.size": [1]}}',
        {"id": "b", "message": "config values must be strings (got [1])"},
    ),
    (
        '{"id": "c", "config": {}, "jobConfig": {"a": {"b": 1}}}',
        {"id": "c", "message": "config values must be strings (got {'b': 1})"},
    ),
]


@pytest.mark.parametrize(
    ("line", "answer"), BAD_LINES, ids=[answer["id"] + "-" + line[:8] for line, answer in BAD_LINES]
)
def test_a_line_that_cannot_be_read_is_answered_with_oracle_bad_input_and_the_stream_goes_on(
    cli: CliRunner, line: str, answer: dict[str, str]
) -> None:
    good = '{"id": "after", "config": {"taskmanager.memory.process.size": "1728m"}}'

    run = cli("derive", "--jsonl", stdin=f"{line}\n{good}\n")

    first, second = run.out.splitlines()
    assert first == oracle_line(
        answer["id"], {"ok": False, "error": {"class": "ORACLE_BAD_INPUT", "message": answer["message"]}}
    )
    assert json.loads(second)["ok"] is True
    assert run.code == 1  # the stream went on, and the exit says a line was bad
    assert run.err == f"flink-tm-memory: line 1: {answer['message']}\n"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"id": "a"}', "config: required (an object of Flink options; {} for none)"),
        ('{"id": "a", "conf": {}}', "unknown field(s) conf: a tm case has config, id, jobConfig"),
    ],
)
def test_a_line_without_config_or_with_an_unknown_field_is_bad_input_not_an_empty_configuration(
    cli: CliRunner, line: str, message: str
) -> None:
    run = cli("derive", "--jsonl", stdin=line + "\n")
    answer = json.loads(run.out)
    assert answer["error"] == {"class": "ORACLE_BAD_INPUT", "message": message}
    assert run.code == 1
    assert run.err == f"flink-tm-memory: line 1: {message}\n"


def test_values_are_read_as_the_oracle_reads_them(cli: CliRunner) -> None:
    typed = '{"id": "t", "config": {"taskmanager.memory.process.size": 1811939328, "x": true, "y": null}}'
    strings = '{"id": "t", "config": {"taskmanager.memory.process.size": "1811939328", "x": "true"}}'

    assert (
        cli("derive", "--jsonl", stdin=typed + "\n").out == cli("derive", "--jsonl", stdin=strings + "\n").out
    )


def test_blank_lines_are_skipped_and_a_case_without_id_is_named_by_its_line_number(cli: CliRunner) -> None:
    run = cli("derive", "--jsonl", stdin='\n   \n{"config": {"taskmanager.memory.process.size": "1g"}}\n')

    assert [json.loads(line)["id"] for line in run.out.splitlines()] == ["3"]
    assert run.out.startswith('{"id": "3", "ok": true')


class Recorder(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty
        self.flushes = 0

    def isatty(self) -> bool:
        return self.tty

    def flush(self) -> None:
        self.flushes += 1
        super().flush()


def test_each_answer_is_written_before_the_next_case_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    out = Recorder(tty=False)
    seen_before_each_read: list[int] = []

    def stdin() -> Iterator[str]:
        for number in range(3):
            seen_before_each_read.append(out.getvalue().count("\n"))
            yield (
                json.dumps({"id": number, "config": {"taskmanager.memory.process.size": f"{number + 1}g"}})
                + "\n"
            )

    monkeypatch.setattr(sys, "stdin", stdin())
    monkeypatch.setattr(sys, "stdout", out)

    assert main(["derive", "--jsonl"]) == 0
    assert seen_before_each_read == [0, 1, 2]


@pytest.mark.parametrize(("tty", "flushes"), [(True, 3), (False, 0)])
def test_answers_are_flushed_line_by_line_only_for_a_terminal(
    monkeypatch: pytest.MonkeyPatch, tty: bool, flushes: int
) -> None:
    out = Recorder(tty)
    monkeypatch.setattr(sys, "stdin", io.StringIO('{"config": {}}\n' * 3))
    monkeypatch.setattr(sys, "stdout", out)

    main(["derive", "--jsonl"])

    assert out.flushes == flushes


def test_the_flink_version_decides_the_answers(cli: CliRunner) -> None:
    legacy = '{"id": "l", "config": {"taskmanager.heap.size": "1g"}}\n'

    flink_1 = json.loads(cli("derive", "--jsonl", "--flink-version", "1.20", stdin=legacy).out)
    flink_2 = json.loads(cli("derive", "--jsonl", "--flink-version", "2.2", stdin=legacy).out)

    assert flink_1["ok"] is True  # 1.x maps the legacy heap size to total Flink memory
    assert flink_2["ok"] is False


def test_local_mode_reproduces_every_flink_2_2_1_local_execution_vector(cli: CliRunner) -> None:
    cases = load_vectors("local/2.2.1.jsonl")
    stdin = "".join(json.dumps({"id": case["id"], "config": case["config"]}) + "\n" for case in cases)

    run = cli("derive", "--jsonl", "--mode", "local", "--flink-version", "2.2.1", stdin=stdin)

    assert run.code == 0
    assert run.out.splitlines() == [oracle_line(case["id"], case["expect"]) for case in cases]


def test_weights_mode_reproduces_every_flink_2_2_1_weights_vector(cli: CliRunner) -> None:
    cases = load_vectors("weights/2.2.1.jsonl")
    stdin = "".join(json.dumps({k: v for k, v in case.items() if k != "expect"}) + "\n" for case in cases)

    run = cli("derive", "--jsonl", "--mode", "weights", "--flink-version", "2.2.1", stdin=stdin)

    assert run.code == 0
    assert run.out.splitlines() == [oracle_line(case["id"], case["expect"]) for case in cases]


# flink-oracle --flink 2.2.1 --weights answers these with ORACLE_BAD_INPUT and these messages.
@pytest.mark.parametrize(
    ("case", "message"),
    [
        (
            {"useCases": ["OPERATOR", "BATCH"]},
            "unknown use case 'BATCH' (expected one of OPERATOR, STATE_BACKEND, PYTHON)",
        ),
        ({"useCases": "OPERATOR"}, "unknown use case 'O' (expected one of OPERATOR, STATE_BACKEND, PYTHON)"),
        ({"fractionOfUseCase": "abc"}, "could not convert string to float: 'abc'"),
    ],
)
def test_weights_cases_are_checked_as_the_oracle_checks_them(case: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        read_case({"config": {}, **case}, "weights")


def test_weights_extras_are_read_as_the_oracle_reads_them() -> None:
    raw = {
        "config": {},
        "useCases": ["PYTHON"],
        "stateBackendUsesManagedMemory": 0,
        "fractionOfUseCase": "0.5",
    }

    case = read_case(raw, "weights")

    # The oracle answers this case with fractions {"PYTHON": 0.5} and stateBackendUsesManagedMemory false.
    assert (case.use_cases, case.state_backend_uses_managed_memory, case.fraction_of_use_case) == (
        ("PYTHON",),
        False,
        0.5,
    )
