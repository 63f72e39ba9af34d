"""``load_config_document`` answers every text with entries or a problem, and never raises."""

from __future__ import annotations

import pytest

from flink_tm_memory.memory.config_document import load_config_document


@pytest.mark.parametrize(
    "text",
    [
        "a: [1\n",
        "- a\n",
        "1: x\n",
        "a: ~\n",
        "a: !!timestamp 2001-01-01\n",
        "\x00",
        "a: *b\n",
        "a: " + "[" * 30_000,
    ],
    ids=["syntax", "list", "int-key", "null", "tag", "nul", "alias", "deep"],
)
def test_a_file_flink_refuses_is_a_problem_value_without_entries(text: str) -> None:
    document = load_config_document(text)

    assert document.problem
    assert "\n" not in document.problem
    assert document.entries == {}


def test_only_too_deep_nesting_is_flagged_as_such() -> None:
    assert load_config_document("a: " + "[" * 30_000 + "]" * 30_000).too_deep
    assert not load_config_document("a: [1\n").too_deep


def test_nested_keys_flatten_and_the_last_one_put_wins() -> None:
    document = load_config_document("a:\n  b: 1\n  c: [x, {y: 2}]\na.b: two\n~: 3\n")

    assert document.problem is None
    assert document.entries == {"a.b": "two", "a.c": "[x, {y: 2}]", "null": 3}
