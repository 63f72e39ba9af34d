"""Regenerates ``tests/golden/java_semantics.jsonl``: what Java and Flink make of a broad set of inputs.

Run from the repository root::

    .venv/bin/python tests/golden/generate.py            # rewrite the golden file
    .venv/bin/python tests/golden/generate.py --check    # exit 1 if the committed file is stale

Needs ``javac``/``java`` (JDK 17: the JDK the Flink vectors were made with; ``$JAVA_HOME`` or ``PATH``) and
the flink-oracle of ``../shared/oracle`` (``$FLINK_ORACLE`` overrides). The oracle's cached
``flink-dist.jar`` of Flink 2.2.1 provides Flink's own ``MemorySize`` and ``CPUResource`` classes; it is
fetched with ``flink-oracle --flink 2.2.1 --setup`` when missing.

Two sources feed the file, and each record says which op produced it:

* ``JavaSemantics.java`` (next to this script) for the JDK calls Flink makes: ``Float.parseFloat``,
  ``Double.parseDouble``, ``Integer.parseInt``, ``Double.toString``, ``Float.toString``, ``HashMap`` and
  ``HashSet`` iteration order, and Flink's ``MemorySize`` (parse, toString, toHumanReadableString, which the Java
  program checks against ``String.format(Locale.ROOT, "%.3f...")``, and multiply, checked against
  ``BigDecimal.valueOf(bytes).multiply(BigDecimal.valueOf(m)).longValue()``) and ``CPUResource``;
* the flink-oracle itself (op ``taskManager``) for a few whole configurations whose layout text depends
  on these JDK rules (CPU rendering, external resources, Unicode digits).

The inputs are listed below (hand-picked edge cases, plus seeded random values, so a rerun gives the
same file). Each line of the output is ``{"op", "group", "input", "expect"}``; the first line is
provenance (``op`` = ``meta``). Tests read the file; they never need Java.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
GOLDEN = HERE / "java_semantics.jsonl"
JAVA_SOURCE = HERE / "JavaSemantics.java"
FLINK_VERSION = "2.2.1"
SEED = 20240817
LONG_MAX = 2**63 - 1

Record = dict[str, Any]

# ----------------------------------------------------------------------------------------- helpers


def double_bits(value: float) -> str:
    return struct.pack(">d", value).hex()


def float_bits(value: float) -> str:
    return struct.pack(">f", value).hex()


def widen(value: float) -> float:
    """The binary32 nearest to ``value`` (ties to even), as a double."""
    return float(struct.unpack(">f", struct.pack(">f", value))[0])


def from_double_bits(bits: int) -> float:
    return float(struct.unpack(">d", bits.to_bytes(8, "big"))[0])


def from_float_bits(bits: int) -> float:
    return float(struct.unpack(">f", bits.to_bytes(4, "big"))[0])


def exact_decimal(value: Fraction) -> str:
    """The exact decimal expansion of a dyadic rational (always finite)."""
    sign = "-" if value < 0 else ""
    value = abs(value)
    whole = value.numerator // value.denominator
    rest = value - whole
    digits = []
    while rest:
        rest *= 10
        digit = rest.numerator // rest.denominator
        digits.append(str(digit))
        rest -= digit
    return f"{sign}{whole}.{''.join(digits) or '0'}"


def next_double_up(value: float) -> float:
    return math.nextafter(value, math.inf)


def next_double_down(value: float) -> float:
    return math.nextafter(value, -math.inf)


# ----------------------------------------------------------------------------------- number parsing

PLAIN_DECIMALS = [
    "0.1", "0.4", "0.7", "0.25", "1.0", "0", "-0", "-0.0", "+0.0", "1", "123456789", "16777217",
    "16777216.5", "0.99999994", "0.99999997", "0.9999999702", "0.99999999", "0.999999999999999999",
    "3.4028235e38", "1.7976931348623157e308", "2e23", "8.41e21", "1e23", "00000.000", "0.0000001",
    "1e-7", "1E5", "1e05", "1e+05", "1e-0", "5.e1", "-.5", "+.5", ".5", "5.", "-5.", "0.1e1", "100e-2",
    "0.000001", "0.0001", "1e-3", "9999999", "10000000", "1.0E7", "1.0E-4", "0.10000000149011612",
    "0.4000000059604645", "0.699999988079071", "0.3333333333333333", "2.2250738585072014E-308",
]  # fmt: skip
HEXADECIMAL = [
    "0x1p-3", "0X1P-3", "0x1P3", "0x1.8p1", "0x.8p1", "0x1.p1", "0xA.Bp0", "0xa.bP+0", "0x1p", "0x1",
    "-0x1p-3", "+0x1p-3", "0x1p-3f", "0x1p-3d", "0x1p-3F", "0x1p-3D", "0x1.fffffep127", "0x1.ffffffp127",
    "0x1.fffffefp127", "0x1p128", "0x1p-149", "0x1p-150", "0x1.000001p-150", "0x1.8p-150", "0x1p-1074",
    "0x1p-1075", "0x1.0000000000001p-1075", "0x1.fffffffffffffp1023", "0x1.fffffffffffff8p1023", "0xp1",
    "0x.p1", "0x0p0", "-0x0p0", "0x1p+", "0x1p-", "0x1pp1", "0x1p1.5", " 0x1p1 ", "0x1p99999999999",
    "0x1p-99999999999", "0x0.0000000000000000000000001p100", "0x123456789abcdef123p0", "0x1g", "0x-1p1",
    "0x1p1 f",
]  # fmt: skip
SPECIAL_VALUES = [
    "NaN", "-NaN", "+NaN", "nan", "NAN", "Infinity", "-Infinity", "+Infinity", "infinity", "Inf", "INFINITY",
    "NaNf", "Infinityf", "NaN ", " NaN", "\tInfinity\n", "Infinityd", "NaN0", "Infinity1", "-", "+",
]  # fmt: skip
WHITESPACE = [
    " 0.1 ", "\t0.1\n", "\u00a00.1", "0.1\u2003", "\u00000.1", "0.1\u001f", "0.1 \u0000", "\u000b1", "\u00851",
    "\u30001", "1\u00a0", "\r\n1\r\n", "0. 1", "1 e5", "1e 5", "- 1",
]  # fmt: skip
SUFFIXES = [
    "0.1f", "0.1F", "0.1d", "0.1D", "0.1ff", "0.1fd", "1f", "f", "0.1L", "0.1l", "0.1 f", "0.1f ", "1e5f",
    "1e5d", ".5f", "5.f", "1e-50f", "1e40f", "1e40d", "1d", "d", "0.1f0",
]  # fmt: skip
MALFORMED = [
    "", " ", ".", "e1", "1e", "1e+", "1e-", ".e1", "1_000", "1,5", "1 000", "0.1.2", "--1", "+-1", "-+1", "abc",
    "0x", "1e1.5", "1e+-5", "1ee5", "1e5e5", "\u0661", "\uff11", "\U0001d7cf", "0.\uff11", "1\ud800",
    "\ud8001", "0x1p1\u0000", "1..", "..1", "1.2.", "\u2212" + "1", "1e\u2212" + "1", "\u00bd", "\u00b2",
]  # fmt: skip
OVERFLOW_AND_UNDERFLOW = [
    "1e40", "1e38", "3.4028236e38", "3.40282357e38", "3.4028235677973366e38", "3.4028235677973367e38",
    "3.4028235677973365e38", "1e-45", "1.4e-45", "1.401298464324817e-45", "7e-46", "7.006492321624085e-46",
    "7.006492321624086e-46", "7.1e-46", "1e-46", "1e-50", "1e309", "1.7976931348623159e308",
    "1.7976931348623158e308", "4.9e-324", "2.4703282292062328e-324", "2.4703282292062327e-324",
    "2.2250738585072011e-308", "2.2250738585072012e-308", "1e2147483648", "1e-2147483649",
    "1e9999999999999999999", "0e9999999999", "0.0e-99999999999", "1e+2147483647", "-1e40", "1e-400", "-1e-400",
    "1.17549435e-38", "1.1754942e-38", "1.17549421e-38", "-3.4028236e38",
]  # fmt: skip


def long_digit_strings() -> list[str]:
    float_tie = "1.000000059604644775390625"  # exactly halfway between 1.0f and the next float
    double_tie = "9007199254740993"  # exactly halfway between 2^53 and the next double
    return [
        "1" + "0" * 400,
        "0." + "0" * 400 + "1",
        "9" * 1200,
        "0." + "9" * 1200,
        "1" + "0" * 2000 + "e-2000",
        "0." + "0" * 5000 + "1e5000",
        "1" * 5000,
        float_tie,
        float_tie + "0" * 30 + "1",
        float_tie + "0" * 1200 + "1",
        float_tie + "0" * 1200,
        "1.00000005960464477539062" + "4" + "9" * 1200,
        double_tie,
        double_tie + ".0000000000000000001",
        double_tie + "." + "0" * 1200 + "1",
        "9007199254740992." + "9" * 1200,
        "0." + "1" * 1099 + "5",
        "0." + "1" * 1100 + "5",
        "0." + "1" * 1101 + "5",
    ]


def halfway_strings(rng: random.Random, *, binary32: bool, count: int) -> list[str]:
    """Decimal strings at, just above and just below the midpoint of two adjacent binary values."""
    out = []
    for _ in range(count):
        if binary32:
            bits = rng.randrange(1, 0x7F7FFFFF)
            low = from_float_bits(bits)
            high = from_float_bits(bits + 1)
        else:
            bits = rng.randrange(1, 0x7FEFFFFFFFFFFFFF)
            low = from_double_bits(bits)
            high = from_double_bits(bits + 1)
        middle = (Fraction(low) + Fraction(high)) / 2
        text = exact_decimal(middle)
        tiny = Fraction(1, 10 ** (len(text) + 5))
        out.append(text)
        out.append(exact_decimal(middle + tiny).rstrip("0"))
        out.append(exact_decimal(middle - tiny).rstrip("0"))
        out.append(f"{float(middle):.9e}")
    return out


def random_decimals(rng: random.Random, count: int) -> list[str]:
    out = []
    for _ in range(count):
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 22)))
        point = rng.randint(0, len(digits))
        mantissa = digits[:point] + "." + digits[point:] if rng.random() < 0.8 else digits
        sign = rng.choice(["", "", "", "-", "+"])
        exponent = ""
        if rng.random() < 0.5:
            exponent = rng.choice("eE") + rng.choice(["", "-", "+"]) + str(rng.randint(0, 330))
        out.append(sign + mantissa + exponent)
    return out


INT_VALID = [
    "0", "-0", "+0", "123", "-2147483648", "2147483647", "00012", "+5", "-5", "0000000000000000000000001",
    "2147483646", "-2147483647",
]  # fmt: skip
INT_OUT_OF_RANGE = [
    "2147483648",
    "-2147483649",
    "99999999999999999999",
    "1" * 5000,
    "-" + "9" * 4400,
    "4294967296",
]
INT_LONG_DIGIT_STRINGS = [
    "0" * 5000 + "7",
    "-" + "0" * 4400 + "12",
    "+" + "0" * 4301,
    "0" * 4300 + "2147483648",
]
INT_MALFORMED = [
    " 1", "1 ", "1.0", "1e2", "+", "-", "", "0x10", "+-1", "1_000", "--1", "1\u0000", "\t1", "1,000", "abc",
]  # fmt: skip
INT_UNICODE_DIGITS = [
    "\u0661\u0662", "\uff11\uff12", "\u0663", "\U0001d7cf", "\u00b2", "\u07c0", "\u09e7", "-\u0661", "+\uff11",
    "1\u0662", "\u0966\u0967", "\u2460", "\u2161", "\U000104a1", "\uff10" * 12 + "\uff17",
]  # fmt: skip

# ------------------------------------------------------------------------------------ number printing


def double_boundaries() -> list[float]:
    values = [
        0.0,
        -0.0,
        math.nan,
        math.inf,
        -math.inf,
        5e-324,
        1.7976931348623157e308,
        2.2250738585072014e-308,
    ]
    for anchor in (1e-3, 1e7, 1e-4, 1e16, 2.0**53, 2.0**63, 1.0):
        values += [anchor, next_double_up(anchor), next_double_down(anchor)]
    values += [0.1, 0.5, 1.0, 40.0, 1e7, 123456789.0, 1e22, 1e21, 9.999999999999999e22, -1.5, -1e-5]
    return values


def known_double_anomalies() -> list[float]:
    return [2e23, 1e23, 8.41e21, 2.82879384806159e17, 1.18575755e-316, 3.160701594026542e17, 5e-324, 4e-323]


def flink_fractions() -> list[float]:
    """Fractions as Flink uses them: decimal -> binary32 -> double, and f / (1 - f)."""
    values = []
    for thousandths in range(0, 1000, 7):
        fraction = widen(thousandths / 1000)
        values += [fraction, fraction / (1 - fraction)]
    for text in ("0.1", "0.4", "0.7", "0.25", "0.99999994", "0.123456789", "0.3", "0.05"):
        fraction = widen(float(text))
        values += [fraction, fraction / (1 - fraction)]
    return values


def random_doubles(rng: random.Random) -> dict[str, list[float]]:
    groups: dict[str, list[float]] = {
        "random bit patterns": [],
        "random unit interval": [],
        "random plain range": [],
        "integer-valued beyond 2^53": [],
        "widened large floats": [],
    }
    while len(groups["random bit patterns"]) < 300:
        value = from_double_bits(rng.getrandbits(64))
        if not math.isnan(value):
            groups["random bit patterns"].append(value)
    groups["random unit interval"] = [rng.random() for _ in range(300)]
    groups["random plain range"] = [1e-3 + rng.random() * 1e7 for _ in range(300)]
    groups["integer-valued beyond 2^53"] = [float(rng.randrange(2**53, 2**63)) for _ in range(300)]
    groups["widened large floats"] = [
        from_float_bits(rng.randrange(0x5A000000, 0x7F800000)) for _ in range(200)
    ]
    return groups


def float_values(rng: random.Random) -> dict[str, list[float]]:
    boundaries = [0.0, -0.0, math.nan, math.inf, -math.inf, from_float_bits(1), from_float_bits(0x7F7FFFFF)]
    boundaries += [from_float_bits(0x00800000), widen(1e-3), widen(1e7), widen(1e-4), 1.0, 2.0**24, 2.0**63]
    boundaries += [
        from_float_bits(struct.unpack(">I", struct.pack(">f", x))[0] + d)
        for x in (1e-3, 1e7)
        for d in (-1, 1)
    ]
    defaults = [widen(x) for x in (0.1, 0.4, 0.7, 0.25, 0.05, 0.3, 0.99999994)]
    anomalies = [widen(x) for x in (1e17, 1e18, 1.23456791e17, 1e10, 2e23, 5e18, 3e20)]
    random_bits: list[float] = []
    while len(random_bits) < 400:
        value = from_float_bits(rng.getrandbits(32))
        if not math.isnan(value):
            random_bits.append(value)
    unit = [widen(rng.random()) for _ in range(200)]
    large = [from_float_bits(rng.randrange(0x4B800000, 0x7F800000)) for _ in range(200)]
    return {
        "boundaries": boundaries,
        "flink defaults": defaults,
        "known JDK 17 anomalies": anomalies,
        "random bit patterns": random_bits,
        "random unit interval": unit,
        "integer-valued floats": large,
    }


# ------------------------------------------------------------------------------------- memory sizes

KIB, MIB, GIB, TIB = 1024, 1024**2, 1024**3, 1024**4


def human_readable_inputs(rng: random.Random) -> dict[str, list[int]]:
    boundaries = []
    for unit in (1, KIB, MIB, GIB, TIB, 1024 * TIB):
        boundaries += [unit - 1, unit, unit + 1, 2 * unit]
    halfway = []
    for unit in (KIB, MIB, GIB, TIB):
        for whole in (0, 1, 5, 976, 1023):
            for sixteenth in range(1, 16, 2):
                halfway.append(whole * unit + unit * sixteenth // 16)
    halfway += [1000000, 282944, 1000000 * 1024, 282944 * 1024]
    large = [
        LONG_MAX,
        LONG_MAX - 1,
        LONG_MAX - 1024,
        2**53,
        2**53 + 1,
        2**62 + 1,
        2**60 + 2**40 * 3 // 2,
        9 * 10**18,
    ]
    random_values = [int(2 ** rng.uniform(0, 63)) for _ in range(300)]
    return {
        "examples from Flink's MemorySizeTest": [
            0,
            1,
            1024,
            1025,
            1536,
            10**6,
            10**9,
            10**12,
            10**15,
            1811939328,
        ],
        "unit boundaries": [value for value in boundaries if 0 <= value <= LONG_MAX],
        "halfway thousandths": halfway,
        "large values": large,
        "random": random_values,
    }


def memory_to_string_inputs(rng: random.Random) -> dict[str, list[int]]:
    return {
        "examples": [
            0,
            1,
            1023,
            1024,
            1536,
            64 * MIB,
            GIB,
            TIB,
            3 * TIB,
            2**50,
            LONG_MAX,
            MIB + 1,
            1025 * GIB,
        ],
        "random": [int(2 ** rng.uniform(0, 63)) for _ in range(100)]
        + [rng.randrange(1, 10**4) * MIB for _ in range(50)],
    }


UNITS = [
    "b",
    "bytes",
    "k",
    "kb",
    "kibibytes",
    "m",
    "mb",
    "mebibytes",
    "g",
    "gb",
    "gibibytes",
    "t",
    "tb",
    "tebibytes",
]
MEMORY_UNIT_SPELLINGS = (
    [f"1{unit}" for unit in UNITS]
    + [f"7 {unit.upper()}" for unit in UNITS]
    + ["1728m", "1 gb", "  155  bytes  ", "1 G", "1Kb", "1kB", "1 KiBiBytes", "0", "00", "0b", "0t", "42"]
)  # fmt: skip
MEMORY_WHITESPACE = [
    "", " ", "\t", "\u0000", " 1m ", "\t1\tm\t", "1\nm", "1\u0000m", "\u00001m\u001f", "\u00a01m", "1m\u00a0",
    "1\u00a0m", "\u20021m", "1 m b", "1mb ", "1 \u000b m",
]  # fmt: skip
MEMORY_MALFORMED = [
    "1.5g", "1,024m", "1 728m", "16 16 bytes", "1mib", "-1m", "+1m", ".5g", "abc", "m", "1e3", "0x10", "1kibibyte",
    "1bytes2", "1 b y t e s", "\uff11m", "1\uff4d", "\u0661m", "1\u00b5", "1\u212a", "1\u212ab", "1\u0130",
    "1\u00df", "1\u03a3", "1\u0391\u03a3", "1 \u03a3\u0391", "1\ufb00", "1\u2c2f", "1\ua7c0", "1\U00010570",
    "1\ud800", "1 kb kb",
]  # fmt: skip
MEMORY_OVERFLOW = [
    "8388607t", "8388608t", "  8388608t  ", "9223372036854775807", "9223372036854775808", "9223372036854775807b",
    "9223372036854775808b", "99999999999999999999x", "0009223372036854775807", "00000000000000000000001k",
    "8796093022207m", "8796093022208m", "8589934591g", "8589934592g", "9007199254740992k", "9007199254740991k",
    "9223372036854775807k", "1" * 100, "0" * 100 + "1g", "1" * 5000 + "m",
]  # fmt: skip


def unicode_case_units() -> list[str]:
    """Every character that Python lower-cases to something else, 40 to a size, as unit text.

    The unit is lower-cased (``toLowerCase(Locale.US)``) into the error message, so these catch any
    character Java 17 (Unicode 13) and Python (its own Unicode version) lower-case differently.
    """
    chars = [
        chr(code)
        for code in range(0x110000)
        if not 0xD800 <= code <= 0xDFFF and chr(code).lower() != chr(code)
    ]
    return ["1" + " ".join(chars[start : start + 40]) for start in range(0, len(chars), 40)]


def multiply_inputs(rng: random.Random) -> dict[str, list[tuple[int, float]]]:
    bases = [0, 1, 1000, 1811939328, 1342177280, 2147483648, 17179869184, 68719476736, 10**12, 2**50 + 3]
    fractions = flink_fractions()
    flink = [(rng.choice(bases), rng.choice(fractions)) for _ in range(300)]
    flink += [(base, widen(x)) for base in bases for x in (0.1, 0.4, 0.7)]
    exact = [
        (base, x) for base in (1, 3, 7, 1023, 10**9 + 1) for x in (0.5, 0.25, 0.125, 0.75, 1.0, 0.0, 2.0)
    ]
    large_multipliers = [
        (1, value) for value in [*known_double_anomalies()[:4], 3.160701594026542e17, 2.0**62]
    ]
    large_multipliers += [(3, 2.82879384806159e17), (7, 1e18)]
    overflow = [(LONG_MAX, 1.0), (LONG_MAX, 0.9999999999999999), (LONG_MAX, 1.0000000000000002), (2**62, 2.0)]
    overflow += [(2**62, 1.9999999999999998), (LONG_MAX // 3, 3.0), (10**18, 9.223372036854775807)]
    invalid = [
        (1000, -1.0),
        (1000, -0.0),
        (1000, math.nan),
        (1000, math.inf),
        (0, math.inf),
        (1000, -math.inf),
    ]
    random_pairs = [
        (int(2 ** rng.uniform(0, 50)), rng.random() * rng.choice([1, 1, 1, 10, 1000])) for _ in range(300)
    ]
    return {
        "flink fractions": flink,
        "exact products": exact,
        "large integer multipliers": large_multipliers,
        "overflow": overflow,
        "invalid multipliers": invalid,
        "random": random_pairs,
    }


# ---------------------------------------------------------------------------------- HashMap order

FLINK_DYNAMIC_CONFIG_KEYS = [
    "taskmanager.cpu.cores",
    "taskmanager.memory.framework.heap.size",
    "taskmanager.memory.framework.off-heap.size",
    "taskmanager.memory.task.heap.size",
    "taskmanager.memory.task.off-heap.size",
    "taskmanager.memory.network.min",
    "taskmanager.memory.network.max",
    "taskmanager.memory.managed.size",
    "taskmanager.memory.jvm-metaspace.size",
    "taskmanager.memory.jvm-overhead.min",
    "taskmanager.memory.jvm-overhead.max",
    "taskmanager.numberOfTaskSlots",
    "external-resources",
]


def colliding_names(count: int) -> list[str]:
    """Distinct equal-length strings with one Java hashCode ("Aa" and "BB" hash alike)."""
    names = [""]
    while len(names) < count:
        names = [prefix + pair for prefix in names for pair in ("Aa", "BB")]
    return names[:count]


def shuffled(rng: random.Random, items: list[str]) -> list[str]:
    out = list(items)
    rng.shuffle(out)
    return out


def bucket_mates(rng: random.Random, count: int) -> list[str]:
    """Two-unit strings whose hashCodes (31·a + b) share their low bits but differ above them, several
    strings per hashCode: tree bins ordered by hash first, which later resizes split apart."""
    bits = rng.randint(5, 8)
    low = rng.randrange(1 << bits)
    # Below 2^16 the spread hash is the hashCode itself; b = code - 31·a stays in 62..247 (no U+001F).
    hashes = rng.sample(range(2048 + low, 31 * 0x7FF, 1 << bits), rng.randint(1, 12))
    names = [
        chr(a) + chr(code - 31 * a) for code in hashes for a in range(code // 31 - 2, code // 31 - 8, -1)
    ]
    return shuffled(rng, names)[:count]


def same_hash_units(rng: random.Random, count: int) -> list[str]:
    """Strings of one hashCode over non-BMP characters, lone surrogates and U+E000..U+FFFF, where comparing
    UTF-16 code units (as String.compareTo does) and comparing code points disagree."""
    pieces = [
        lambda: chr(rng.randrange(0x41, 0x5B)),
        lambda: chr(rng.randrange(0xE000, 0x10000)),
        lambda: chr(rng.randrange(0xD800, 0xE000)),
        lambda: chr(rng.randrange(0x10000, 0x110000)),
    ]
    units = list(
        "".join(rng.choice(pieces)() for _ in range(rng.randint(2, 5))).encode("utf-16-be", "surrogatepass")
    )
    base = [units[index] << 8 | units[index + 1] for index in range(0, len(units), 2)]
    variants = {tuple(base)}
    for _ in range(20 * count):
        if len(variants) >= count:
            break
        changed = list(rng.choice(sorted(variants)))
        index, step = rng.randrange(len(changed) - 1), rng.randint(-2, 2)
        changed[index] += step
        changed[index + 1] -= 31 * step  # 31·a + b is unchanged, so is the hashCode
        if all(0x20 <= unit <= 0xFFFF for unit in changed):  # U+001F separates items for JavaSemantics
            variants.add(tuple(changed))
    texts = [b"".join(unit.to_bytes(2, "big") for unit in variant) for variant in sorted(variants)]
    return shuffled(rng, [text.decode("utf-16-be", "surrogatepass") for text in texts])


def adversarial_key_lists(rng: random.Random) -> dict[str, list[list[str]]]:
    """Keys that fill one bin: resize instead of treeify below 64 bins, tree bins, split and untreeify."""
    counts = [*range(1, 41), 47, 48, 49, 63, 64, 65, 95, 96, 97, 127, 128, 129, 150, 191, 192, 193, 200]
    names = colliding_names(256)
    mixed = []
    for _ in range(20):
        normal = [
            "".join(rng.choice("abcdefgh.-") for _ in range(rng.randint(1, 8)))
            for _ in range(rng.randint(1, 60))
        ]
        mixed.append(shuffled(rng, rng.sample(names, rng.randint(1, 200)) + normal))
    return {
        "colliding keys in random order": [shuffled(rng, names[:count]) for count in counts],
        "colliding keys mixed with other keys": mixed,
        "keys sharing a bin with different hashes": [
            bucket_mates(rng, rng.randint(1, 200)) for _ in range(20)
        ],
        "colliding groups sharing a bin": [
            shuffled(rng, [*bucket_mates(rng, rng.randint(1, 60)), *rng.sample(names, rng.randint(1, 120))])
            for _ in range(10)
        ],
        "colliding non-BMP and surrogate keys": [
            same_hash_units(rng, rng.randint(1, 200)) for _ in range(15)
        ],
    }


def adversarial_item_lists(rng: random.Random) -> dict[str, list[list[str]]]:
    """``new HashSet<>(list)`` over colliding items, duplicates included (the table is sized for them)."""
    names = colliding_names(256)

    def with_duplicates(items: list[str]) -> list[str]:
        return shuffled(rng, items + [rng.choice(items) for _ in range(rng.randint(1, len(items)))])

    return {
        "colliding items with duplicates": [
            with_duplicates(rng.sample(names, rng.randint(1, 200))) for _ in range(15)
        ],
        "colliding non-BMP and surrogate items with duplicates": [
            with_duplicates(same_hash_units(rng, rng.randint(1, 120))) for _ in range(8)
        ],
    }


def hash_map_inputs(rng: random.Random) -> dict[str, list[list[str]]]:
    resource_sets = [
        ["gpu"],
        ["gpu", "fpga"],
        ["fpga", "gpu"],
        ["zeta", "alpha", "gpu"],
        ["a"],
        [""],
        ["GPU", "gpu"],
        ["nvidia.com/gpu"],
        ["g\u00e9pu", "\u0444\u043f\u0433\u0430"],
        [f"r{index}" for index in range(6)],
        [f"resource{index}" for index in range(12)],
        [f"res-{index}" for index in range(30)],
        colliding_names(4),
        colliding_names(9),
        colliding_names(16),
        colliding_names(64)[::-1],
        colliding_names(200),
    ]
    with_resources = [
        [*FLINK_DYNAMIC_CONFIG_KEYS, *(f"external-resource.{name}.amount" for name in names)]
        for names in resource_sets
    ]
    alphabet = "abcdefghijklmnopqrstuvwxyz.-_0123456789ABCDEF\u00e9\u4e2d"
    arbitrary = [
        ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))) for _ in range(rng.randint(1, 40))]
        for _ in range(30)
    ]
    return {
        "flink dynamic config keys": [FLINK_DYNAMIC_CONFIG_KEYS],
        "flink keys with external resources": with_resources,
        "resource names": resource_sets,
        "arbitrary keys": [list(dict.fromkeys(keys)) for keys in arbitrary],
        # An rng of their own, so that adding them left every record above as it was.
        **adversarial_key_lists(random.Random(SEED + 1)),
    }


def hash_set_inputs(rng: random.Random) -> dict[str, list[list[str]]]:
    """``new HashSet<>(list)``, as Flink collects the names of ``external-resources``."""
    names = [f"gpu{index}" for index in range(40)]
    return {
        "resource names": [
            ["gpu"],
            ["gpu", "fpga"],
            ["fpga", "gpu"],
            ["zeta", "alpha", "gpu"],
            ["gpu", "gpu", "fpga"],
            ["", "gpu"],
            names[:11],
            names[:12],
            names[:13],
            names[:25],
            names[:40],
            colliding_names(9),
            colliding_names(16),
        ],
        "arbitrary items": [
            [
                "".join(rng.choice("abcxyz.-0123") for _ in range(rng.randint(0, 6)))
                for _ in range(rng.randint(1, 60))
            ]
            for _ in range(20)
        ],
        **adversarial_item_lists(random.Random(SEED + 2)),
    }


CPU_CORES = [
    "1", "1.0", "4", "0.5", "1e-8", "1.5e-8", "1e-9", "0.123456789", "1e7", "2e23", "1e23", "3.1607015940265421E17",
    "12345678.123456789", "1e300", "NaN", "Infinity", "4.9e-324", "0.30000000000000004", "1.00000001",
    "1.000000009", "99999999.99999999", "0.001", "0.0009999", "8.41e21", "123456789012345678",
]  # fmt: skip

# ------------------------------------------------------------------------------ whole configurations


def task_manager_inputs() -> dict[str, list[dict[str, str]]]:
    base = {"taskmanager.memory.process.size": "1728m"}
    return {
        "cpu rendering": [{**base, "taskmanager.cpu.cores": cpu} for cpu in CPU_CORES],
        "slots in Unicode digits": [
            {**base, "taskmanager.numberOfTaskSlots": slots}
            for slots in ("\u0664", "\uff11\uff12", "+4", " 4", "\u0661\u0660", "1" * 5000)
        ],
        "external resources": [
            {**base, "external-resources": "gpu", "external-resource.gpu.amount": "2"},
            {
                **base,
                "external-resources": "gpu;fpga",
                "external-resource.gpu.amount": "2",
                "external-resource.fpga.amount": "1",
            },
            {
                **base,
                "external-resources": "zeta;alpha;gpu",
                "external-resource.gpu.amount": "2",
                "external-resource.zeta.amount": "3",
                "external-resource.alpha.amount": "1",
            },
            {**base, "external-resources": "none"},
            {**base, "external-resources": "gpu", "external-resource.gpu.amount": "0"},
            {**base, "external-resources": "gpu"},
            {
                **base,
                "external-resources": ";".join(["gpu", *colliding_names(12)]),
                **{f"external-resource.{name}.amount": "1" for name in ["gpu", *colliding_names(12)]},
            },
        ],
        "fractions printed in messages": [
            {**base, "taskmanager.memory.network.fraction": "1e17"},
            {**base, "taskmanager.memory.jvm-overhead.fraction": "5e18"},
            {**base, "taskmanager.memory.managed.fraction": "2e23"},
            {**base, "taskmanager.memory.network.fraction": "123456789012345678"},
        ],
        "unit text in messages": [
            {"taskmanager.memory.process.size": "1728\u2c2f"},
            {"taskmanager.memory.process.size": "1728\u0391\u03a3"},
        ],
        "overflow": [
            {"taskmanager.memory.task.heap.size": "8388607t", "taskmanager.memory.managed.size": "8388607t"},
        ],
        "long digit strings": [
            {**base, "taskmanager.memory.network.min": "0" * 4301},
            {"taskmanager.memory.process.size": "0" * 5000 + "1728m"},
            {**base, "taskmanager.numberOfTaskSlots": "0" * 5000 + "4"},
            {**base, "taskmanager.cpu.cores": "0" * 5000 + "2.5"},
        ],
    }


# ------------------------------------------------------------------------------------------ catalogue


Case = tuple[str, str, Any, str]
"""(op, group, input as recorded, argument text for Java)."""


def number_parsing_cases(rng: random.Random) -> Iterator[Case]:
    number_texts = {
        "plain decimals": PLAIN_DECIMALS,
        "hexadecimal": HEXADECIMAL,
        "special values": SPECIAL_VALUES,
        "whitespace and control characters": WHITESPACE,
        "type suffixes": SUFFIXES,
        "malformed": MALFORMED,
        "overflow and underflow": OVERFLOW_AND_UNDERFLOW,
        "long digit strings": long_digit_strings(),
        "binary32 halfway points": halfway_strings(rng, binary32=True, count=100),
        "binary64 halfway points": halfway_strings(rng, binary32=False, count=40),
        "random decimals": random_decimals(rng, 400),
    }
    for op in ("parseFloat", "parseDouble"):
        for group, texts in number_texts.items():
            yield from ((op, group, text, text) for text in texts)
    int_texts = {
        "valid": INT_VALID,
        "out of range": INT_OUT_OF_RANGE,
        "malformed": INT_MALFORMED,
        "unicode digits": INT_UNICODE_DIGITS,
        "long digit strings": INT_LONG_DIGIT_STRINGS,
    }
    for group, texts in int_texts.items():
        yield from (("parseInt", group, text, text) for text in texts)


def number_printing_cases(rng: random.Random) -> Iterator[Case]:
    doubles = {
        "boundaries": double_boundaries(),
        "known JDK 17 anomalies": known_double_anomalies(),
        "flink fractions": flink_fractions(),
        **random_doubles(rng),
    }
    for group, values in doubles.items():
        yield from (("doubleToString", group, double_bits(value), double_bits(value)) for value in values)
    for group, values in float_values(rng).items():
        yield from (("floatToString", group, float_bits(value), float_bits(value)) for value in values)


def memory_size_cases(rng: random.Random) -> Iterator[Case]:
    for group, sizes in human_readable_inputs(rng).items():
        yield from (("humanReadable", group, size, str(size)) for size in sizes)
    for group, sizes in memory_to_string_inputs(rng).items():
        yield from (("memoryToString", group, size, str(size)) for size in sizes)
    memory_texts = {
        "unit spellings": MEMORY_UNIT_SPELLINGS,
        "whitespace and control characters": MEMORY_WHITESPACE,
        "malformed": MEMORY_MALFORMED,
        "overflow": MEMORY_OVERFLOW,
        "long digit strings": [
            "0" * 4301,
            "0" * 5000 + "1g",
            " " + "0" * 4300 + "64 mb ",
            "0" * 4301 + "x",
            "9" * 4301,
        ],
        "unicode case mapping of units": unicode_case_units(),
    }
    for group, texts in memory_texts.items():
        yield from (("parseMemorySize", group, text, text) for text in texts)
    for group, pairs in multiply_inputs(rng).items():
        for size, multiplier in pairs:
            yield "multiply", group, [size, double_bits(multiplier)], f"{size} {double_bits(multiplier)}"


def layout_cases(rng: random.Random) -> Iterator[Case]:
    for group, key_lists in hash_map_inputs(rng).items():
        yield from (("hashMapOrder", group, keys, "\u001f".join(keys)) for keys in key_lists)
    for group, item_lists in hash_set_inputs(rng).items():
        yield from (("hashSetOrder", group, items, "\u001f".join(items)) for items in item_lists)
    yield from (("cpuCores", "cpu rendering", text, text) for text in CPU_CORES)


def catalogue() -> Iterator[Case]:
    """Every Java case, in file order (one seeded random stream, so a rerun gives the same file)."""
    rng = random.Random(SEED)
    yield from number_parsing_cases(rng)
    yield from number_printing_cases(rng)
    yield from memory_size_cases(rng)
    yield from layout_cases(rng)


# ------------------------------------------------------------------------------------------- running


def java_tool(name: str) -> str:
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / name).exists():
        return str(Path(home) / "bin" / name)
    found = shutil.which(name)
    if found is None:
        sys.exit(f"generate.py: '{name}' not found; install JDK 17 or set JAVA_HOME")
    return found


def oracle_path() -> Path:
    return Path(os.environ.get("FLINK_ORACLE", ROOT.parent / "shared" / "oracle" / "flink-oracle"))


def flink_dist_jar() -> Path:
    cache = Path(os.environ.get("FLINK_ORACLE_CACHE", Path.home() / ".cache" / "flink-oracle"))
    jar = cache / FLINK_VERSION / "jars" / "flink-dist.jar"
    if not jar.exists():
        subprocess.run([str(oracle_path()), "--flink", FLINK_VERSION, "--setup"], check=True)
    return jar


def encode(text: str) -> str:
    return text.encode("utf-16-be", "surrogatepass").hex()


def run_java(cases: list[Case]) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as classes:
        subprocess.run([java_tool("javac"), "-d", classes, str(JAVA_SOURCE)], check=True)
        stdin = "".join(f"{op} {encode(argument)}\n" for op, _, _, argument in cases)
        completed = subprocess.run(
            [java_tool("java"), "-cp", f"{classes}{os.pathsep}{flink_dist_jar()}", "JavaSemantics"],
            input=stdin,
            capture_output=True,
            text=True,
            check=True,
        )
    results = [json.loads(line) for line in completed.stdout.splitlines()]
    if len(results) != len(cases):
        sys.exit(f"generate.py: {len(cases)} cases but {len(results)} answers\n{completed.stderr}")
    return results


def expectation(result: dict[str, Any]) -> dict[str, Any]:
    if result["ok"]:
        return {"ok": True, "value": result["value"]}
    return {"ok": False, "class": result["class"], "message": result["message"]}


def run_oracle(groups: dict[str, list[dict[str, str]]]) -> list[Record]:
    cases = [(group, config) for group, configs in groups.items() for config in configs]
    stdin = "".join(
        json.dumps({"id": f"c{index}", "config": config}) + "\n" for index, (_, config) in enumerate(cases)
    )
    completed = subprocess.run(
        [str(oracle_path()), "--flink", FLINK_VERSION],
        input=stdin,
        capture_output=True,
        text=True,
        check=True,
    )
    answers = [json.loads(line) for line in completed.stdout.splitlines()]
    records = []
    for (group, config), answer in zip(cases, answers, strict=True):
        answer.pop("id")
        records.append({"op": "taskManager", "group": group, "input": config, "expect": answer})
    return records


def java_version() -> str:
    completed = subprocess.run([java_tool("java"), "-version"], capture_output=True, text=True, check=True)
    return completed.stderr.splitlines()[0]


def generate() -> list[str]:
    if '"17.' not in java_version():
        # JDK 19+ prints some doubles differently (shortest digits); Flink's vectors come from JDK 17.
        sys.exit(f"generate.py: needs JDK 17 (found {java_version()}); set JAVA_HOME")
    cases = list(catalogue())
    records: list[Record] = [
        {"op": op, "group": group, "input": recorded, "expect": expectation(result)}
        for (op, group, recorded, _), result in zip(cases, run_java(cases), strict=True)
    ]
    records += run_oracle(task_manager_inputs())
    meta = {
        "op": "meta",
        "generator": "tests/golden/generate.py",
        "java": java_version(),
        "flink": FLINK_VERSION,
        "records": len(records),
    }
    return [json.dumps(record, ensure_ascii=True, sort_keys=False) for record in [meta, *records]]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--check", action="store_true", help="compare with the committed file instead of writing"
    )
    args = parser.parse_args()
    lines = generate()
    text = "\n".join(lines) + "\n"
    if args.check:
        # The provenance line names the JDK patch release; only the answers have to agree.
        if GOLDEN.read_text().splitlines()[1:] != lines[1:]:
            sys.exit(f"{GOLDEN} is stale: rerun tests/golden/generate.py")
        print(f"{GOLDEN}: up to date ({len(lines) - 1} records)")
        return
    GOLDEN.write_text(text)
    print(f"wrote {len(lines) - 1} records to {GOLDEN}")


if __name__ == "__main__":
    main()
