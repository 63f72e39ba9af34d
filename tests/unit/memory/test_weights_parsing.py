"""How each release reads ``taskmanager.memory.managed.consumer-weights``, rule by rule.

Every expectation below is Flink's own answer: the weights it parsed, or the simple class of the root
exception and the whole message chain. They were printed by feeding each value, with all three use cases
and ``stateBackendUsesManagedMemory: true``, to ``flink-oracle --flink <version> --weights`` (1.17.2 and
2.2.1 for the legacy table, 1.17.2 / 1.19.3 / 2.2.1 for the YAML table, 1.20.5 / 2.0.2 for the names
table). Where 1.19 and 2.2 agree a single column is kept; 1.19.3 and 1.20.5 run with
``--conf-file flink-conf.yaml`` answered exactly the 1.17.2 column of the YAML table.
"""

from __future__ import annotations

from typing import Any

import pytest

from flink_tm_memory.memory.weights import derive_managed_memory_weights, weights_output

KEY = "taskmanager.memory.managed.consumer-weights"
Answer = dict[str, int] | tuple[str, list[str]]


def flink_answer(config: dict[str, Any], version: str, **options: Any) -> Answer:
    output = weights_output(
        derive_managed_memory_weights(config, version, state_backend_uses_managed_memory=True, **options)
    )
    if output["ok"]:
        weights: dict[str, int] = output["weights"]
        return weights
    return output["error"]["classes"][-1].rsplit(".", 1)[-1], output["error"]["chain"]


def wrapped(value: str, root: str, message: str) -> tuple[str, list[str]]:
    """Flink's wrapping of a parse failure of the option (its ``Configuration.get``)."""
    return root, [f"Could not parse value '{value}' for key '{KEY}'.", message]


NOT_A_PAIR = "Map item is not a key-value pair (missing ':'?)"

# (value, Flink's answer on every release: the legacy pattern is read the same way everywhere)
LEGACY = {
    "plain pairs": ("OPERATOR:70,PYTHON:30", {"OPERATOR": 70, "PYTHON": 30}),
    "trimmed tokens": (" OPERATOR : 72 , PYTHON : 24 ", {"OPERATOR": 72, "PYTHON": 24}),
    "a quoted item split again": ("'OPERATOR:1'", {"OPERATOR": 1}),
    "a leading comma": (",OPERATOR:1", {"OPERATOR": 1}),
    "a trailing colon": ("OPERATOR: 70:", {"OPERATOR": 70}),
    "an empty value": ("", {}),
    "an em space before a token": ("OPERATOR:\u20031", {"OPERATOR": 1}),
    "a no-break space, which Java does not skip": ("\u00a0OPERATOR:1", {}),
    "Arabic-Indic digits": ("OPERATOR:\u0667\u0660", {"OPERATOR": 70}),
    "a doubled quote escaping a quote": (
        "'a''b':1,OPERATOR:5",
        wrapped(
            "'a''b':1,OPERATOR:5",
            "IllegalArgumentException",
            "Could not split string. Illegal quoting at position: 5",
        ),
    ),
    "text right after a quoted token": (
        '"OPERATOR":"1"',
        wrapped(
            '"OPERATOR":"1"',
            "IllegalArgumentException",
            "Could not split string. Illegal quoting at position: 9",
        ),
    ),
    "an unclosed quote": (
        "OPERATOR:'1",
        wrapped(
            "OPERATOR:'1",
            "IllegalArgumentException",
            "Could not split string. Quoting was not closed properly.",
        ),
    ),
    "an empty item": (
        "OPERATOR:1,,PYTHON:2",
        wrapped("OPERATOR:1,,PYTHON:2", "IllegalArgumentException", NOT_A_PAIR),
    ),
    "three parts": ("OPERATOR:1:2", wrapped("OPERATOR:1:2", "IllegalArgumentException", NOT_A_PAIR)),
    "a duplicate name before a broken item": (
        "OPERATOR:1,PYTHON:2,OPERATOR:3,X",
        wrapped(
            "OPERATOR:1,PYTHON:2,OPERATOR:3,X",
            "IllegalStateException",
            "Duplicate key OPERATOR (attempted merging values 1 and 3)",
        ),
    ),
    "an em space that String.trim keeps": (
        "OPERATOR:1\u2003",
        ("NumberFormatException", ['For input string: "1\u2003"']),
    ),
    "a decimal weight": ("OPERATOR:1.5", ("NumberFormatException", ['For input string: "1.5"'])),
    "a weight beyond int": (
        "OPERATOR:2147483648",
        ("NumberFormatException", ['For input string: "2147483648"']),
    ),
}


@pytest.mark.parametrize("version", ["1.17", "2.2"])
@pytest.mark.parametrize(("value", "answer"), LEGACY.values(), ids=LEGACY.keys())
def test_the_legacy_pattern_is_split_as_every_release_splits_it(
    value: str, answer: Answer, version: str
) -> None:
    assert flink_answer({KEY: value}, version) == answer


# (value, answer of 1.17/1.18 and of 1.19/1.20 with flink-conf.yaml, answer of 1.19+ with config.yaml)
YAML = {
    "a flow map": (
        "{OPERATOR: 70, PYTHON: 30}",
        ("NumberFormatException", ['For input string: "30}"']),
        {"OPERATOR": 70, "PYTHON": 30},
    ),
    "a flow map without spaces after the colons": ("{OPERATOR:70}", {}, {}),
    "a block map": ("OPERATOR: 70", {"OPERATOR": 70}, {"OPERATOR": 70}),
    "a legacy list with spaces": (
        "OPERATOR: 70, PYTHON: 30",
        {"OPERATOR": 70, "PYTHON": 30},
        {"OPERATOR": 70, "PYTHON": 30},
    ),
    "a legacy list whose first item has no space": (
        "OPERATOR:70, PYTHON: 30",
        {"OPERATOR": 70, "PYTHON": 30},
        {},
    ),
    "a hexadecimal weight": ("{OPERATOR: 0x10}", {}, {"OPERATOR": 16}),
    "an octal weight": ("{OPERATOR: 0o17}", {}, {"OPERATOR": 15}),
    "a float weight": ("{OPERATOR: 1e2}", {}, ("NumberFormatException", ['For input string: "100.0"'])),
    "a float snakeyaml cannot construct": (
        "{OPERATOR: +.inf, PYTHON: 5}",
        ("NumberFormatException", ['For input string: "5}"']),
        ("NumberFormatException", ['For input string: "5}"']),
    ),
    "a duplicate YAML key": (
        "{OPERATOR: 1, OPERATOR: 2}",
        ("NumberFormatException", ['For input string: "2}"']),
        ("NumberFormatException", ['For input string: "2}"']),
    ),
    "keys that are equal only as text": (
        "{1: 2, 00000000001: 3, OPERATOR: 4}",
        ("NumberFormatException", ['For input string: "4}"']),
        ("NumberFormatException", ['For input string: "4}"']),
    ),
    "a null weight": (
        "{OPERATOR: null, PYTHON: 5}",
        ("NumberFormatException", ['For input string: "5}"']),
        ("NumberFormatException", ['For input string: "5}"']),
    ),
    "a comment": (
        "OPERATOR: 70 # weights",
        ("NumberFormatException", ['For input string: "70 # weights"']),
        {"OPERATOR": 70},
    ),
    "a tab before a value": (
        "OPERATOR:\t70 # c",
        ("NumberFormatException", ['For input string: "70 # c"']),
        ("NumberFormatException", ['For input string: "70 # c"']),
    ),
    "a list weight": (
        "{OPERATOR: [a, 'b c', '1', true, \"x\\ty\"]}",
        wrapped(
            "{OPERATOR: [a, 'b c', '1', true, \"x\\ty\"]}",
            "IllegalArgumentException",
            "Could not split string. Illegal quoting at position: 38",
        ),
        ("NumberFormatException", ['For input string: "[a, b c, \'1\', true, "x\\ty"]"']),
    ),
    "an anchor and an alias": (
        "{OPERATOR: &x 70, PYTHON: *x}",
        ("NumberFormatException", ['For input string: "*x}"']),
        {"OPERATOR": 70, "PYTHON": 70},
    ),
    "a YAML directive": ("%YAML 1.2\n--- {OPERATOR: 70}", {}, {"OPERATOR": 70}),
    "a literal block scalar": (
        "OPERATOR: |\n  70\n",
        ("NumberFormatException", ['For input string: "|\n  70"']),
        ("NumberFormatException", ['For input string: "70\n"']),
    ),
    "a folded block scalar": (
        "OPERATOR: >-\n  70\n",
        ("NumberFormatException", ['For input string: ">-\n  70"']),
        {"OPERATOR": 70},
    ),
    "an environment placeholder": (
        "{OPERATOR: ${X:-70}}",
        wrapped("{OPERATOR: ${X:-70}}", "IllegalArgumentException", NOT_A_PAIR),
        wrapped("{OPERATOR: ${X:-70}}", "IllegalArgumentException", NOT_A_PAIR),
    ),
    "an explicit string tag": ("{OPERATOR: !!str 70}", {}, {"OPERATOR": 70}),
    "a complex key far to the right": (
        "{OPERATOR: {? [" + "a" * 84 + "] : 1}}",
        wrapped("{OPERATOR: {? [" + "a" * 84 + "] : 1}}", "IllegalArgumentException", NOT_A_PAIR),
        ("NumberFormatException", ['For input string: "{? [' + "a" * 84 + ']\n  : 1}"']),
    ),
    "two documents": (
        "OPERATOR: 70\n---\nPYTHON: 1",
        wrapped("OPERATOR: 70\n---\nPYTHON: 1", "IllegalArgumentException", NOT_A_PAIR),
        wrapped("OPERATOR: 70\n---\nPYTHON: 1", "IllegalArgumentException", NOT_A_PAIR),
    ),
    "a control character": ("{OPERATOR: 70}\x01", {}, {}),
}


@pytest.mark.parametrize(("value", "split_only", "_yaml_first"), YAML.values(), ids=YAML.keys())
def test_releases_before_standard_yaml_only_split(
    value: str, split_only: Answer, _yaml_first: Answer
) -> None:
    assert flink_answer({KEY: value}, "1.17") == split_only
    assert flink_answer({KEY: value}, "1.19", legacy_conf_file=True) == split_only


@pytest.mark.parametrize(("value", "_split_only", "yaml_first"), YAML.values(), ids=YAML.keys())
@pytest.mark.parametrize("version", ["1.19", "2.2"])
def test_standard_yaml_releases_read_a_value_as_yaml_first(
    value: str, _split_only: Answer, yaml_first: Answer, version: str
) -> None:
    assert flink_answer({KEY: value}, version) == yaml_first


# (configuration, answer of 1.x, answer of 2.x)
NAMES = {
    "prefix keys, DATAPROC included": (
        {f"{KEY}.OPERATOR": "70", f"{KEY}.PYTHON": "30", f"{KEY}.DATAPROC": "5"},
        {"OPERATOR": 70, "STATE_BACKEND": 5, "PYTHON": 30},
        {"OPERATOR": 70, "PYTHON": 30},
    ),
    "the exact key over prefix keys": (
        {KEY: "PYTHON:1", f"{KEY}.OPERATOR": "70"},
        {"PYTHON": 1},
        {"PYTHON": 1},
    ),
    "DATAPROC standing in for STATE_BACKEND": (
        {KEY: "DATAPROC:-1,OPERATOR:1"},
        (
            "IllegalConfigurationException",
            ["Managed memory weight should not be negative. Configured weight for STATE_BACKEND is -1."],
        ),
        {"OPERATOR": 1},
    ),
    "OPERATOR read before PYTHON": (
        {KEY: "PYTHON:x,OPERATOR:-2"},
        (
            "IllegalConfigurationException",
            ["Managed memory weight should not be negative. Configured weight for OPERATOR is -2."],
        ),
        (
            "IllegalConfigurationException",
            ["Managed memory weight should not be negative. Configured weight for OPERATOR is -2."],
        ),
    ),
    "DATAPROC read only when needed": (
        {KEY: "DATAPROC:abc,OPERATOR:1,STATE_BACKEND:2"},
        {"OPERATOR": 1, "STATE_BACKEND": 2},
        {"OPERATOR": 1, "STATE_BACKEND": 2},
    ),
}


@pytest.mark.parametrize(("config", "one", "two"), NAMES.values(), ids=NAMES.keys())
def test_consumer_names_are_looked_up_in_use_case_order_with_the_1x_dataproc_fallback(
    config: dict[str, str], one: Answer, two: Answer
) -> None:
    assert (flink_answer(config, "1.20"), flink_answer(config, "2.0")) == (one, two)
