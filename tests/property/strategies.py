"""Hypothesis strategies for Flink TaskManager configurations, as users write them."""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import cache

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from flink_tm_memory.memory import SUPPORTED_VERSIONS
from flink_tm_memory.memory.options import known_keys

KIB = 1024
MIB = 1024**2
GIB = 1024**3
TIB = 1024**4
LONG_MAX = 2**63 - 1

VERSIONS: tuple[str, ...] = tuple(version.name for version in SUPPORTED_VERSIONS)

PROCESS = "taskmanager.memory.process.size"
FLINK = "taskmanager.memory.flink.size"
FRAMEWORK_HEAP = "taskmanager.memory.framework.heap.size"
FRAMEWORK_OFF_HEAP = "taskmanager.memory.framework.off-heap.size"
TASK_HEAP = "taskmanager.memory.task.heap.size"
TASK_OFF_HEAP = "taskmanager.memory.task.off-heap.size"
MANAGED = "taskmanager.memory.managed.size"
MANAGED_FRACTION = "taskmanager.memory.managed.fraction"
NETWORK_MIN = "taskmanager.memory.network.min"
NETWORK_MAX = "taskmanager.memory.network.max"
NETWORK_FRACTION = "taskmanager.memory.network.fraction"
METASPACE = "taskmanager.memory.jvm-metaspace.size"
OVERHEAD_MIN = "taskmanager.memory.jvm-overhead.min"
OVERHEAD_MAX = "taskmanager.memory.jvm-overhead.max"
OVERHEAD_FRACTION = "taskmanager.memory.jvm-overhead.fraction"
CPU_CORES = "taskmanager.cpu.cores"
SLOTS = "taskmanager.numberOfTaskSlots"

UNIT_WORDS: dict[int, tuple[str, ...]] = {
    1: ("", "b", "bytes"),
    KIB: ("k", "kb", "kibibytes"),
    MIB: ("m", "mb", "mebibytes"),
    GIB: ("g", "gb", "gibibytes"),
    TIB: ("t", "tb", "tebibytes"),
}

Config = dict[str, str]

SCALE = int(os.environ.get("PROPERTY_SCALE", "1"))


def examples(count: int, *, slow_inputs: bool = False) -> settings:
    """Settings for ``count`` examples (times ``$PROPERTY_SCALE`` for a deeper run, e.g. 50 nightly).

    Whole configurations take many draws to build, which a busy two-core runner can make look "too
    slow" to Hypothesis' health check; the suite's budget is kept by the example counts instead.
    ``slow_inputs``: the inputs include huge digit strings, so there is no per-example deadline.
    """
    if slow_inputs:
        return settings(
            max_examples=count * SCALE, deadline=None, suppress_health_check=[HealthCheck.too_slow]
        )
    return settings(max_examples=count * SCALE, suppress_health_check=[HealthCheck.too_slow])


CASES: tuple[Callable[[str], str], ...] = (str.lower, str.upper, str.title, str.swapcase)


@cache
def unit_spellings(multiplier: int) -> st.SearchStrategy[str]:
    """A unit word for ``multiplier`` in any letter case, possibly after a space."""
    return st.tuples(
        st.sampled_from(UNIT_WORDS[multiplier]), st.sampled_from(CASES), st.sampled_from(["", " "])
    ).map(lambda parts: parts[2] + parts[1](parts[0]) if parts[0] else "")


@cache
def size_texts(min_bytes: int, max_bytes: int) -> st.SearchStrategy[str]:
    """Text of a memory size in [min_bytes, max_bytes], in a unit that divides it exactly."""
    choices = []
    for multiplier in UNIT_WORDS:
        low, high = -(-min_bytes // multiplier), max_bytes // multiplier
        if low <= high:
            counts = st.integers(low, high)
            choices.append(
                st.tuples(counts, unit_spellings(multiplier)).map(lambda pair: f"{pair[0]}{pair[1]}")
            )
    return st.one_of(choices)


def _fraction_spellings(value: int, digits: int, spelling: int) -> str:
    text = f"{value / 10**digits:.{digits}f}"
    return (text, text.rstrip("0").rstrip(".") or "0", f" {text} ")[spelling]


@cache
def fraction_texts(low: float, high: float) -> st.SearchStrategy[str]:
    """A decimal fraction in [low, high) with at most four digits, as users write them."""
    choices = [
        st.builds(
            _fraction_spellings,
            st.integers(round(low * 10**digits), round(high * 10**digits) - 1),
            st.just(digits),
            st.integers(0, 2),
        )
        for digits in range(1, 5)
    ]
    return st.one_of(choices)


@cache
def optional(strategy: st.SearchStrategy[str]) -> st.SearchStrategy[str | None]:
    return st.one_of(st.none(), st.none(), strategy)


CPU_TEXTS = st.integers(1, 12800).map(lambda hundredths: str(hundredths / 100))
SLOT_TEXTS = st.integers(1, 64).map(str)


@st.composite
def tuning(draw: st.DrawFn) -> Config:
    """Optional options besides the totals; each present about a third of the time."""
    network_min = draw(optional(size_texts(0, 256 * MIB)))
    overhead_min = draw(optional(size_texts(0, 512 * MIB)))
    choices: dict[str, str | None] = {
        FRAMEWORK_HEAP: draw(optional(size_texts(0, 512 * MIB))),
        FRAMEWORK_OFF_HEAP: draw(optional(size_texts(0, 512 * MIB))),
        TASK_OFF_HEAP: draw(optional(size_texts(0, GIB))),
        MANAGED_FRACTION: draw(optional(fraction_texts(0.0, 0.7))),
        NETWORK_MIN: network_min,
        NETWORK_MAX: draw(optional(size_texts(256 * MIB if network_min else 64 * MIB, 8 * GIB))),
        NETWORK_FRACTION: draw(optional(fraction_texts(0.0, 0.3))),
        METASPACE: draw(optional(size_texts(16 * MIB, 512 * MIB))),
        OVERHEAD_MIN: overhead_min,
        OVERHEAD_MAX: draw(optional(size_texts(512 * MIB if overhead_min else 192 * MIB, 4 * GIB))),
        OVERHEAD_FRACTION: draw(optional(fraction_texts(0.0, 0.3))),
        CPU_CORES: draw(optional(CPU_TEXTS)),
        SLOTS: draw(optional(SLOT_TEXTS)),
    }
    return {key: value for key, value in choices.items() if value is not None}


TOTAL_MODES = (
    "process",
    "flink",
    "fine-grained",
    "fine-grained+flink",
    "fine-grained+process",
    "process+heap",
)


@st.composite
def totals(draw: st.DrawFn, mode: str) -> Config:
    """The options that select Flink's derivation mode, sized so that most configurations work."""
    config: Config = {}
    if mode.startswith("fine-grained"):
        config[TASK_HEAP] = draw(size_texts(0, 16 * GIB))
        config[MANAGED] = draw(size_texts(0, 16 * GIB))
    if mode in ("process", "process+heap"):
        config[PROCESS] = draw(size_texts(GIB, 256 * GIB))
    if mode == "flink":
        config[FLINK] = draw(size_texts(768 * MIB, 256 * GIB))
    if mode == "process+heap":
        config[TASK_HEAP] = draw(size_texts(0, 512 * MIB))
    if mode == "fine-grained+flink":
        config[FLINK] = draw(size_texts(33 * GIB, 64 * GIB))
    if mode == "fine-grained+process":
        config[PROCESS] = draw(size_texts(33 * GIB, 40 * GIB))
    return config


@st.composite
def configurations(draw: st.DrawFn, modes: tuple[str, ...] = TOTAL_MODES) -> Config:
    """A whole TaskManager configuration: one of Flink's modes plus optional tuning."""
    mode = draw(st.sampled_from(modes))
    return {**draw(tuning()), **draw(totals(mode))}


versions: st.SearchStrategy[str] = st.sampled_from(VERSIONS)

# ---------------------------------------------------------------------------------- hostile text

ALL_KEYS: tuple[str, ...] = tuple(
    sorted(
        {key for version in SUPPORTED_VERSIONS for key in known_keys(version)}
        | {
            "taskmanager.memory.framework.off-heap.batch-shuffle.size",
            "taskmanager.memory.unknown.size",
            "taskmanager.memory.proces.size",
            "external-resources",
            "external-resource.gpu.amount",
        }
    )
)


def digit_runs(length: st.SearchStrategy[int]) -> st.SearchStrategy[str]:
    return st.tuples(length, st.sampled_from(["1", "9", "0"])).map(lambda pair: pair[1] * pair[0])


paddings: st.SearchStrategy[str] = st.sampled_from(["", "", " ", "\t", "\u00a0", "\u0000", "\n", "\u2003"])


@st.composite
def hostile_texts(draw: st.DrawFn) -> str:
    """Anything a user could type: Unicode, huge numbers, signs, units, whitespace, control characters."""
    core: str = draw(
        st.one_of(
            st.text(max_size=12),
            st.text(alphabet="0123456789.eE+-xXpPfFdD_, ", max_size=16),
            digit_runs(st.integers(1, 30)),
            digit_runs(st.sampled_from([4299, 4300, 4301, 5000, 20000])),
            st.integers(-(2**70), 2**70).map(str),
            st.floats(allow_nan=True, allow_infinity=True).map(repr),
            st.tuples(
                st.integers(0, 2**64), st.sampled_from([w for ws in UNIT_WORDS.values() for w in ws])
            ).map(lambda pair: f"{pair[0]}{pair[1]}"),
            st.sampled_from(
                [
                    "NaN",
                    "Infinity",
                    "-Infinity",
                    "0x1p-3",
                    "1e40",
                    "-1",
                    "1.5g",
                    "none",
                    "\u0664",
                    "8388607t",
                    "8388608t",
                    "9223372036854775807",
                    "4611686018427387904b",
                    "0" * 4301,
                ]
            ),
        )
    )
    return draw(paddings) + core + draw(paddings)


yaml_scalars: st.SearchStrategy[str | int | float | bool] = st.one_of(
    hostile_texts(),
    hostile_texts(),
    hostile_texts(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
)
"""Values as a YAML ``config.yaml`` may type them, as well as strings."""

HostileConfig = dict[str, str | int | float | bool]


@st.composite
def hostile_configurations(draw: st.DrawFn) -> HostileConfig:
    """Hostile values for any keys, alone or overriding a configuration that would otherwise work."""
    base: HostileConfig = dict(draw(st.one_of(st.just({}), configurations())))
    overrides = draw(st.dictionaries(st.sampled_from(ALL_KEYS), yaml_scalars, min_size=1, max_size=6))
    return {**base, **overrides}
