"""Speed of `flink-tm-memory`, side by side with Flink's own code, as ratios.

Two comparisons, each run on this machine in alternation so that drift hits both sides alike:

* one-shot: ``flink-tm-memory derive`` against Flink's ``BashJavaUtils GET_TM_RESOURCE_PARAMS`` (what
  ``bin/taskmanager.sh`` runs before every TaskManager start: a JVM start plus the calculation);
* batch: ``flink-tm-memory derive --jsonl`` against Flink's calculator in one JVM
  (``flink-oracle --no-crosscheck``) on the same 10,000 cases; the two outputs are also compared
  line by line, so the speed-up is for identical answers. The same is then run on 40,000 cases: the
  difference between the two runs is the steady-state rate of a warm JVM (and of a warm Python), with
  start-up and JIT warm-up taken out.

Whole-process timings come from hyperfine (Debian/Ubuntu package ``hyperfine``); CPU time per case is
hyperfine's user+system time. Flink's jars are taken from the flink-oracle cache
(``flink-oracle --flink V --setup`` downloads them). Not a test: it prints figures, it asserts nothing
about speed.

    python benchmarks/run.py [--flink 2.2.1] [--oracle ../shared/oracle/flink-oracle] [--runs 10] [--one-shot-only]

The one-shot pair runs without an intermediate shell (``hyperfine -N``, 3 warm-ups): at a few tens of
milliseconds, the shell's start hyperfine would otherwise subtract is a noisy share of the figure.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.conformance.jsonl import read_jsonl  # noqa: E402 - after the repository root is importable

VECTORS = ROOT / "tests" / "conformance" / "vectors"
BATCH_SIZE = 10_000
LONG_BATCH_SIZE = 40_000
CONFIG = "taskmanager.memory.process.size=1728m"


@dataclass(frozen=True)
class Timing:
    """hyperfine's figures for one command, in seconds."""

    median: float
    mean: float
    stddev: float
    user: float
    system: float

    @property
    def cpu(self) -> float:
        return self.user + self.system


def main() -> int:
    arguments = parse_arguments()
    if shutil.which("hyperfine") is None:
        print("hyperfine is required: apt-get install hyperfine", file=sys.stderr)
        return 2
    ours = ROOT / ".venv" / "bin" / "flink-tm-memory"
    jars = flink_jars(arguments.flink, arguments.oracle)
    with tempfile.TemporaryDirectory() as scratch:
        workdir = Path(scratch)
        print(f"machine: {os.cpu_count()} cores; Flink {arguments.flink}; {arguments.runs} runs each\n")
        one_shot(ours, jars, workdir, arguments)
        if not arguments.one_shot_only:
            print()
            batch(ours, workdir, arguments)
    return 0


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--flink", default="2.2.1", help="Flink release to compare with (default 2.2.1)")
    parser.add_argument("--oracle", default=str(ROOT.parent / "shared" / "oracle" / "flink-oracle"))
    parser.add_argument("--runs", type=int, default=10, help="timed runs per command (default 10)")
    parser.add_argument(
        "--one-shot-only", action="store_true", help="only the one-shot pair, not the batches"
    )
    return parser.parse_args()


def flink_jars(version: str, oracle: str) -> str:
    cache = Path(os.environ.get("FLINK_ORACLE_CACHE", Path.home() / ".cache" / "flink-oracle"))
    jars = cache / version / "jars"
    if not (jars / "flink-dist.jar").exists():
        subprocess.run([oracle, "--flink", version, "--setup"], check=True)
    return f"{jars / 'bash-java-utils.jar'}:{jars / 'flink-dist.jar'}"


def one_shot(ours: Path, jars: str, workdir: Path, arguments: argparse.Namespace) -> None:
    conf = workdir / "conf"
    conf.mkdir()
    (conf / "config.yaml").write_text("")
    java = shutil.which("java") or "java"
    flink = (
        f"{java} -cp {jars} org.apache.flink.runtime.util.bash.BashJavaUtils GET_TM_RESOURCE_PARAMS "
        f"--configDir {conf} -D {CONFIG}"
    )
    mine = f"{ours} derive --format flink --flink-version {arguments.flink} -D {CONFIG}"
    timings = hyperfine(workdir / "one-shot.json", arguments.runs, mine, flink, without_shell=True)
    report(
        "one-shot: derive one TaskManager layout (whole process)",
        timings,
        ("flink-tm-memory", "BashJavaUtils"),
    )
    speedup = timings[1].median / timings[0].median
    print(f"  flink-tm-memory answers {speedup:.1f}x faster than BashJavaUtils (median wall time)")


def batch(ours: Path, workdir: Path, arguments: argparse.Namespace) -> None:
    runs = max(3, arguments.runs // 2)
    timings = {}
    for size in (BATCH_SIZE, LONG_BATCH_SIZE):
        cases = workdir / f"cases-{size}.jsonl"
        write_batch(cases, arguments.flink, size)
        # --no-fixes: Flink proposes no fixes, so both sides answer the same question, line for line.
        mine = (
            f"sh -c '{ours} derive --jsonl --no-fixes --flink-version {arguments.flink} < {cases} "
            f"> {workdir}/ours-{size}'"
        )
        flink = (
            f"sh -c '{arguments.oracle} --flink {arguments.flink} --no-crosscheck < {cases} "
            f"> {workdir}/flink-{size}'"
        )
        timings[size] = hyperfine(workdir / f"batch-{size}.json", runs, mine, flink)
    names = ("flink-tm-memory", "Flink JVM")
    short = timings[BATCH_SIZE]
    report(f"batch: {BATCH_SIZE:,} TaskManager configurations in one process", short, names)
    for name, timing in zip(names, short, strict=True):
        print(
            f"  {name:<16} {BATCH_SIZE / timing.median:>9,.0f} configs/s wall   "
            f"{BATCH_SIZE / timing.cpu:>9,.0f} configs per CPU-second (configs/s/core)"
        )
    print(f"  throughput ratio (ours / Flink, wall): {short[1].median / short[0].median:.2f}")
    extra = LONG_BATCH_SIZE - BATCH_SIZE
    warm = [
        extra / (long.median - first.median)
        for long, first in zip(timings[LONG_BATCH_SIZE], short, strict=True)
    ]
    warm_cpu = [
        extra / (long.cpu - first.cpu) for long, first in zip(timings[LONG_BATCH_SIZE], short, strict=True)
    ]
    print(
        f"steady state (the {extra:,} configurations between a {BATCH_SIZE:,} and a {LONG_BATCH_SIZE:,} run):"
    )
    for name, rate, cpu_rate in zip(names, warm, warm_cpu, strict=True):
        print(f"  {name:<16} {rate:>9,.0f} configs/s wall   {cpu_rate:>9,.0f} configs per CPU-second")
    print(f"  warm throughput ratio (ours / Flink): {warm[0] / warm[1]:.2f}")
    identical = all(
        (workdir / f"ours-{size}").read_text() == (workdir / f"flink-{size}").read_text()
        for size in (BATCH_SIZE, LONG_BATCH_SIZE)
    )
    print(f"  outputs identical line by line: {'yes' if identical else 'NO'}")


def write_batch(path: Path, version: str, size: int) -> None:
    source = VECTORS / f"{version}.jsonl"
    cases = read_jsonl(source)
    with path.open("w") as out:
        for index, case in zip(range(size), itertools.cycle(cases), strict=False):
            out.write(json.dumps({"id": f"b{index:05d}-{case['id']}", "config": case["config"]}) + "\n")


def hyperfine(export: Path, runs: int, *commands: str, without_shell: bool = False) -> list[Timing]:
    subprocess.run(
        [
            "hyperfine",
            *(["-N"] if without_shell else []),
            "--style",
            "none",
            "--warmup",
            "3" if without_shell else "1",
            "--runs",
            str(runs),
            "--export-json",
            str(export),
            *commands,
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    results = json.loads(export.read_text())["results"]
    return [
        Timing(result["median"], result["mean"], result["stddev"] or 0.0, result["user"], result["system"])
        for result in results
    ]


def report(title: str, timings: list[Timing], names: tuple[str, str]) -> None:
    print(title)
    print(f"  {'':<16} {'median':>9} {'mean ± sd':>18} {'user+sys':>9}")
    for name, timing in zip(names, timings, strict=True):
        print(
            f"  {name:<16} {timing.median * 1000:>7.1f}ms {timing.mean * 1000:>8.1f} ± {timing.stddev * 1000:>5.1f}ms "
            f"{timing.cpu * 1000:>7.1f}ms"
        )
    print(f"  ratio (Flink / ours, median): {timings[1].median / timings[0].median:.2f}")


if __name__ == "__main__":
    sys.exit(main())
