"""Law: network memory and JVM overhead stay within their min and max; fractions are honoured.

A component derived from a fraction is that fraction of its base (truncated to whole bytes) unless
the result falls outside [min, max], where it is capped. The exact product is compared with the
float fraction as Java's ``Float.parseFloat`` reads it: Flink multiplies by the decimal digits of
``Double.toString`` of it, which differ from its binary value by at most half an ulp, so the byte
count may differ from ``base x fraction`` by less than one byte plus ``base x 2^-53``.
"""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given

from flink_tm_memory.memory.sizes import parse_memory_size
from tests.property.layouts import binary32, derived_layout
from tests.property.strategies import (
    FLINK,
    GIB,
    LONG_MAX,
    MANAGED,
    MANAGED_FRACTION,
    MIB,
    NETWORK_FRACTION,
    NETWORK_MAX,
    NETWORK_MIN,
    OVERHEAD_FRACTION,
    OVERHEAD_MAX,
    OVERHEAD_MIN,
    PROCESS,
    TASK_HEAP,
    Config,
    configurations,
    examples,
    versions,
)


def size_option(config: Config, key: str, default: int) -> int:
    return parse_memory_size(config[key]) if key in config else default


def fraction_option(config: Config, key: str, default: str) -> Fraction:
    return Fraction(binary32(config.get(key, default)))


def assert_fraction_of(derived: int, base: int, fraction: Fraction, low: int, high: int) -> None:
    """``derived`` is ``base x fraction`` truncated, or the bound it was capped to."""
    exact = base * fraction
    tolerance = 1 + Fraction(base, 2**53)
    if low < derived < high:
        assert abs(derived - exact) < tolerance, (derived, float(exact))
    elif derived == low < high:
        assert exact < low + tolerance, (derived, float(exact))
    elif derived == high > low:
        assert exact > high - tolerance, (derived, float(exact))


def network_range(config: Config) -> tuple[int, int]:
    return size_option(config, NETWORK_MIN, 64 * MIB), size_option(config, NETWORK_MAX, LONG_MAX)


def overhead_range(config: Config) -> tuple[int, int]:
    return size_option(config, OVERHEAD_MIN, 192 * MIB), size_option(config, OVERHEAD_MAX, GIB)


@examples(75)
@given(configurations(), versions)
def test_network_memory_stays_within_its_min_and_max(config: Config, version: str) -> None:
    low, high = network_range(config)
    assert low <= derived_layout(config, version).network_bytes <= high


@examples(75)
@given(configurations(), versions)
def test_jvm_overhead_stays_within_its_min_and_max(config: Config, version: str) -> None:
    low, high = overhead_range(config)
    assert low <= derived_layout(config, version).jvm_overhead_bytes <= high


@examples(75)
@given(configurations(modes=("process", "flink")), versions)
def test_network_memory_is_its_fraction_of_total_flink_memory_unless_capped(
    config: Config, version: str
) -> None:
    layout = derived_layout(config, version)
    fraction = fraction_option(config, NETWORK_FRACTION, "0.1")
    assert_fraction_of(layout.network_bytes, layout.total_flink_bytes, fraction, *network_range(config))


@examples(75)
@given(configurations(modes=("process", "flink", "process+heap")), versions)
def test_managed_memory_is_its_fraction_of_total_flink_memory(config: Config, version: str) -> None:
    layout = derived_layout(config, version)
    assert MANAGED not in config
    fraction = fraction_option(config, MANAGED_FRACTION, "0.4")
    assert_fraction_of(layout.managed_bytes, layout.total_flink_bytes, fraction, 0, LONG_MAX)


@examples(75)
@given(configurations(modes=("process", "process+heap")), versions)
def test_jvm_overhead_is_its_fraction_of_total_process_memory_unless_capped(
    config: Config, version: str
) -> None:
    layout = derived_layout(config, version)
    fraction = fraction_option(config, OVERHEAD_FRACTION, "0.1")
    assert_fraction_of(
        layout.jvm_overhead_bytes, layout.total_process_bytes, fraction, *overhead_range(config)
    )


@examples(75)
@given(configurations(modes=("flink", "fine-grained", "fine-grained+flink")), versions)
def test_jvm_overhead_without_a_process_size_is_its_fraction_of_the_whole_process(
    config: Config, version: str
) -> None:
    # O = (flink + metaspace) x f / (1 - f): the overhead is fraction f of the process it completes.
    assert PROCESS not in config
    layout = derived_layout(config, version)
    fraction = binary32(config.get(OVERHEAD_FRACTION, "0.1"))
    inverse = Fraction(fraction / (1 - fraction))  # Java computes f / (1 - f) in double
    base = layout.total_flink_bytes + layout.jvm_metaspace_bytes
    assert_fraction_of(layout.jvm_overhead_bytes, base, inverse, *overhead_range(config))


@examples(75)
@given(configurations(modes=("fine-grained",)), versions)
def test_network_memory_next_to_explicit_heap_and_managed_is_its_fraction_of_total_flink(
    config: Config, version: str
) -> None:
    # Without a total, N = (everything else) x f / (1 - f): fraction f of the total it completes.
    assert FLINK not in config
    assert TASK_HEAP in config
    layout = derived_layout(config, version)
    fraction = binary32(config.get(NETWORK_FRACTION, "0.1"))
    inverse = Fraction(fraction / (1 - fraction))
    base = layout.total_flink_bytes - layout.network_bytes
    assert_fraction_of(layout.network_bytes, base, inverse, *network_range(config))
