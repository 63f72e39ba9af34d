"""``flink-tm-memory size``: needs in, the options to set and the container's requests out."""

from __future__ import annotations

import json

from flink_tm_memory.memory import derive_task_manager_memory
from tests.unit.cli.conftest import CliRunner

PROCESS = "taskmanager.memory.process.size"


def test_the_table_names_what_to_set_and_the_container(cli: CliRunner) -> None:
    run = cli("size", "--need", "taskHeap=2g", "--need", "managed=4g")
    assert run.code == 0, run.err
    assert f"{PROCESS}: 11520m" in run.out
    assert "4.000gb (met)" in run.out
    assert "Container: requests = limits = memory 11520Mi, cpu 1" in run.out


def test_json_carries_the_changes_the_layout_and_the_resources(cli: CliRunner) -> None:
    run = cli("size", "--need", "network=300m", "-D", "taskmanager.numberOfTaskSlots=4", "--format", "json")
    document = json.loads(run.out)
    assert run.code == 0
    assert document["needs"]["network"]["bytes"] == 300 * 1024**2
    config = {"taskmanager.numberOfTaskSlots": "4", **document["set"]}
    layout = derive_task_manager_memory(config, "2.2").layout
    assert layout is not None
    assert document["components"]["network"]["bytes"] == layout.network_bytes >= 300 * 1024**2
    assert document["resources"]["requests"]["cpu"] == "4"
    assert document["numSlots"] == 4


def test_a_kubernetes_quantity_as_a_need_is_a_usage_error_with_flinks_spelling(cli: CliRunner) -> None:
    run = cli("size", "--need", "taskHeap=2Gi")
    assert run.code == 2
    assert "needs.taskHeap: cannot read '2Gi' as a memory size; did you mean 2g?" in run.err


def test_no_need_is_a_usage_error(cli: CliRunner) -> None:
    run = cli("size")
    assert run.code == 2
    assert "give at least one --need NAME=SIZE" in run.err


def test_unmeetable_needs_exit_1_with_the_reason(cli: CliRunner) -> None:
    run = cli("size", "--need", "taskHeap=1g", "-D", "taskmanager.memory.network.fraction=2")
    assert run.code == 1
    assert "the needs cannot be met: Flink refuses the configuration whatever its size" in run.err


def test_jsonl_answers_every_line_and_reports_unreadable_ones(cli: CliRunner) -> None:
    stdin = "\n".join(
        [
            json.dumps({"id": "a", "config": {}, "needs": {"taskHeap": "2g"}}),
            json.dumps(
                {
                    "id": "b",
                    "config": {"taskmanager.memory.network.fraction": "2"},
                    "needs": {"managed": "1g"},
                }
            ),
            "not json",
            json.dumps({"id": "d", "config": {}, "needs": {"heap": "1g"}}),
            json.dumps({"id": "e", "config": {}}),
            json.dumps({"id": "f", "config": {}, "needs": {"taskHeap": "1g"}, "flinkVersion": "2.2"}),
        ]
    )
    run = cli("size", "--jsonl", "--flink-version", "1.20", stdin=stdin)
    answers = [json.loads(line) for line in run.out.splitlines()]
    assert [answer["id"] for answer in answers] == ["a", "b", "3", "d", "e", "f"]
    assert answers[0]["ok"]
    assert PROCESS in answers[0]["config"]
    assert answers[0]["bytes"]["taskHeap"] >= 2 * 1024**3
    assert not answers[1]["ok"]
    assert "whatever its size" in answers[1]["error"]["message"]
    assert "unknown need" in answers[3]["error"]["message"]
    assert "needs: expected an object" in answers[4]["error"]["message"]
    assert "unknown field(s) flinkVersion" in answers[5]["error"]["message"]
    assert run.code == 1  # four lines could not be read
    assert run.err.count("flink-tm-memory: line") == 4


def test_jsonl_refuses_per_run_flags(cli: CliRunner) -> None:
    run = cli("size", "--jsonl", "--need", "taskHeap=1g", stdin="")
    assert run.code == 2
