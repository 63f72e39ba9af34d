"""What a user most likely meant by a value Flink cannot read, and the text Flink reads for it.

Each guess is checked twice: it is the value the text stands for, and Flink's own parser (the
engine's ``parse_memory_size``, held to Flink by the conformance vectors) reads the guess as that value.
"""

from __future__ import annotations

import pytest

from flink_tm_memory.memory.meant import format_size, meant_decimal, meant_integer, meant_size
from flink_tm_memory.memory.sizes import GIB, KIB, MIB, parse_memory_size


@pytest.mark.parametrize(
    ("text", "meant_bytes"),
    [
        ("4Gi", 4 * GIB),
        ("4 GiB", 4 * GIB),
        ("4096Mi", 4 * GIB),
        ("2.5g", 2560 * MIB),
        ("4,096m", 4 * GIB),
        ("4_096m", 4 * GIB),
        ("512Ki", 512 * KIB),
        ("１７２８m", 1728 * MIB),
        ("4ɡ", 4 * GIB),
        ("1e9", 10**9),
        ("  2 gigabytes ", 2 * GIB),
    ],
)
def test_an_unreadable_size_reads_as_what_it_most_likely_means(text: str, meant_bytes: int) -> None:
    assert meant_size(text) == meant_bytes
    assert parse_memory_size(format_size(meant_bytes)) == meant_bytes


@pytest.mark.parametrize("text", ["abc", "-1g", "NaN", "", "4 apples", "0.5b", "99999999999999999999t"])
def test_a_size_with_no_honest_guess_has_none(text: str) -> None:
    assert meant_size(text) is None


@pytest.mark.parametrize(
    ("size_bytes", "written"),
    [
        (4 * GIB, "4g"),
        (6166 * MIB, "6166m"),
        (512 * KIB, "512k"),
        (1000, "1000b"),
        (0, "0b"),
        (1024 * GIB, "1t"),
    ],
)
def test_sizes_are_written_as_flink_writes_them(size_bytes: int, written: str) -> None:
    assert format_size(size_bytes) == written
    assert parse_memory_size(written) == size_bytes


@pytest.mark.parametrize(
    ("text", "meant"),
    [
        ("1e2", "100"),
        (" 4", "4"),
        ("4 ", "4"),
        ("1_000", "1000"),
        ("0x10", "16"),
        ("0o10", "8"),
        ("4.0", "4"),
    ],
)
def test_an_unreadable_integer_reads_as_what_it_most_likely_means(text: str, meant: str) -> None:
    assert meant_integer(text) == meant


@pytest.mark.parametrize("text", ["abc", "1.5", "half", "", "99999999999"])
def test_an_integer_with_no_honest_guess_has_none(text: str) -> None:
    assert meant_integer(text) is None


@pytest.mark.parametrize(
    ("text", "meant"), [("0,2", "0.2"), ("1,5", "1.5"), ("10%", "0.1"), ("3 cores", "3.0"), ("0.4", "0.4")]
)
def test_an_unreadable_decimal_reads_as_what_it_most_likely_means(text: str, meant: str) -> None:
    assert meant_decimal(text) == meant


@pytest.mark.parametrize("text", ["abc", "NaN", ".nan", ".inf", "Infinity", "0.4 0.1", ""])
def test_a_decimal_with_no_honest_guess_has_none(text: str) -> None:
    assert meant_decimal(text) is None
