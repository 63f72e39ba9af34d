"""``derive --config``: Flink's two configuration file formats, read as the chosen release reads them.

Expected entries were taken from Flink itself: ``GlobalConfiguration.loadConfiguration`` of the same
files, run on Flink 2.2.1 (config.yaml) and 1.17.2 (flink-conf.yaml), printing each stored value.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from flink_tm_memory.cli.config_file import parse_config_bytes, parse_config_text
from flink_tm_memory.memory.versions import parse_flink_version

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
    found: dict[str, Any] = document["configuration"]
    return found


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
        ("a:\n  b:\n", "the value of 'a.b' is null"),
        ("true: 5\n", "a key is a java.lang.Boolean, not a string: true"),
        ("just a scalar\n", "the document is a java.lang.String, not a map of options"),
        (
            "k: !!timestamp 2001-01-01\n",
            "could not determine a constructor for the tag tag:yaml.org,2002:timestamp",
        ),
        ("k: !!omap [a: 1]\n", "could not determine a constructor for the tag tag:yaml.org,2002:omap"),
        ("k: !!set {1, 1.0, 0x1}\n", "found duplicate key 1"),
        ("taskmanager.cpu.cores: +.inf\n", "not a double"),
        (f"a: &a [x]\nb: [{', '.join(['*a'] * 51)}]\n", "Number of aliases for non-scalar nodes exceeds"),
    ],
    ids=[
        "syntax",
        "duplicate-key",
        "null-value",
        "non-string-key",
        "scalar",
        "timestamp",
        "omap",
        "set-duplicate",
        "plus-inf",
        "51-collection-aliases",
    ],
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


# What Flink 1.19.3 - 2.3.0 answered for these files (flink-oracle --channel file), as the engine's
# answer to the same entries given as typed values: the file reader must hand over exactly these.
@pytest.mark.parametrize(
    ("content", "entries"),
    [
        ("taskmanager.memory.process.size: 2g\t\n", {"taskmanager.memory.process.size": "2g"}),
        ("taskmanager.memory.process.size\t: 2g\n", {"taskmanager.memory.process.size": "2g"}),
        ("taskmanager.memory.process.size: 2\u0085g\n", {"taskmanager.memory.process.size": "2\u0085g"}),
        ("taskmanager.memory.process.size: 2\u2028g\n", {"taskmanager.memory.process.size": "2\u2028g"}),
        ("~: 1\ntaskmanager.memory.process.size: 2g\n", {"null": 1, "taskmanager.memory.process.size": "2g"}),
        ("&a x: 1g\n&a y: 2g\ntaskmanager.memory.process.size: *a\n", {"taskmanager.memory.process.size": "y"}),
        ("a.b: ~\na: {b: 1}\ntaskmanager.memory.process.size: 2g\n", {"a.b": 1}),
        ("taskmanager.memory.process.size: 2g\nd: " + "[" * 2000 + "]" * 2000 + "\n", {}),
        ("taskmanager.memory.process.size: 2g\nx: [!!binary aGVsbG8=, 1]\n", {"x": '[!!binary "aGVsbG8=", 1]'}),
        ("taskmanager.memory.process.size: 2g\nx: !!set {b: 1, [gpu, 1.5e3], {x: 1}, ~, true}\n",
         {"x": "[b, [gpu, 1500.0], {x=1}, null, true]"}),
        ("taskmanager.memory.process.size: 2g\nx: [!!set {[gpu], {x: 1}, ~, 2}]\n",
         {"x": "[!!set {? [gpu] : null, ? {x: 1} : null, null: null, 2: null}]"}),
    ],
    ids=["tab-after-value", "tab-before-colon", "nel", "line-separator", "null-key", "anchor-twice",
         "null-replaced", "deeply-nested", "binary-in-list", "set", "set-in-list"],
)  # fmt: skip
def test_config_yaml_entries_are_what_flink_stores(content: str, entries: dict[str, Any]) -> None:
    read = parse_config_text(content, "config.yaml", parse_flink_version("2.2")).entries

    assert {key: read[key] for key in entries} == entries
    assert "taskmanager.memory.process.size" in read


def test_a_config_yaml_that_is_not_utf8_is_refused_as_flink_refuses_it(
    cli: CliRunner, tmp_path: Path
) -> None:
    file = tmp_path / "config.yaml"
    file.write_bytes(b"# caf\xe9\ntaskmanager.memory.process.size: 2g\n")

    run = cli("derive", "--config", str(file))

    assert run.code == 1
    assert run.err.startswith(
        f"flink-tm-memory: error: {file}: not UTF-8 (byte 5: invalid continuation byte)"
    )


def test_a_config_yaml_in_utf16_with_its_bom_is_read(cli: CliRunner, tmp_path: Path) -> None:
    file = tmp_path / "config.yaml"
    file.write_bytes("\ufefftaskmanager.memory.process.size: 2g\n".encode("utf-16-le"))
    plain = tmp_path / "plain" / "config.yaml"
    plain.parent.mkdir()
    plain.write_text("taskmanager.memory.process.size: 2g\n")

    run = cli("derive", "--config", str(file), "--format", "json")

    assert run.code == 0, run.err
    assert run.out == cli("derive", "--config", str(plain), "--format", "json").out.replace(
        str(plain), str(file)
    )


@pytest.mark.parametrize("version", ["1.17", "1.20"])
def test_a_latin1_comment_in_flink_conf_yaml_does_not_stop_flink_1x(
    cli: CliRunner, tmp_path: Path, version: str
) -> None:
    file = tmp_path / "flink-conf.yaml"
    file.write_bytes(b"# caf\xe9\ntaskmanager.memory.process.size: 2g\n")

    run = cli("derive", "--flink-version", version, "--config", str(file), "--format", "json")

    assert run.code == 0, run.err
    assert json.loads(run.out)["configuration"]["entries"] == {"taskmanager.memory.process.size": "2g"}


def test_flink_1_20_splits_a_legacy_files_list_on_semicolons_not_as_yaml(
    cli: CliRunner, tmp_path: Path
) -> None:
    # Flink 1.20.5 on this flink-conf.yaml: one resource named "[gpu, fpga]" without an amount, so
    # none at all; the same text in config.yaml names two resources, both with an amount.
    text = (
        "taskmanager.memory.process.size: 2g\nexternal-resources: [gpu, fpga]\n"
        "external-resource.gpu.amount: 1\nexternal-resource.fpga.amount: 2\n"
    )
    (tmp_path / "flink-conf.yaml").write_text(text)
    (tmp_path / "yaml").mkdir()
    (tmp_path / "yaml" / "config.yaml").write_text(text)

    legacy = cli(
        "derive",
        "--flink-version",
        "1.20",
        "--config",
        str(tmp_path / "flink-conf.yaml"),
        "--format",
        "flink",
    )
    standard = cli(
        "derive", "--flink-version", "1.20", "--config", str(tmp_path / "yaml"), "--format", "flink"
    )

    assert "external-resource.gpu.amount" not in legacy.out
    assert "-D external-resource.gpu.amount=1" in standard.out


def test_flink_tm_heap_reaches_the_1x_calculation_from_the_environment_or_the_flag(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    as_option = cli(
        "derive", "--flink-version", "1.18", "-D", "taskmanager.heap.size=3g", "--format", "json"
    ).out
    monkeypatch.setenv("FLINK_TM_HEAP", "3g")
    from_environment = cli("derive", "--flink-version", "1.18", "--format", "json", "-D", "a=b").out
    monkeypatch.setenv("FLINK_TM_HEAP", "1g")
    from_flag = cli(
        "derive", "--flink-version", "1.18", "--flink-tm-heap", "3g", "-D", "a=b", "--format", "json"
    ).out
    in_2x = cli("derive", "--flink-version", "2.2", "--flink-tm-heap", "3g", "-D", "a=b", "--format", "json")

    assert json.loads(from_environment)["components"] == json.loads(as_option)["components"]
    assert json.loads(from_flag)["components"] == json.loads(as_option)["components"]
    assert in_2x.code == 1


def test_a_config_yaml_nested_beyond_reach_is_a_clear_message_not_a_crash(
    cli: CliRunner, tmp_path: Path
) -> None:
    file = tmp_path / "config.yaml"
    file.write_text("taskmanager.memory.process.size: 2g\nd: " + "[" * 100_000 + "]" * 100_000 + "\n")

    run = cli("derive", "--config", str(file))

    assert run.code == 1
    assert run.err == (
        f"flink-tm-memory: error: {file}: collections are nested too deeply to read "
        "(Flink's limit is its JVM's thread stack)\n"
    )


def test_flink_1x_reads_bad_bytes_of_a_flink_conf_yaml_as_replacement_characters_and_keeps_a_bom() -> None:
    # GlobalConfiguration.loadConfiguration of this file on Flink 1.17.2 and 1.20.5 (JDK 17, UTF-8
    # locale) stored exactly these entries.
    data = b"\xef\xbb\xbfa: 1\n# caf\xe9\ntaskmanager.memory.process.size: 2g\nk: v\xe9\n"
    for version in ("1.17", "1.20"):
        read = parse_config_bytes(data, "flink-conf.yaml", parse_flink_version(version))

        assert read.entries == {"\ufeffa": "1", "taskmanager.memory.process.size": "2g", "k": "v\ufffd"}
