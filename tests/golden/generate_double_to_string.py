"""Regenerates ``tests/golden/double_to_string.jsonl`` and runs the large check of ``java_dtoa`` against Java.

Flink's bytes depend on the exact digits of JDK 17's ``Double.toString`` and ``Float.toString``
(``memory/java_dtoa.py`` explains why); this script asks Java for them. Run from the repository root::

    .venv/bin/python tests/golden/generate_double_to_string.py                 # rewrite the golden file
    .venv/bin/python tests/golden/generate_double_to_string.py --check         # exit 1 if it is stale
    .venv/bin/python tests/golden/generate_double_to_string.py --differential  # the large check

Needs ``javac``/``java`` 17 (``$JAVA_HOME`` or ``PATH``): JDK 19 and later print different digits.
``DoubleToString.java`` (next to this script) turns bit patterns into Java's strings.

The golden file holds a few thousand chosen values, grouped by what they exercise: random bit patterns,
subnormals, powers of two and ten, the plain/E-notation borders (1e-3, 1e7) and 1e8 (where E-notation
forces a second digit), one-digit values in E-notation, float fractions as Flink reads them
(``Float.parseFloat("0.xxxxxx")`` widened to double), ``f / (1 - f)`` of those, decimal fractions read as
doubles, integers in [2^53, 2^63), values whose digits dtoa's long loop gets wrong by overflowing, and
the known JDK-4511638 anomalies. Its first line is provenance (``op`` = ``meta``); every other line is
``{"op", "group", "input", "expect"}`` with ``op`` ``Double.toString`` or ``Float.toString`` and ``input``
the value's bits in hex. Inputs are hand-picked or drawn from a seeded generator, so a rerun gives the
same file; tests read it and never need Java.

``--differential`` is not part of the test suite (it takes minutes): it compares ``java_double_to_string``,
``java_dtoa.ported_double_to_string`` (the port without its fast path) and ``java_float_to_string`` with
Java over millions of random bit patterns (drawn by Java) and over exhaustive structured families, then
prints the count and mismatches of each family and exits 1 on any mismatch.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "operator"))

from flink_tm_memory.memory import java_dtoa  # noqa: E402
from flink_tm_memory.memory.javanum import (  # noqa: E402
    java_double_to_string,
    java_float_to_string,
    parse_java_double,
    parse_java_float,
)

GOLDEN = HERE / "double_to_string.jsonl"
JAVA_SOURCE = HERE / "DoubleToString.java"
SEED = 20250517
DOUBLE = "Double.toString"
FLOAT = "Float.toString"
MIN_SUBNORMAL_FLOAT_BITS = 1
MAX_FINITE_DOUBLE_BITS = 0x7FEFFFFFFFFFFFFF

# ----------------------------------------------------------------------------------------- helpers


def double_bits(value: float) -> int:
    return int(struct.unpack(">Q", struct.pack(">d", value))[0])


def float_bits(value: float) -> int:
    return int(struct.unpack(">I", struct.pack(">f", value))[0])


def double_from_bits(bits: int) -> float:
    return float(struct.unpack(">d", struct.pack(">Q", bits))[0])


def float_from_bits(bits: int) -> float:
    return float(struct.unpack(">f", struct.pack(">I", bits))[0])


def hex_bits(op: str, bits: int) -> str:
    return f"{bits:016x}" if op == DOUBLE else f"{bits:08x}"


def neighbours(bits: int, reach: int, top: int) -> range:
    """Bit patterns within ``reach`` ulps of ``bits`` (same sign), clipped to [0, top]."""
    return range(max(0, bits - reach), min(top, bits + reach) + 1)


def float_fraction(index: int, digits: int) -> float:
    """What Flink makes of the text ``0.<index padded to digits>``: ``Float.parseFloat``, widened."""
    return parse_java_float(f"0.{index:0{digits}d}")


def ours(op: str, bits: int) -> str:
    if op == DOUBLE:
        return java_double_to_string(double_from_bits(bits))
    return java_float_to_string(float_from_bits(bits))


# -------------------------------------------------------------------------------------------- java


def java_tool(name: str) -> str:
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / name).exists():
        return str(Path(home) / "bin" / name)
    found = shutil.which(name)
    if found is None:
        sys.exit(f"generate_double_to_string.py: '{name}' not found; install JDK 17 or set JAVA_HOME")
    return found


def compile_java(classes: Path) -> None:
    subprocess.run([java_tool("javac"), "-d", str(classes), str(JAVA_SOURCE)], check=True)


def run_java(classes: Path, args: list[str], stdin: str | None = None) -> list[str]:
    completed = subprocess.run(
        [java_tool("java"), "-cp", str(classes), "DoubleToString", *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=True,
    )
    return completed.stdout.splitlines()


def java_strings(classes: Path, inputs: list[tuple[str, int]]) -> list[str]:
    lines = "".join(f"{'d' if op == DOUBLE else 'f'}{hex_bits(op, bits)}\n" for op, bits in inputs)
    results = run_java(classes, [], lines)
    if len(results) != len(inputs):
        raise RuntimeError(f"Java answered {len(results)} lines for {len(inputs)} inputs")
    return results


def java_version() -> str:
    completed = subprocess.run([java_tool("java"), "-version"], capture_output=True, text=True, check=True)
    return completed.stderr.splitlines()[0]


# ------------------------------------------------------------------------------------- golden cases


Values = tuple[list[int], list[int]]  # bit patterns of doubles and of floats


def random_bit_patterns(rng: random.Random) -> Values:
    return [rng.getrandbits(64) for _ in range(400)], [rng.getrandbits(32) for _ in range(400)]


def special_values(_: random.Random) -> Values:
    doubles = [0, 1 << 63, 0x7FF0000000000000, 0xFFF0000000000000, 0x7FF8000000000000, 0xFFF0000000000001]
    return doubles, [0, 1 << 31, 0x7F800000, 0xFF800000, 0x7FC00000, 0xFF800001]


def subnormals(rng: random.Random) -> Values:
    doubles = {*range(1, 41), *(1 << k for k in range(52)), *((1 << k) + 1 for k in range(1, 52))}
    doubles |= {(1 << 52) - 1, (1 << 52) - 2, *(rng.getrandbits(52) for _ in range(80))}
    floats = {*range(1, 41), *(1 << k for k in range(23)), (1 << 23) - 1}
    floats |= {rng.getrandbits(23) for _ in range(60)}
    return sorted(doubles), sorted(floats)


def powers_of_two(_: random.Random) -> Values:
    doubles = [e for e in range(-1074, 1024) if -80 <= e <= 80 or e % 7 == 0]
    return (
        [double_bits(math.ldexp(1.0, e)) for e in doubles],
        [float_bits(math.ldexp(1.0, e)) for e in range(-149, 128)],
    )


def powers_of_two_one_ulp_either_side(_: random.Random) -> Values:
    return (
        [double_bits(math.ldexp(1.0, e)) + d for e in range(-1070, 1024, 11) for d in (-1, 1)],
        [float_bits(math.ldexp(1.0, e)) + d for e in range(-145, 128, 3) for d in (-1, 1)],
    )


def powers_of_ten(_: random.Random) -> Values:
    return (
        [double_bits(parse_java_double(f"1e{e}")) for e in range(-323, 309)],
        [float_bits(parse_java_float(f"1e{e}")) for e in range(-45, 39)],
    )


def near_plain_borders(_: random.Random) -> Values:
    """Around 1e-3 and 1e7, where the layout changes, and 1e8, where a forced second digit starts."""
    texts = ("0.001", "1e7", "1e8")
    return (
        [b for t in texts for b in neighbours(double_bits(parse_java_double(t)), 8, MAX_FINITE_DOUBLE_BITS)],
        [b for t in texts for b in neighbours(float_bits(parse_java_float(t)), 8, 0x7F7FFFFF)],
    )


def one_digit_in_e_notation(_: random.Random) -> Values:
    double_exponents = (-300, -100, -20, -7, -5, -4, 8, 9, 15, 20, 22, 23, 100, 300)
    floats = (parse_java_float(f"{d}e{e}") for d in range(1, 10) for e in (-40, -10, -4, 8, 12, 30, 38))
    return (
        [double_bits(parse_java_double(f"{d}e{e}")) for d in range(1, 10) for e in double_exponents],
        [float_bits(value) for value in floats if math.isfinite(value)],
    )


def float_fractions_widened(rng: random.Random) -> Values:
    """What Flink reads for a fraction option: ``Float.parseFloat("0.xxxxxx")``, widened to double."""
    indexes = {1, 10, 100, 1000, 10000, 100000, 250000, 400000, 700000, 999999, 123456, 333333, 666667}
    indexes |= {rng.randrange(1, 1_000_000) for _ in range(300)}
    values = [float_fraction(index, 6) for index in sorted(indexes)]
    return [double_bits(v) for v in values], [float_bits(v) for v in values]


def ratio_of_float_fractions(rng: random.Random) -> Values:
    """f / (1 - f) in double for a float fraction f, as Flink derives a total from a fraction."""
    indexes = {1, 10, 100, 1000, 100000, 250000, 400000, 500000, 700000, 900000, 999999}
    indexes |= {rng.randrange(1, 1_000_000) for _ in range(250)}
    fractions = [float_fraction(index, 6) for index in sorted(indexes)]
    return [double_bits(f / (1.0 - f)) for f in fractions], []


def decimal_fractions_as_doubles(rng: random.Random) -> Values:
    indexes = sorted({rng.randrange(1, 1_000_000) for _ in range(200)})
    return [double_bits(parse_java_double(f"0.{index:06d}")) for index in indexes], []


def large_integers(rng: random.Random) -> Values:
    """Integers from 2^53 (floats: 2^24) to 2^63, which dtoa prints from their exact digits."""
    doubles = {(1 << k) + d for k in range(53, 64) for d in (-3, -2, -1, 0, 1, 2, 3) if (1 << k) + d < 2**63}
    doubles |= {rng.randrange(2**53, 2**63) for _ in range(200)}
    floats = {(1 << k) + d for k in range(24, 64) for d in (-1, 0, 1)}
    floats |= {rng.randrange(2**24, 2**63) for _ in range(150)}
    return [double_bits(float(i)) for i in sorted(doubles)], [float_bits(float(i)) for i in sorted(floats)]


def known_anomalies(_: random.Random) -> Values:
    doubles = (
        "1e23 2e23 8.41e21 5e-324 1e-322 2.82879384806159e17 1.387364135037754e18 1.45800632428665e17"
        " 1.9400994884341945e25 5.684341886080802e-14 2e-3 1.0e-5 9007199254740993 1.7976931348623157e308"
    )
    floats = "1e23 8.41e21 1.4e-45 1e-44 3.4028235e38 1073741824 2.0e-3 1.0e-5 16777217"
    return (
        [double_bits(parse_java_double(text)) for text in doubles.split(" ")],
        [float_bits(parse_java_float(text)) for text in floats.split(" ")],
    )


def overflow_in_the_digit_loop(_: random.Random) -> Values:
    """Values whose digits dtoa's long loop gets wrong by overflowing (found by running the port without
    its overflow): ``2.3851136372966234E25`` where exact arithmetic gives ``...235E25``."""
    doubles = (
        "4533baacb18f2c5e 45348348b212926c 453d2aad09073ab1 453d507c83b8f501 c53e05fdc8ead608 c53e682f487a9d18"
        " 45313f90dbf7ab99 4539b912c7eb2f71 c530d42abc33011f c5354ab507f450af c536811845c9350d c53f1756a299f79b"
        " 453ebdfea106db6b c537bc5618431ee3 4539d726272d2429 453e2e2104dfd5e9"
    )
    floats = (
        "6a788665 6a767f7c 6a4dbab8 6a337ca7 6a66d0d0 6a134eed 6a3315aa 6a43cf84 ea1405e9 ea6c6f8e ea7d2352"
        " ea3b538c ea52bd75 6a5ad8f5 ea670def 6a523241 6a6a286a 6a4541ad ea41aa1b 6a1c6c4d ea76e7c3 ea5e32fe"
        " 6a454cac ea1ba527"
    )
    return [int(bits, 16) for bits in doubles.split(" ")], [int(bits, 16) for bits in floats.split(" ")]


GOLDEN_GROUPS = {
    "known JDK-4511638 anomalies": known_anomalies,
    "random bit patterns": random_bit_patterns,
    "special values": special_values,
    "subnormals": subnormals,
    "powers of two": powers_of_two,
    "powers of two, one ulp either side": powers_of_two_one_ulp_either_side,
    "powers of ten": powers_of_ten,
    "near 1e-3, 1e7 and 1e8": near_plain_borders,
    "one significant digit in E-notation": one_digit_in_e_notation,
    "float fractions widened": float_fractions_widened,
    "f/(1-f) of float fractions": ratio_of_float_fractions,
    "decimal fractions read as doubles": decimal_fractions_as_doubles,
    "integers in [2^53, 2^63)": large_integers,
    "overflow in the digit loop": overflow_in_the_digit_loop,
}


def golden_cases() -> Iterator[tuple[str, str, int]]:
    """(op, group, bits) for the golden file, in a fixed order; one seeded generator feeds every group."""
    rng = random.Random(SEED)
    for group, values in GOLDEN_GROUPS.items():
        doubles, floats = values(rng)
        yield from ((DOUBLE, group, bits) for bits in doubles)
        yield from ((FLOAT, group, bits) for bits in floats)


def golden_lines(classes: Path) -> list[str]:
    seen: set[tuple[str, int]] = set()
    cases: list[tuple[str, str, int]] = []
    for op, group, bits in golden_cases():
        if (op, bits) not in seen:  # a value in two groups is kept in the first
            seen.add((op, bits))
            cases.append((op, group, bits))
    expected = java_strings(classes, [(op, bits) for op, _, bits in cases])
    records = [
        {"op": op, "group": group, "input": hex_bits(op, bits), "expect": expect}
        for (op, group, bits), expect in zip(cases, expected, strict=True)
    ]
    meta = {
        "op": "meta",
        "generator": "tests/golden/generate_double_to_string.py",
        "java": java_version(),
        "records": len(records),
    }
    return [json.dumps(record) for record in [meta, *records]]


# ------------------------------------------------------------------------------------ differential


@dataclass(frozen=True)
class Family:
    """A set of bit patterns Java can enumerate: a range, Java's own random draw, or a given list."""

    name: str
    op: str
    kind: str  # "range", "random" or "list"
    first: int = 0
    count: int = 0
    seed: int = 0
    bits: tuple[int, ...] = ()


def chunked(name: str, op: str, first: int, count: int, size: int = 500_000) -> Iterator[Family]:
    for start in range(first, first + count, size):
        yield Family(name, op, "range", first=start, count=min(size, first + count - start))


def listed(name: str, op: str, bits: Iterable[int], size: int = 200_000) -> Iterator[Family]:
    ordered = sorted(set(bits))
    for start in range(0, len(ordered), size):
        yield Family(name, op, "list", bits=tuple(ordered[start : start + size]))


def differential_families(random_doubles: int, random_floats: int) -> Iterator[Family]:
    per_draw = 500_000
    for seed in range(math.ceil(random_doubles / per_draw)):
        yield Family("random doubles", DOUBLE, "random", count=per_draw, seed=SEED + seed)
    for seed in range(math.ceil(random_floats / per_draw)):
        yield Family("random floats", FLOAT, "random", count=per_draw, seed=SEED + 1000 + seed)

    # Every float in whole binades: subnormals, the fractions [0.5, 1), the integer path with
    # insignificant digits [2^30, 2^31), and a large binade on the big-integer path.
    yield from chunked("all subnormal floats", FLOAT, 1, (1 << 23) - 1)
    yield from chunked("all floats in [0.5, 1)", FLOAT, float_bits(0.5), 1 << 23)
    yield from chunked("all floats in [2^30, 2^31)", FLOAT, float_bits(2.0**30), 1 << 23)
    yield from chunked("all floats in [2^100, 2^101)", FLOAT, float_bits(2.0**100), 1 << 23)

    yield from chunked("the 2^21 smallest subnormal doubles", DOUBLE, 1, 1 << 21)
    yield from chunked("the 2^20 largest subnormal doubles", DOUBLE, (1 << 52) - (1 << 20), 1 << 20)

    top = MAX_FINITE_DOUBLE_BITS
    yield from listed(
        "double powers of two, 64 ulps either side",
        DOUBLE,
        (b for e in range(-1074, 1024) for b in neighbours(double_bits(math.ldexp(1.0, e)), 64, top)),
    )
    yield from listed(
        "doubles nearest 10^k, 256 ulps either side",
        DOUBLE,
        (b for e in range(-323, 309) for b in neighbours(double_bits(parse_java_double(f"1e{e}")), 256, top)),
    )
    yield from listed(
        "doubles nearest d x 10^k (d < 100), 2 ulps either side",
        DOUBLE,
        (
            b
            for d in range(1, 100)
            for e in range(-325, 309)
            if math.isfinite(value := parse_java_double(f"{d}e{e}")) and value > 0
            for b in neighbours(double_bits(value), 2, top)
        ),
    )
    for text in ("0.001", "1e7", "1e8"):
        center = double_bits(parse_java_double(text))
        yield from chunked(f"doubles within 2^19 ulps of {text}", DOUBLE, center - (1 << 19), 1 << 20)
    yield from listed(
        "float powers of two and tens, 4096 ulps either side",
        FLOAT,
        (
            b
            for value in [*(math.ldexp(1.0, e) for e in range(-149, 128)), *(10.0**e for e in range(-45, 39))]
            if 0 < value < 3.4e38
            for b in neighbours(float_bits(value), 4096, 0x7F7FFFFF)
        ),
    )

    fractions = [float_fraction(index, 6) for index in range(1, 1_000_000)]
    yield from listed("all float fractions 0.000001..0.999999, widened", DOUBLE, map(double_bits, fractions))
    yield from listed("all float fractions 0.000001..0.999999", FLOAT, map(float_bits, fractions))
    yield from listed(
        "f/(1-f) of all float fractions 0.000001..0.999999",
        DOUBLE,
        (double_bits(f / (1.0 - f)) for f in fractions),
    )
    yield from listed(
        "all decimal fractions 0.000001..0.999999 read as doubles",
        DOUBLE,
        (double_bits(parse_java_double(f"0.{index:06d}")) for index in range(1, 1_000_000)),
    )
    yield from listed(
        "integers 2^k + j, 53 <= k < 64, |j| <= 4096",
        DOUBLE,
        (double_bits(float((1 << k) + j)) for k in range(53, 64) for j in range(-4096, 4097)),
    )
    rng = random.Random(SEED)
    yield from listed(
        "random integers in [2^53, 2^63)",
        DOUBLE,
        (double_bits(float(rng.randrange(2**53, 2**63))) for _ in range(1_000_000)),
    )


def check_family(classes: Path, family: Family) -> tuple[str, int, int, int, list[str]]:
    """Runs one family through Java and our code: (name, values, comparisons, mismatches, examples)."""
    op_letter = "d" if family.op == DOUBLE else "f"
    if family.kind == "random":
        pairs = [
            line.split(" ", 1)
            for line in run_java(classes, ["random", op_letter, str(family.count), str(family.seed)])
        ]
        cases = [(int(bits, 16), expect) for bits, expect in pairs]
    elif family.kind == "range":
        lines = run_java(classes, ["range", op_letter, f"{family.first:x}", str(family.count)])
        cases = list(zip(range(family.first, family.first + family.count), lines, strict=True))
    else:
        lines = java_strings(classes, [(family.op, bits) for bits in family.bits])
        cases = list(zip(family.bits, lines, strict=True))
    comparisons = mismatches = 0
    examples: list[str] = []
    for bits, expect in cases:
        # Both signs print alike, less the "-"; the sign bit costs Java nothing to vary, so vary it here.
        for signed in (bits, bits ^ (1 << (63 if family.op == DOUBLE else 31))):
            want = expect if signed == bits else _negated(expect)
            got = [ours(family.op, signed)]
            if family.op == DOUBLE:
                got.append(java_dtoa.ported_double_to_string(double_from_bits(signed)))
            comparisons += len(got)
            if any(answer != want for answer in got):
                mismatches += 1
                if len(examples) < 20:
                    examples.append(f"{hex_bits(family.op, signed)}: java {want!r}, ours {got!r}")
    return family.name, len(cases), comparisons, mismatches, examples


def _negated(text: str) -> str:
    if text == "NaN":
        return text
    return text[1:] if text.startswith("-") else "-" + text


def _check_family_star(arguments: tuple[Path, Family]) -> tuple[str, int, int, int, list[str]]:
    return check_family(*arguments)


def differential(classes: Path, random_doubles: int, random_floats: int, processes: int) -> int:
    totals: dict[str, list[int]] = {}
    failures: dict[str, list[str]] = {}
    started = time.monotonic()
    families = ((classes, family) for family in differential_families(random_doubles, random_floats))
    with multiprocessing.Pool(processes) as pool:
        for name, values, comparisons, mismatches, examples in pool.imap(_check_family_star, families):
            total = totals.setdefault(name, [0, 0, 0])
            total[0] += values
            total[1] += comparisons
            total[2] += mismatches
            failures.setdefault(name, []).extend(examples)
            print(
                f"  ... {name}: {total[0]:,} values so far ({time.monotonic() - started:.0f}s)",
                file=sys.stderr,
            )
    print(f"{'family':<62} {'values':>12} {'comparisons':>13} {'mismatches':>10}")
    for name, (values, comparisons, mismatched) in totals.items():
        print(f"{name:<62} {values:>12,} {comparisons:>13,} {mismatched:>10}")
        for line in failures[name][:5]:
            print(f"    {line}")
    values = sum(total[0] for total in totals.values())
    comparisons = sum(total[1] for total in totals.values())
    mismatched = sum(total[2] for total in totals.values())
    print(f"{'total':<62} {values:>12,} {comparisons:>13,} {mismatched:>10}")
    print(f"java: {java_version()}; {time.monotonic() - started:.0f}s")
    return 1 if mismatched else 0


# ------------------------------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="exit 1 if the committed golden file is stale")
    parser.add_argument("--differential", action="store_true", help="run the large check against Java")
    parser.add_argument("--random-doubles", type=int, default=5_000_000)
    parser.add_argument("--random-floats", type=int, default=5_000_000)
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        classes = Path(temporary)
        compile_java(classes)
        if arguments.differential:
            return differential(
                classes, arguments.random_doubles, arguments.random_floats, arguments.processes
            )
        text = "\n".join(golden_lines(classes)) + "\n"
    if arguments.check:
        if GOLDEN.read_text() != text:
            print(f"{GOLDEN.relative_to(ROOT)} is stale; rerun without --check", file=sys.stderr)
            return 1
        return 0
    GOLDEN.write_text(text)
    print(f"wrote {text.count(chr(10)) - 1} records to {GOLDEN.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
