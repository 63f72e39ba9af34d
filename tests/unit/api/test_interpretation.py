"""Each size string is echoed with the bytes it became, and flagged when the other convention differs."""

from __future__ import annotations

import pytest

from flink_tm_memory.api.interpretation import (
    Convention,
    interpret_flink_memory,
    interpret_kubernetes_memory,
)
from flink_tm_memory.memory.configuration import ConfigValue

FIELD = "spec.resources.memory"
FLINK_FIELD = "spec.flinkConfiguration[taskmanager.memory.process.size]"
GIB = 1024**3


@pytest.mark.parametrize(
    ("value", "size_bytes"),
    [("4Gi", 4 * GIB), ("1728Mi", 1728 * 1024**2), ("1e3", 1000), ("4096", 4096), (4 * GIB, 4 * GIB)],
)
def test_an_unambiguous_kubernetes_quantity_is_read_plainly(value: str | int, size_bytes: int) -> None:
    reading = interpret_kubernetes_memory(FIELD, value)
    assert (reading.size_bytes, reading.ambiguous, reading.convention) == (
        size_bytes,
        False,
        Convention.KUBERNETES,
    )
    assert reading.field == FIELD
    assert reading.text == str(value)
    assert f"{size_bytes} bytes" in reading.message


def test_a_decimal_gigabyte_in_a_kubernetes_field_is_ten_to_the_ninth_and_flagged() -> None:
    reading = interpret_kubernetes_memory(FIELD, "2G")
    assert (reading.size_bytes, reading.ambiguous) == (2_000_000_000, True)
    assert reading.message == (
        "2G is read as a Kubernetes quantity: 1.863gb (2000000000 bytes). Flink would read 2G as "
        "2.000gb (2147483648 bytes). Write 2Gi for 2 GiB (2147483648 bytes)."
    )


def test_2048m_in_a_kubernetes_field_is_milli_bytes_rounded_up_and_flagged() -> None:
    reading = interpret_kubernetes_memory(FIELD, "2048m")
    assert (reading.size_bytes, reading.ambiguous) == (3, True)
    assert reading.message == (
        "2048m is read as a Kubernetes quantity: 2.048 bytes, which Kubernetes rounds up to 3 bytes. "
        "Flink would read 2048m as 2.000gb (2147483648 bytes). Write 2048Mi for 2048 MiB (2147483648 bytes)."
    )


@pytest.mark.parametrize(("value", "size_bytes"), [("2k", 2000), ("512M", 512 * 10**6), ("1T", 10**12)])
def test_every_decimal_suffix_in_a_kubernetes_field_is_flagged(value: str, size_bytes: int) -> None:
    reading = interpret_kubernetes_memory(FIELD, value)
    assert (reading.size_bytes, reading.ambiguous) == (size_bytes, True)
    assert "Write " in reading.message


def test_a_decimal_suffix_flink_does_not_know_still_gets_the_binary_advice() -> None:
    reading = interpret_kubernetes_memory(FIELD, "2P")
    assert reading.ambiguous
    assert "usually mean a power of 1024" in reading.message
    assert "Write 2Pi for 2 PiB (2251799813685248 bytes)." in reading.message


def test_a_micro_byte_size_is_flagged_without_a_binary_suggestion() -> None:
    reading = interpret_kubernetes_memory(FIELD, "500u")
    assert (reading.size_bytes, reading.ambiguous) == (1, True)
    assert "0.0005 bytes" in reading.message
    assert "Write" not in reading.message


def test_a_fraction_of_a_byte_without_suffix_is_rounded_up_but_not_flagged() -> None:
    reading = interpret_kubernetes_memory(FIELD, "1.5")
    assert (reading.size_bytes, reading.ambiguous) == (2, False)
    assert "1.5 bytes, which Kubernetes rounds up to 2 bytes" in reading.message


@pytest.mark.parametrize(
    ("value", "reason"),
    [("2g", "Kubernetes spells binary units Gi"), ("-1Gi", "positive"), ("0", "positive")],
)
def test_an_unreadable_kubernetes_quantity_has_no_bytes_and_says_why(value: str, reason: str) -> None:
    reading = interpret_kubernetes_memory(FIELD, value)
    assert (reading.size_bytes, reading.ambiguous) == (None, False)
    assert reason in reading.message


@pytest.mark.parametrize(
    ("value", "size_bytes"),
    [
        ("2g", 2 * GIB),
        ("2048m", 2 * GIB),
        ("1728m", 1728 * 1024**2),
        ("512k", 512 * 1024),
        ("4 gb", 4 * GIB),
        ("2 G", 2 * GIB),
        (4096, 4096),
        ("1073741824", GIB),
    ],
)
def test_flinks_own_spelling_in_a_flink_field_is_not_flagged(value: ConfigValue, size_bytes: int) -> None:
    reading = interpret_flink_memory(FLINK_FIELD, value)
    assert (reading.size_bytes, reading.ambiguous, reading.convention) == (
        size_bytes,
        False,
        Convention.FLINK,
    )


def test_an_upper_case_g_in_a_flink_field_is_binary_for_flink_but_flagged() -> None:
    reading = interpret_flink_memory(FLINK_FIELD, "2G")
    assert (reading.size_bytes, reading.ambiguous) == (2 * GIB, True)
    assert reading.message == (
        "2G is read as a Flink memory size: 2.000gb (2147483648 bytes). In a Kubernetes field 2G would "
        "mean 2000000000 bytes; write 2g, as Flink spells it, to avoid the doubt."
    )


def test_an_upper_case_m_in_a_flink_field_is_flagged_with_the_lower_case_spelling() -> None:
    reading = interpret_flink_memory(FLINK_FIELD, "4096M")
    assert (reading.size_bytes, reading.ambiguous) == (4 * GIB, True)
    assert "write 4096m" in reading.message


def test_a_kubernetes_quantity_in_a_flink_field_is_unreadable_with_flinks_spelling() -> None:
    reading = interpret_flink_memory(FLINK_FIELD, "4Gi")
    assert reading.size_bytes is None
    assert reading.message.startswith("Flink cannot read '4Gi': Memory size unit 'gi' does not match")
    assert reading.message.endswith("4Gi is a Kubernetes quantity (4294967296 bytes); Flink spells it 4g.")


@pytest.mark.parametrize(("value", "text"), [(True, "true"), (1.5, "1.5"), ("", "")])
def test_a_value_flink_cannot_read_as_a_size_is_reported_as_flink_would(
    value: ConfigValue, text: str
) -> None:
    reading = interpret_flink_memory(FLINK_FIELD, value)
    assert (reading.size_bytes, reading.text) == (None, text)
    assert reading.message.startswith(f"Flink cannot read {text!r}: ")
