"""``derive --config``: Flink's two configuration file formats, read as the chosen release reads them.

Expected entries were taken from Flink itself: ``GlobalConfiguration.loadConfiguration`` of the same
files, run on Flink 2.2.1 (config.yaml) and 1.17.2 (flink-conf.yaml), printing each stored value.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from .conftest import CliRunner

STANDARD_YAML = """\
taskmanager:
  memory:
    process:
      size: 1728m
    managed.fraction: 0.25
    network:
      fraction: 1e-1
  numberOfTaskSlots: 4
  cpu.cores: 0777
a.int: 0777
a.oct: 0o17
a.hex: 0x1F
a.float: 1.
a.float2: .5
a.inf: .inf
a.nan: .nan
a.yes: yes
a.true: True
a.list: [a, 1, {x: 1}]
a.date: 2001-12-14
a.under: 1_000
a.bigint: 99999999999999999999
a.long: 9999999999
a.neg: -5
a.str: "1728m"
a.plus: +12
a.sexa: 1:20
a.emptystr: ""
a.nested: {b: {c: 1}}
a.empty: {}
"""

# What Flink 2.2.1 stored (Integer/Long/BigInteger -> int, Double -> float, Boolean -> bool, String -> str).
STANDARD_YAML_AS_FLINK_STORES_IT: dict[str, Any] = {
    "taskmanager.memory.process.size": "1728m",
    "taskmanager.memory.managed.fraction": 0.25,
    "taskmanager.memory.network.fraction": 0.1,
    "taskmanager.numberOfTaskSlots": 4,
    "taskmanager.cpu.cores": 777,
    "a.int": 777,
    "a.oct": 15,
    "a.hex": 31,
    "a.float": 1.0,
    "a.float2": 0.5,
    "a.inf": "Infinity",  # JSON has no infinity; the oracle spells doubles this way too
    "a.nan": "NaN",
    "a.yes": "yes",
    "a.true": True,
    "a.list": "[a, 1, {x: 1}]",
    "a.date": "2001-12-14",
    "a.under": "1_000",
    "a.bigint": 99999999999999999999,
    "a.long": 9999999999,
    "a.neg": -5,
    "a.str": "1728m",
    "a.plus": 12,
    "a.sexa": "1:20",
    "a.emptystr": "",
    "a.nested.b.c": 1,
}

LEGACY_LINES = (
    "a.b: 1\n  a.c :  x y # comment\nbad line\n: novalue\nempty: \nk:v\nk2:: v\nurl: http://x:80/a#frag\na.b: 3\n"
    '\tt.tab: 1\nq: "quoted"\nlast:   final  \r\ncr: 1\rcr2: 2\n'
)

# What Flink 1.17.2 stored, and the lines it warned about.
LEGACY_AS_FLINK_STORES_IT = {
    "a.b": "3",
    "a.c": "x y",
    "url": "http://x:80/a",
    "k2:": "v",
    "t.tab": "1",
    "q": '"quoted"',
    "last": "final",
    "cr": "1",
    "cr2": "2",
}
LEGACY_WARNINGS = [
    "Error while trying to split key and value in configuration file {file}:3: Line is not a key-value pair "
    "(missing space after ':'?)",
    "Error after splitting key and value in configuration file {file}:4: Key or value was empty",
    "Error while trying to split key and value in configuration file {file}:5: Line is not a key-value pair "
    "(missing space after ':'?)",
    "Error while trying to split key and value in configuration file {file}:6: Line is not a key-value pair "
    "(missing space after ':'?)",
]


def configuration(cli: CliRunner, *args: str) -> dict[str, Any]:
    run = cli("derive", "--format", "json", *args)
    document: dict[str, Any] = json.loads(run.out)
    return document["configuration"]


def test_config_yaml_is_flattened_and_typed_as_flinks_standard_yaml_parser_does(
    cli: CliRunner, tmp_path: Path
) -> None:
    file = tmp_path / "config.yaml"
    file.write_text(STANDARD_YAML)

    loaded = configuration(cli, "--config", str(file))

    assert loaded["parser"] == "standard YAML"
    assert loaded["entries"] == STANDARD_YAML_AS_FLINK_STORES_IT
    assert [type(loaded["entries"][key]) for key in ("a.int", "a.float", "a.true")] == [int, float, bool]


def test_a_yaml_integer_memory_size_counts_bytes(cli: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text("taskmanager.memory.process.size: 1811939328\n")

    document = json.loads(cli("derive", "--format", "json", "--config", str(tmp_path / "config.yaml")).out)

    assert document["components"]["totalProcess"]["bytes"] == 1811939328  # the same layout as 1728m


def test_flink_conf_yaml_is_read_with_flinks_legacy_line_parser(cli: CliRunner, tmp_path: Path) -> None:
    file = tmp_path / "flink-conf.yaml"
    file.write_bytes(LEGACY_LINES.encode())

    loaded = configuration(cli, "--flink-version", "1.17", "--config", str(file))

    assert loaded["parser"] == "legacy flink-conf.yaml parser"
    assert loaded["entries"] == LEGACY_AS_FLINK_STORES_IT
    assert loaded["warnings"] == [warning.format(file=file) for warning in LEGACY_WARNINGS]


def test_skipped_lines_are_shown_as_warnings_in_the_table(cli: CliRunner, tmp_path: Path) -> None:
    file = tmp_path / "flink-conf.yaml"
    file.write_text("taskmanager.memory.process.size: 1728m\ntaskmanager.numberOfTaskSlots:2\n")

    table = cli("derive", "--flink-version", "1.18", "--config", str(file)).out

    assert f"warning  Error while trying to split key and value in configuration file {file}:2" in table


@pytest.mark.parametrize("version", ["1.17", "1.18"])
def test_flink_before_1_19_reads_any_file_with_the_line_parser(
    cli: CliRunner, tmp_path: Path, version: str
) -> None:
    file = tmp_path / "config.yaml"
    file.write_text("taskmanager.numberOfTaskSlots: 2 # two\n")

    loaded = configuration(cli, "--flink-version", version, "--config", str(file))

    assert loaded["entries"] == {"taskmanager.numberOfTaskSlots": "2"}


def test_flink_2_reads_a_flink_conf_yaml_with_the_line_parser_and_says_it_would_not(
    cli: CliRunner, tmp_path: Path
) -> None:
    file = tmp_path / "flink-conf.yaml"
    file.write_text("taskmanager.numberOfTaskSlots: 2\n")

    loaded = configuration(cli, "--flink-version", "2.0", "--config", str(file))

    assert loaded["entries"] == {"taskmanager.numberOfTaskSlots": "2"}
    assert loaded["warnings"][0].startswith("Flink 2.0 no longer reads flink-conf.yaml (only config.yaml)")


@pytest.mark.parametrize(
    ("version", "present", "chosen"),
    [
        ("1.18", ["flink-conf.yaml", "config.yaml"], "flink-conf.yaml"),
        ("1.20", ["flink-conf.yaml", "config.yaml"], "flink-conf.yaml"),
        ("1.20", ["config.yaml"], "config.yaml"),
        ("2.2", ["flink-conf.yaml", "config.yaml"], "config.yaml"),
    ],
)
def test_a_conf_directory_gives_the_file_the_release_would_load(
    cli: CliRunner, tmp_path: Path, version: str, present: list[str], chosen: str
) -> None:
    for name in present:
        (tmp_path / name).write_text(f"taskmanager.memory.process.size: 1728m\nfile: {name}\n")

    loaded = configuration(cli, "--flink-version", version, "--config", str(tmp_path))

    assert loaded["file"] == str(tmp_path / chosen)
    assert loaded["entries"]["file"] == chosen


def test_a_conf_directory_without_the_releases_file_is_a_usage_error(cli: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "flink-conf.yaml").write_text("taskmanager.memory.process.size: 1728m\n")

    run = cli("derive", "--flink-version", "2.2", "--config", str(tmp_path))

    assert run.code == 2
    assert run.err == f"flink-tm-memory: error: {tmp_path} holds no config.yaml, the file Flink 2.2 reads\n"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("a: [1\n", "expected ',' or ']'"),
        ("a.b: 1\na.b: 2\n", "found duplicate key a.b"),
        ("a:\n  b:\n", "'a.b' has no value (null)"),
        ("true: 5\n", "key True is not a string"),
        ("just a scalar\n", "not a mapping of keys to values"),
        (f"a: &a [x]\nb: [{', '.join(['*a'] * 51)}]\n", "Number of aliases for non-scalar nodes exceeds"),
    ],
    ids=["syntax", "duplicate-key", "null-value", "non-string-key", "scalar", "51-collection-aliases"],
)
def test_a_config_yaml_flink_cannot_load_is_a_configuration_problem_in_one_line(
    cli: CliRunner, tmp_path: Path, content: str, problem: str
) -> None:
    file = tmp_path / "config.yaml"
    file.write_text(content)

    run = cli("derive", "--config", str(file))

    assert run.code == 1
    assert run.out == ""
    assert run.err.count("\n") == 1
    assert run.err.startswith(f"flink-tm-memory: error: {file}")
    assert problem in run.err
    assert run.err.endswith("Flink fails to load it too (Error parsing YAML configuration.)\n")


def billion_laughs(levels: int) -> str:
    """Each level a map of ten aliases of the one below: 10**levels entries once flattened."""
    lines = [
        "taskmanager.memory.process.size: 2g",
        "l0: &l0 {a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8}",
    ]
    for level in range(1, levels + 1):
        aliases = ", ".join(f"{key}: *l{level - 1}" for key in "abcdefghij")
        lines.append(f"l{level}: &l{level} {{{aliases}}}")
    return "\n".join(lines) + "\n"


def test_a_billion_laughs_config_yaml_is_refused_before_it_expands(cli: CliRunner, tmp_path: Path) -> None:
    # Flattened, nine levels would be 10**10 entries: the load must stop at alias 51, as Flink's does.
    file = tmp_path / "config.yaml"
    file.write_text(billion_laughs(9))

    run = cli("derive", "--config", str(file))

    assert run.code == 1
    assert "Number of aliases for non-scalar nodes exceeds the specified max=50" in run.err


def test_fifty_aliases_of_collections_are_still_read(cli: CliRunner, tmp_path: Path) -> None:
    file = tmp_path / "config.yaml"
    file.write_text(f"taskmanager.memory.process.size: 2g\na: &a [x]\nb: [{', '.join(['*a'] * 50)}]\n")

    run = cli("derive", "--config", str(file), "--format", "json")

    assert run.code == 0, run.err
    assert json.loads(run.out)["ok"] is True


def test_an_empty_config_yaml_is_an_empty_configuration_not_the_shipped_default(
    cli: CliRunner, tmp_path: Path
) -> None:
    (tmp_path / "config.yaml").write_text("# nothing here\n")

    run = cli("derive", "--config", str(tmp_path / "config.yaml"))

    assert run.code == 1
    assert "Either required fine-grained memory" in run.out
