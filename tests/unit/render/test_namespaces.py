"""Namespace patterns are matched as kopf matches them (the examples of its documentation, and its rules)."""

from __future__ import annotations

import pytest

from flink_tm_memory.render.namespaces import is_pattern, matches, served


def test_kopfs_documented_examples() -> None:
    pattern = "myapp-*, !*-pr-*, *pr-123"
    assert matches("myapp-test", pattern)
    assert matches("myapp-pr-123", pattern)
    assert not matches("myapp-pr-456", pattern)
    assert not matches("otherapp-pr-123", pattern)
    negated = "!*-pr-*, *pr-123"
    assert matches("anyapp-anything", negated)
    assert matches("otherapp-pr-123", negated)
    assert not matches("myapp-pr-456", negated)


def test_a_plain_name_is_one_namespace() -> None:
    assert not is_pattern("flink")
    assert all(is_pattern(text) for text in ("flink-*", "!kube-system", "a,b", "f?"))
    assert matches("flink", "flink")
    assert not matches("flink-a", "flink")
    assert served("flink-a", ["batch", "flink-*"])
    assert not served("kube-system", ["batch", "flink-*"])


@pytest.mark.parametrize(
    ("name", "pattern", "expected"),
    [
        ("flink-a", "flink-*", True),
        ("flink", "flink-*", False),
        ("flink-a", "flink-?", True),
        ("flink-ab", "flink-?", False),
        ("kube-system", "!kube-*", False),
        ("default", "!kube-*", True),
        ("a", " a , b ", True),  # spaces are ignored
        ("b", "a,b", False),  # a later inclusive glob only matches again what the first matched
        ("flink-x", "flink-*,!flink-x", False),
        ("flink-x", "flink-*,!flink-*,flink-x", True),
    ],
)
def test_globs_exclusions_and_lists(name: str, pattern: str, expected: bool) -> None:
    assert matches(name, pattern) is expected
