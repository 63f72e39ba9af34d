"""The machine formats of ``derive``: flink (BashJavaUtils' output), json, yaml and svg."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
import yaml

from flink_tm_memory.cli.formats.registry import DERIVE_FORMATS
from flink_tm_memory.memory.fixes import propose_fixes

from .conftest import CliRunner, load_vectors

# Verbatim output of Flink's own command line, `java -cp bash-java-utils.jar:flink-dist.jar
# org.apache.flink.runtime.util.bash.BashJavaUtils GET_TM_RESOURCE_PARAMS --configDir <empty conf> -D ...`:
#   2.2.1-process-1728m: -D taskmanager.memory.process.size=1728m -D taskmanager.numberOfTaskSlots=1
#   2.2.1-process-1.5g:  -D taskmanager.memory.process.size=1.5g
#   1.17.2-legacy-heap:  -D taskmanager.heap.size=1g -D taskmanager.network.memory.fraction=0.2
FLINK_OUTPUT = Path(__file__).parent / "flink_output"
# Lines the CLI does not reproduce: configuration loading, and the JVM's own warnings and stack frames.
NOT_REPRODUCED = re.compile(
    r"INFO  \[\] - (Using standard YAML parser|Loading dynamic configuration)|WARNING: |\t"
)


def flink_printed(name: str) -> list[str]:
    text = (FLINK_OUTPUT / f"bash-java-utils-{name}").read_text()
    return [line for line in text.splitlines() if not NOT_REPRODUCED.match(line)]


BLOCK_KEYS = (
    "totalProcess",
    "totalFlink",
    None,
    "frameworkHeap",
    "taskHeap",
    None,
    "managed",
    None,
    "frameworkOffHeap",
    "taskOffHeap",
    "network",
    "jvmMetaspace",
    "jvmOverhead",
)


def dynamic_flags(config: dict[str, str]) -> list[str]:
    """The case as -D flags over an empty file, as the oracle runs it (no file and no -D: the shipped default)."""
    return [
        "--config",
        os.devnull,
        *(flag for key, value in config.items() for flag in ("-D", f"{key}={value}")),
    ]


# ---------------------------------------------------------------------- --format flink


def test_flink_format_prints_exactly_what_bash_java_utils_prints(cli: CliRunner) -> None:
    run = cli("derive", "--format", "flink")

    assert run.code == 0
    assert run.out.splitlines() == flink_printed("2.2.1-process-1728m.stdout")
    assert run.err == ""


def test_flink_format_prints_flinks_1_x_legacy_heap_and_deprecation_logs_in_flinks_order(
    cli: CliRunner,
) -> None:
    run = cli(
        "derive", "--format", "flink", "--flink-version", "1.17.2",
        "-D", "taskmanager.heap.size=1g", "-D", "taskmanager.network.memory.fraction=0.2",
    )  # fmt: skip

    flink_lines = flink_printed("1.17.2-legacy-heap.stdout")
    # Flink warns about a deprecated key once per lookup (twice here); the CLI says it once.
    without_repeats = [line for index, line in enumerate(flink_lines) if line not in flink_lines[:index]]
    assert run.out.splitlines() == without_repeats


def test_flink_format_prints_the_java_exception_chain_on_stderr_and_exits_1(cli: CliRunner) -> None:
    run = cli("derive", "--format", "flink", "-D", "taskmanager.memory.process.size=1.5g")

    assert run.code == 1
    assert run.err.splitlines() == flink_printed("2.2.1-process-1.5g.stderr")
    assert run.out.splitlines() == flink_printed("2.2.1-process-1.5g.stdout") == []


def test_flink_format_agrees_with_flink_on_every_public_2_2_vector(cli: CliRunner) -> None:
    mismatches = []
    for case in load_vectors("2.2.1.jsonl"):
        run = cli("derive", "--format", "flink", "--flink-version", "2.2.1", *dynamic_flags(case["config"]))
        if _flink_disagreement(run.out, run.err, case["expect"]):
            mismatches.append(case["id"])
    assert not mismatches


def _flink_disagreement(out: str, err: str, expect: dict[str, Any]) -> bool:
    """verify-cli's comparison: the two result lines and the block's byte counts, or the cause chain."""
    if not expect["ok"]:
        chain = zip(expect["error"]["classes"], expect["error"]["chain"], strict=True)
        wanted = [cls if message is None else f"{cls}: {message}" for cls, message in chain]
        got = [
            line.removeprefix('Exception in thread "main" ').removeprefix("Caused by: ")
            for line in err.splitlines()
        ]
        return got != wanted
    results = [
        line.split(":", 1)[1] for line in out.splitlines() if line.startswith("BASH_JAVA_UTILS_EXEC_RESULT:")
    ]
    block = out[out.index("Final TaskExecutor Memory configuration:") :].splitlines()[1:14]
    figures = [int(re.findall(r"(\d+) bytes\)?$", line)[0]) for line in block]
    expected = [expect["bytes"][key] for key in BLOCK_KEYS if key]
    return (
        results != [expect["jvmParams"], expect["dynamicConfigs"]]
        or [figure for key, figure in zip(BLOCK_KEYS, figures, strict=True) if key] != expected
    )


def test_every_block_label_ends_at_column_33_as_in_flinks_log(cli: CliRunner) -> None:
    block = [
        line.removeprefix("INFO  [] - ") for line in cli("derive", "--format", "flink").out.splitlines()[2:15]
    ]

    assert {len(re.match(r"\s+[A-Za-z -]+:\s+", line).group()) for line in block} == {33}  # type: ignore[union-attr]


# ---------------------------------------------------------------------- --format json / yaml


def test_json_carries_the_whole_result(cli: CliRunner, vectors_2_2: dict[str, dict[str, Any]]) -> None:
    expect = vectors_2_2["p1-00696-process"]["expect"]

    document = json.loads(cli("derive", "--format", "json").out)

    assert document["flinkVersion"] == "2.2"
    assert document["ok"] is True
    assert {name: document["components"][name]["bytes"] for name in expect["bytes"]} == expect["bytes"]
    assert document["components"]["totalProcess"]["human"] == "1.688gb (1811939328 bytes)"
    assert document["components"]["jvmHeap"] == {"bytes": 536870902, "human": "512.000mb (536870902 bytes)"}
    assert document["jvmParameters"] == expect["jvmParams"]
    assert document["dynamicConfigs"] == expect["dynamicConfigs"]
    assert (document["cpuCores"], document["numSlots"]) == (expect["cpuCores"], expect["numSlots"])
    assert document["problems"] == []
    assert [note["code"] for note in document["notes"]] == ["CappedToMin"]
    assert {step["component"]: step["origin"] for step in document["trace"]}["taskHeap"] == "Derived"
    assert document["configuration"]["shippedDefault"] is True


def test_json_of_a_rejected_configuration_lists_every_problem_with_flinks_chain(
    cli: CliRunner, vectors_2_2: dict[str, dict[str, Any]]
) -> None:
    case = next(case for case in vectors_2_2.values() if not case["expect"]["ok"])

    run = cli("derive", "--format", "json", "--flink-version", "2.2.1", *dynamic_flags(case["config"]))

    document = json.loads(run.out)
    assert run.code == 1
    assert document["ok"] is False
    assert document["components"] is None
    primary = document["problems"][0]
    assert primary["primary"] is True
    assert primary["message"] == case["expect"]["error"]["message"]
    assert primary["chain"] == case["expect"]["error"]["chain"]
    assert primary["classes"] == case["expect"]["error"]["classes"]
    assert set(primary) == {"reason", "primary", "message", "chain", "classes", "keys"}


def test_yaml_output_is_the_json_document(cli: CliRunner) -> None:
    flags = ("-D", "taskmanager.memory.process.size=2g", "-D", "taskmanager.memory.managed.fraction=0.7")

    assert yaml.safe_load(cli("derive", "--format", "yaml", *flags).out) == json.loads(
        cli("derive", "--format", "json", *flags).out
    )


# ---------------------------------------------------------------------- --format svg


@pytest.mark.parametrize(
    "flags",
    [
        (),
        ("-D", "taskmanager.memory.process.size=4g", "-D", "taskmanager.memory.managed.size=0"),
        ("-D", "taskmanager.memory.process.size=64g", "-D", "taskmanager.memory.task.off-heap.size=1b"),
    ],
    ids=["shipped-default", "no-managed-memory", "tiny-task-off-heap"],
)
def test_svg_is_a_standalone_picture_with_the_real_numbers(cli: CliRunner, flags: tuple[str, ...]) -> None:
    run = cli("derive", "--format", "svg", *flags)
    document = json.loads(cli("derive", "--format", "json", *flags).out)

    root = ElementTree.fromstring(run.out)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    text = " ".join(element.text or "" for element in root.iter())
    for name in ("totalProcess", "totalFlink", "jvmHeap", "jvmDirect", "totalOffHeap"):
        human, size_bytes = document["components"][name]["human"].split(" (")
        assert human in text
        assert size_bytes.removesuffix(")") in text
    for label in (
        "Framework Heap",
        "Task Heap",
        "Managed Memory",
        "Network",
        "JVM Metaspace",
        "JVM Overhead",
    ):
        assert label in text
    assert document["jvmParameters"] in text
    assert not re.search(r"href|url\(|@import|<script", run.out)


def test_svg_block_heights_are_proportional_to_size(cli: CliRunner) -> None:
    root = ElementTree.fromstring(cli("derive", "--format", "svg").out)
    heights = {
        group.findtext("{http://www.w3.org/2000/svg}title", "").split(":")[0]: float(rect.get("height", 0))
        for group in root.iter("{http://www.w3.org/2000/svg}g")
        for rect in group.iter("{http://www.w3.org/2000/svg}rect")
    }

    assert heights["Managed Memory"] / heights["Task Heap"] == pytest.approx(536870920 / 402653174, rel=0.01)
    assert heights["JVM Metaspace"] / heights["JVM Overhead"] == pytest.approx(
        268435456 / 201326592, rel=0.01
    )


def test_svg_of_a_rejected_configuration_shows_flinks_message(cli: CliRunner) -> None:
    run = cli("derive", "--format", "svg", "-D", "taskmanager.memory.process.size=1.5g")

    root = ElementTree.fromstring(run.out)
    text = " ".join(element.text or "" for element in root.iter())
    assert run.code == 1
    assert "Cannot read memory size from config option 'taskmanager.memory.process.size'." in text
    assert "keys: taskmanager.memory.process.size" in text


CONFLICT = ("-D", "taskmanager.memory.process.size=4g", "-D", "taskmanager.memory.task.heap.size=4g")


def expected_fixes(*flags: str) -> list[dict[str, Any]]:
    config = dict(flag.split("=", 1) for flag in flags if flag != "-D")
    return [
        {"set": dict(fix.set), "unset": list(fix.unset), "summary": fix.summary}
        for fix in propose_fixes(config, "2.2")
    ]


@pytest.mark.parametrize("output_format", ["json", "yaml"])
def test_structured_output_of_a_rejected_configuration_carries_its_fixes(
    cli: CliRunner, output_format: str
) -> None:
    run = cli("derive", "--format", output_format, *CONFLICT)

    document = json.loads(run.out) if output_format == "json" else yaml.safe_load(run.out)
    assert document["fixes"] == expected_fixes(*CONFLICT)
    assert document["fixes"]


def test_structured_output_of_an_accepted_configuration_has_no_fixes(cli: CliRunner) -> None:
    assert json.loads(cli("derive", "--format", "json").out)["fixes"] == []


def test_the_table_of_a_rejected_configuration_says_how_to_fix_it(cli: CliRunner) -> None:
    run = cli("derive", *CONFLICT)

    after = run.out.split("How to fix", 1)[1]
    for number, fix in enumerate(expected_fixes(*CONFLICT), 1):
        assert f"{number}. {fix['summary']}" in after


def test_the_svg_card_of_a_rejected_configuration_says_how_to_fix_it(cli: CliRunner) -> None:
    run = cli("derive", "--format", "svg", "-D", "taskmanager.memory.process.size=1.5g")

    texts = [element.text or "" for element in ElementTree.fromstring(run.out).iter()]
    assert "How to fix" in texts
    assert "1. write 1536m for taskmanager.memory.process.size: Flink reads whole numbers only" in texts


def test_the_svg_subtitle_counts_slots_and_cores_in_words(cli: CliRunner) -> None:
    one = cli("derive", "--format", "svg").out
    assert "1 task slot · 1 CPU core<" in one
    many = cli(
        "derive",
        "--format",
        "svg",
        "-D",
        "taskmanager.memory.process.size=4g",
        "-D",
        "taskmanager.numberOfTaskSlots=4",
        "-D",
        "taskmanager.cpu.cores=2.5",
    ).out
    assert "4 task slots · 2.5 CPU cores<" in many


def test_every_format_is_a_writer_of_its_own_and_the_only_choices(cli: CliRunner) -> None:
    outputs = {name: cli("derive", "--format", name) for name in DERIVE_FORMATS}
    assert all(run.code == 0 for run in outputs.values())
    assert len({run.out for run in outputs.values()}) == len(DERIVE_FORMATS)
    refused = cli("derive", "--format", "html")
    choices = ", ".join(f"'{name}'" for name in DERIVE_FORMATS)
    assert refused.code == 2
    assert f"(choose from {choices})" in refused.err
