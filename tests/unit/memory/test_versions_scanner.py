"""The release-name scanner of ``memory/versions.py`` accepts exactly what its regular expression does.

``parse_flink_version`` reads names such as ``v2.2.1`` or ``1.20-SNAPSHOT`` with a hand-written
scanner so that the one-shot command line need not import ``re``; ``VERSION_PATTERN`` states the rule.
Generated names over the characters that matter (digits, dots, dashes, ``v``, letters, non-ASCII
digits, whitespace) must give the same release, or none, both ways.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from flink_tm_memory.memory.versions import (
    SUPPORTED_VERSIONS,
    VERSION_PATTERN,
    UnsupportedVersionError,
    parse_flink_version,
)

names = st.text(alphabet=st.sampled_from("0123456789..--vVaZ_ \t\n\u0663\uff12+"), max_size=16)


def by_pattern(text: str) -> str | None:
    match = re.fullmatch(VERSION_PATTERN, text.strip())
    return f"{int(match.group(1))}.{int(match.group(2))}" if match else None


def by_scanner(text: str) -> str | None:
    try:
        return parse_flink_version(text).name
    except UnsupportedVersionError:
        return None


@settings(max_examples=2000, deadline=None)
@given(names)
@example("v2.2.1")
@example("1.20-SNAPSHOT")
@example("02.002.5.x-")
@example("2.2.")
@example("1234567890.1")
@example("2.1234567890")
@example("\u0662.2")
def test_the_scanner_reads_names_as_the_pattern_does(text: str) -> None:
    expected = by_pattern(text)
    supported = expected if expected in {version.name for version in SUPPORTED_VERSIONS} else None
    assert by_scanner(text) == supported


@pytest.mark.parametrize(
    ("text", "name"),
    [("2.2", "2.2"), (" v1.20.1 ", "1.20"), ("2.0-rc1", "2.0"), ("1.17.2.3", "1.17"), ("002.01", "2.1")],
)
def test_names_with_patch_or_suffix(text: str, name: str) -> None:
    assert parse_flink_version(text).name == name


@pytest.mark.parametrize("text", ["2.2-", "2.2.", "v", "2", "2..2", "\uff12.2", "V2.2", "2.2 .1", "2.22"])
def test_names_that_are_not_releases(text: str) -> None:
    with pytest.raises(UnsupportedVersionError, match="Unsupported Flink version"):
        parse_flink_version(text)
