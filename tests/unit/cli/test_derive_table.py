"""``flink-tm-memory derive`` with the default table output, for a person at a terminal."""

from __future__ import annotations

import io
import os
import re
import sys
from typing import Any

import pytest

from flink_tm_memory.cli import main

from .conftest import CliRunner

SHIPPED_DEFAULT_CASE = "p1-00696-process"  # {"taskmanager.memory.process.size": "1728m"}

# Flink 2.2.1's answer (flink-oracle) to process.size=1.5g with managed.fraction=2.
UNPARSABLE_PROCESS_SIZE = (
    "TaskManager memory configuration failed: Cannot read memory size from config option "
    "'taskmanager.memory.process.size'."
)
UNKNOWN_UNIT = (
    "Memory size unit '.5g' does not match any of the recognized units: (b | bytes) / (k | kb | kibibytes) / "
    "(m | mb | mebibytes) / (g | gb | gibibytes) / (t | tb | tebibytes)"
)


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class SizedTerminal(FakeTerminal):
    def fileno(self) -> int:
        return 1


def row(table: str, label: str) -> str:
    return next(line for line in table.splitlines() if re.match(rf"\s*{re.escape(label)}\s{{2}}", line))


def test_without_any_configuration_it_derives_flinks_shipped_default_and_says_so(
    cli: CliRunner, vectors_2_2: dict[str, dict[str, Any]]
) -> None:
    expect = vectors_2_2[SHIPPED_DEFAULT_CASE]["expect"]

    run = cli("derive")

    assert run.code == 0
    assert "Flink's shipped default" in run.out
    assert "taskmanager.memory.process.size: 1728m, taskmanager.numberOfTaskSlots: 1" in run.out
    assert expect["jvmParams"] in run.out
    for label, name in (
        ("Total Process Memory", "totalProcess"),
        ("Task Heap", "taskHeap"),
        ("Network", "network"),
    ):
        assert str(expect["bytes"][name]) in row(run.out, label)


def test_each_row_shows_flinks_human_size_exact_bytes_share_origin_and_a_proportional_bar(
    cli: CliRunner,
) -> None:
    table = cli("derive").out

    task_heap, managed = row(table, "Task Heap"), row(table, "Managed")

    assert "384.000mb" in task_heap
    assert "402653174" in task_heap
    assert "22.2%" in task_heap
    assert "derived" in task_heap
    assert "536870920" in managed
    # 512mb of managed memory is 4/3 of 384mb of task heap, and so are the bars (to within one eighth of a cell).
    bars = [len(line.rstrip().split()[-1]) for line in (task_heap, managed)]
    assert bars[1] == pytest.approx(bars[0] * 4 / 3, abs=1)


def test_cpu_slots_and_per_slot_sizes_are_shown(cli: CliRunner) -> None:
    table = cli(
        "derive", "-D", "taskmanager.memory.process.size=4g", "-D", "taskmanager.numberOfTaskSlots=4"
    ).out

    assert re.search(r"CPU cores\s+4\.0", table)
    assert re.search(r"Task slots\s+4", table)
    # Flink 2.2.1: managed 1438814063 bytes in 4 slots.
    assert "managed 343.040mb" in row(table, "Per slot")


def test_notes_and_a_compact_explain_trace_follow_the_numbers(cli: CliRunner) -> None:
    table = cli("derive").out

    notes, explain = table.index("\nNotes\n"), table.index("\nExplain\n")
    assert table.index("JVM flags") < notes < explain
    # Flink's own INFO log for the shipped default (spec V1, observed in Flink's log).
    assert (
        "The derived from fraction jvm overhead memory (172.800mb (181193935 bytes)) is less than its min value "
        "192.000mb (201326592 bytes), min value will be used instead" in table[notes:explain]
    )
    assert re.search(r"Task Heap\s+the rest of total Flink memory", table[explain:])


def test_a_rejected_configuration_exits_1_with_flinks_message_first_then_every_independent_problem(
    cli: CliRunner,
) -> None:
    run = cli(
        "derive", "-D", "taskmanager.memory.process.size=1.5g", "-D", "taskmanager.memory.managed.fraction=2"
    )

    assert run.code == 1
    lines = run.out.splitlines()
    first = next(index for index, line in enumerate(lines) if "rejects this configuration" in line)
    assert lines[first + 1].strip() == UNPARSABLE_PROCESS_SIZE
    assert f"caused by: {UNKNOWN_UNIT}" in run.out
    assert "keys: taskmanager.memory.process.size" in run.out
    independent = run.out.index("1 more problem")
    assert "Inconsistently configured Key: 'taskmanager.memory.managed.fraction'" in run.out[independent:]
    assert "keys: taskmanager.memory.managed.fraction" in run.out[independent:]


def test_dynamic_properties_override_the_configuration_file(cli: CliRunner, tmp_path: Any) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("taskmanager:\n  memory:\n    process.size: 4g\n  numberOfTaskSlots: 2\n")

    table = cli("derive", "--config", str(config), "-D", "taskmanager.memory.process.size=1728m").out

    assert "1811939328" in row(table, "Total Process Memory")
    assert re.search(r"Task slots\s+2", table)
    assert (
        f"{config} (standard YAML, 2 entries), overridden by -D taskmanager.memory.process.size=1728m"
        in table
    )


@pytest.mark.parametrize(
    ("tty", "no_color", "coloured"),
    [(True, None, True), (True, "1", False), (True, "", False), (False, None, False)],
)
def test_colour_is_used_only_on_a_terminal_without_no_color(
    monkeypatch: pytest.MonkeyPatch, tty: bool, no_color: str | None, coloured: bool
) -> None:
    out = FakeTerminal() if tty else io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    if no_color is None:
        monkeypatch.delenv("NO_COLOR", raising=False)
    else:
        monkeypatch.setenv("NO_COLOR", no_color)

    assert main(["derive"]) == 0
    assert ("\x1b[" in out.getvalue()) is coloured


def test_a_terminal_that_cannot_show_block_characters_gets_ascii_bars(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
    monkeypatch.setattr(sys, "stdout", out)

    assert main(["derive", "-D", "taskmanager.memory.process.size=1.5g"]) == 1
    assert main(["derive"]) == 0
    out.flush()
    text = out.buffer.getvalue().decode("ascii")
    assert "x Flink 2.2 rejects" in text
    assert "#####" in row(text, "Total Process Memory")


@pytest.mark.parametrize("reported", [0, 60])
def test_notes_wrap_at_the_terminal_width_and_a_terminal_without_a_size_still_gets_a_table(
    monkeypatch: pytest.MonkeyPatch, reported: int
) -> None:
    out = SizedTerminal()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setattr("os.get_terminal_size", lambda fd=1: os.terminal_size((reported, 24)))

    assert main(["derive"]) == 0
    notes = out.getvalue().split("\nNotes\n")[1].split("\n\n")[0].splitlines()
    assert max(len(line) for line in notes) <= (reported or 100)
    assert len(notes) > 1
