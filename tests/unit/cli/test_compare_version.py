"""``derive --compare-version``: the table, the document, the exit code and the flags it refuses."""

from __future__ import annotations

import json
from pathlib import Path

from tests.unit.cli.conftest import CliRunner


def test_the_table_shows_both_releases_and_the_reason(cli: CliRunner) -> None:
    run = cli(
        "derive",
        "--flink-version",
        "1.20",
        "--compare-version",
        "2.0",
        "-D",
        "taskmanager.network.numberOfBuffers=10000",
        "-D",
        "taskmanager.memory.task.heap.size=1g",
        "-D",
        "taskmanager.memory.managed.size=1g",
    )
    assert run.code == 0, run.err
    assert "The same options under Flink 1.20 and Flink 2.0" in run.out
    assert "Network                  312.500mb     256.000mb  -56.500mb (-59244540 bytes)" in run.out
    assert "taskmanager.network.numberOfBuffers (Flink 1.x's legacy network buffer count)" in run.out


def test_identical_layouts_say_so(cli: CliRunner) -> None:
    run = cli("derive", "--compare-version", "1.17", "-D", "taskmanager.memory.process.size=4g")
    assert run.code == 0
    assert "The layouts are the same to the byte: upgrading to 1.17 changes no memory size." in run.out


def test_json_carries_both_layouts_in_bytes_and_exits_1_when_the_other_release_rejects(
    cli: CliRunner, tmp_path: Path
) -> None:
    conf = tmp_path / "flink-conf.yaml"
    conf.write_text("taskmanager.memory.process.size: 4g\ntaskmanager.heap.size: 2g\n")
    run = cli("derive", "--compare-version", "1.20", "--config", str(conf), "--format", "json")
    document = json.loads(run.out)
    assert run.code == 1
    assert document["ok"] is True  # 2.2 accepts it
    comparison = document["comparison"]
    assert comparison["ok"] is False
    assert comparison["components"]["totalProcess"] == {"before": 4294967296, "after": None, "change": None}
    assert comparison["problem"].startswith("Derived JVM Overhead size")


def test_formats_other_than_table_yaml_json_and_jsonl_are_refused(cli: CliRunner) -> None:
    assert cli("derive", "--compare-version", "1.20", "--format", "svg").code == 2
    assert cli("derive", "--compare-version", "1.20", "--jsonl", stdin="").code == 2
    run = cli("derive", "--compare-version", "0.9")
    assert run.code == 2
    assert "Unsupported Flink version '0.9'" in run.err
