"""The 1 000 000-input fuzz run: four pure targets under atheris (libFuzzer), then the served webhook.

    python fuzz/run.py                      # the full run (about 1 000 000 inputs), figures as Markdown
    python fuzz/run.py --scale 0.01         # a quick one
    python fuzz/run.py --child TARGET ...   # one atheris process (what the full run starts per target)

Each pure target (``fuzz/targets.py``) runs in an atheris process of its own, coverage-guided over the
package's code (only ``flink_tm_memory`` is instrumented), seeded from the conformance vectors and the
samples, for a fixed number of inputs (``-runs``), with libFuzzer's per-input time bound
(``-timeout``, seconds): an input slower than that is reported as a hang and ends the run, as a crash
(any exception) or a broken contract does. The slowest input of each target is measured too.

The served target starts the shipped operator (``flink-tm-memory run`` with its webhook on HTTPS, an
emulated API server behind it, as ``benchmarks/webhook_latency.py`` does) and posts AdmissionReviews
over TLS: valid ones, mutated ones (a byte flipped, inserted or cut, a JSON value replaced) and
garbage. Every answer must come within ``--request-timeout`` and be a 200 with an AdmissionReview
(allowed, or denied with a message) or a 4xx; a 5xx, a timeout or a dropped connection is a failure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "operator"))
sys.path.insert(0, str(ROOT / "benchmarks"))

RUNS = {"memory-size": 400_000, "configuration": 250_000, "custom-resource": 200_000, "admission": 130_000}
SERVED_RUNS = 20_000
PER_INPUT_TIMEOUT = 2  # seconds: libFuzzer's -timeout; the slowest input is reported beside it
SAMPLES = ROOT / "manifests" / "samples"
VECTORS = ROOT / "tests" / "conformance" / "vectors"
FINDINGS = ROOT / "fuzz" / "findings"
Json = dict[str, Any]


@dataclass
class Figures:
    target: str
    engine: str
    inputs: int
    seconds: float
    crashes: int
    hangs: int
    slowest_ms: float
    corpus: int = 0
    coverage: int = 0


def main() -> int:
    arguments = parse_arguments()
    if arguments.child:
        return child(arguments.child, arguments.libfuzzer)
    results = [
        run_target(target, max(1, int(runs * arguments.scale)), arguments.timeout)
        for target, runs in RUNS.items()
        if not arguments.only or target in arguments.only
    ]
    if not arguments.only or "served" in arguments.only:
        results.append(asyncio.run(run_served(max(1, int(SERVED_RUNS * arguments.scale)), arguments)))
    print(report(results))
    if arguments.json:
        Path(arguments.json).write_text(json.dumps([asdict(result) for result in results], indent=2) + "\n")
    return 0 if all(result.crashes == result.hangs == 0 for result in results) else 1


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every target's input count")
    parser.add_argument("--timeout", type=int, default=PER_INPUT_TIMEOUT, help="per-input bound, seconds")
    parser.add_argument("--request-timeout", type=float, default=5.0, help="per-request bound, served target")
    parser.add_argument("--only", nargs="*", help="targets to run (memory-size ... served)")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("libfuzzer", nargs="*", help=argparse.SUPPRESS)
    return parser.parse_args()


# ------------------------------------------------------------------------------------------- atheris


def child(target: str, libfuzzer: list[str]) -> int:
    """One target under atheris; libFuzzer exits the process when the runs are done or on a finding."""
    import atheris  # noqa: PLC0415 - only the fuzzing child needs it

    with atheris.instrument_imports(include=["flink_tm_memory"]):
        from fuzz.targets import TARGETS  # noqa: PLC0415

    function = TARGETS[target]
    slowest_file = Path(os.environ["FUZZ_SLOWEST_FILE"])
    slowest = 0.0

    def timed(data: bytes) -> None:
        nonlocal slowest
        started = time.perf_counter()
        function(data)
        elapsed = time.perf_counter() - started
        if elapsed > slowest:
            slowest = elapsed
            slowest_file.write_text(f"{elapsed}\n{data!r}\n")

    atheris.Setup([sys.argv[0], *libfuzzer], timed)
    atheris.Fuzz()
    return 0


def run_target(target: str, runs: int, timeout: int) -> Figures:
    with tempfile.TemporaryDirectory(prefix=f"fuzz-{target}-") as scratch:
        corpus = Path(scratch) / "corpus"
        corpus.mkdir()
        for index, seed in enumerate(seeds(target)):
            (corpus / f"seed-{index}").write_bytes(seed)
        slowest_file = Path(scratch) / "slowest"
        command = [
            sys.executable,
            str(Path(__file__)),
            "--child",
            target,
            "--",
            f"-runs={runs}",
            f"-timeout={timeout}",
            "-rss_limit_mb=2048",
            "-max_len=4096",
            "-print_final_stats=1",
            f"-artifact_prefix={scratch}/",
            str(corpus),
        ]
        started = time.monotonic()
        completed = subprocess.run(
            command,
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "FUZZ_SLOWEST_FILE": str(slowest_file)},
        )
        seconds = time.monotonic() - started
        log = completed.stderr
        done = re.search(r"Done (\d+) runs in (\d+) second", log)
        findings = [
            path for path in Path(scratch).iterdir() if path.name.startswith(("crash-", "timeout-", "oom-"))
        ]
        for finding in findings:
            kept = FINDINGS / f"{target}-{finding.name}"
            kept.parent.mkdir(exist_ok=True)
            kept.write_bytes(finding.read_bytes())
        if completed.returncode != 0 or findings:
            FINDINGS.mkdir(exist_ok=True)
            (FINDINGS / f"{target}.log").write_text(log)
            uncaught = log.find("=== Uncaught Python exception")
            sys.stderr.write(log[uncaught : uncaught + 4000] if uncaught >= 0 else log[-4000:])
        slowest = float(slowest_file.read_text().split("\n", 1)[0]) if slowest_file.exists() else 0.0
        coverage = re.findall(r"cov: (\d+)", log)
        corpus_size = re.findall(r"corp: (\d+)/", log)
        return Figures(
            target=target,
            engine="atheris",
            inputs=int(done.group(1)) if done else 0,
            seconds=round(seconds, 1),
            crashes=sum(1 for path in findings if not path.name.startswith("timeout-"))
            + (1 if completed.returncode != 0 and not findings else 0),
            hangs=sum(1 for path in findings if path.name.startswith("timeout-")),
            slowest_ms=round(slowest * 1000, 2),
            corpus=int(corpus_size[-1]) if corpus_size else 0,
            coverage=int(coverage[-1]) if coverage else 0,
        )


def seeds(target: str) -> Iterator[bytes]:
    configs = list(vector_configs(400))
    if target == "memory-size":
        for text in ("1728m", "4g", " 2 GB ", "8388607t", "1 kibibytes", "99999999999999999999", "0", "1b"):
            yield text.encode()
        for text in ("2048\uff4d", "2048\u043c", "2\u0261", "\uff12g", "1\u212a", "1e3m", "-1m", "\t7 tb\n"):
            yield text.encode()
    elif target == "configuration":
        for index, config in enumerate(configs):
            yield bytes([index % 256]) + lines(config).encode()
    elif target == "custom-resource":
        for spec in sample_specs():
            yield json.dumps(spec).encode()
        for config in configs[:200]:
            yield json.dumps({"flinkConfiguration": config}).encode()
            yield lines(config).encode()
    else:
        for review in sample_reviews():
            yield json.dumps(review).encode()


def vector_configs(count: int) -> Iterator[dict[str, str]]:
    for path in sorted(VECTORS.glob("*.jsonl")):
        with path.open(encoding="utf-8") as vectors:
            for number, line in enumerate(vectors):
                if number >= count // 8:
                    break
                yield json.loads(line)["config"]


def lines(config: dict[str, Any]) -> str:
    return "\n".join(f"{key}={value}" for key, value in config.items())


def sample_specs() -> list[Json]:
    import yaml  # noqa: PLC0415

    return [
        yaml.safe_load(path.read_text(encoding="utf-8"))["spec"] for path in sorted(SAMPLES.glob("*.yaml"))
    ]


def sample_reviews() -> list[Json]:
    import yaml  # noqa: PLC0415

    from webhook_latency import review, scenarios  # noqa: PLC0415

    reviews = [scenario.review for scenario in scenarios()]
    memory = ("flinkmemory.io", "v1alpha1", "FlinkTaskManagerMemory", "flinktaskmanagermemories")
    for path in sorted(SAMPLES.glob("*.yaml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        reviews.append(review("CREATE", document, memory))
        pod = json.loads(json.dumps(reviews[2]))  # the labelled pod, its resource in oldObject
        pod["request"]["oldObject"] = document
        reviews.append(pod)
    return reviews


# ------------------------------------------------------------------------------------------- served


async def run_served(count: int, arguments: argparse.Namespace) -> Figures:
    import aiohttp  # noqa: PLC0415

    import webhook_latency  # noqa: PLC0415
    from flink_tm_memory.runtime.certificates import CA_FILE, generate_certificates  # noqa: PLC0415

    reviews = [(path_of(review), json.dumps(review).encode()) for review in sample_reviews()]
    rng = random.Random(7)
    crashes = hangs = 0
    slowest = 0.0
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="fuzz-served-") as scratch_name:
        scratch = Path(scratch_name)
        certificates = scratch / "tls"
        generate_certificates(certificates, ["127.0.0.1"])
        trust = ssl.create_default_context(cafile=str(certificates / CA_FILE))
        emulator = (sys.executable, webhook_latency.__file__, "--serve-emulator")
        async with webhook_latency.background(*emulator, log=scratch / "emulator.log") as process:
            server = await webhook_latency.read_url(process)
            async with webhook_latency.operator(server, scratch, certificates) as served:
                base = served.base
                await webhook_latency.answering(base, trust)
                timeout = aiohttp.ClientTimeout(total=arguments.request_timeout)
                started = time.monotonic()
                connector = aiohttp.TCPConnector(ssl=trust, limit=8)
                async with aiohttp.ClientSession(connector=connector) as session:
                    for batch in range(0, count, 8):
                        bodies = [mutate(rng, *rng.choice(reviews)) for _ in range(min(8, count - batch))]
                        answers = await asyncio.gather(
                            *(post(session, base, path, body, timeout) for path, body in bodies)
                        )
                        for (outcome, elapsed), (path, body) in zip(answers, bodies, strict=True):
                            slowest = max(slowest, elapsed)
                            crashes += outcome.startswith("crash")
                            hangs += outcome == "hang"
                            if outcome != "ok":
                                failures.append(f"{outcome} /{path} {body[:3000]!r}")
                seconds = time.monotonic() - started
    if failures:
        FINDINGS.mkdir(exist_ok=True)
        (FINDINGS / "served.txt").write_text("\n".join(failures) + "\n")
    return Figures(
        "served webhook", "mutation", count, round(seconds, 1), crashes, hangs, round(slowest * 1000, 2)
    )


def path_of(review: Json) -> str:
    return "mutate-pod" if review["request"]["resource"]["resource"] == "pods" else "validate-memory"


def mutate(rng: random.Random, path: str, body: bytes) -> tuple[str, bytes]:
    """A valid review, or one mutated the ways a broken or hostile client would send it."""
    choice = rng.randrange(8)
    data = bytearray(body)
    if choice == 0:
        return path, body
    if choice == 1:  # bytes flipped
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
    elif choice == 2:  # cut short
        del data[rng.randrange(len(data)) :]
    elif choice == 3:  # bytes inserted
        position = rng.randrange(len(data))
        data[position:position] = rng.randbytes(rng.randint(1, 64))
    elif choice == 4:  # garbage
        data = bytearray(rng.randbytes(rng.randint(0, 512)))
    else:  # a JSON value replaced by a hostile one
        document = json.loads(body)
        replace_somewhere(rng, document)
        data = bytearray(json.dumps(document).encode())
    return path, bytes(data)


HOSTILE_VALUES: list[Any] = [
    None,
    True,
    0,
    -1,
    2**64,
    1e308,
    "",
    "x" * 10_000,
    "9" * 500,
    "2048\uff4d",
    "2\u0261",
    "1\u212a",
    "NaN",
    "Infinity",
    [],
    {},
    [[[[[]]]]],
    {"a": {"b": {"c": {}}}},
    "\u0000",
    "&a [*a]",
    "OPERATOR: &x 70",
]


def _nested(depth: int) -> Any:
    value: Any = "2g"
    for _ in range(depth):
        value = {"a": [value]}
    return value


HOSTILE_VALUES += [_nested(20), _nested(60), _nested(400)]  # past the spec's bound, the review's, kopf's copy


def replace_somewhere(rng: random.Random, document: Any) -> None:
    node = document
    for _ in range(rng.randint(1, 8)):
        children = (
            list(node.items())
            if isinstance(node, dict)
            else list(enumerate(node))
            if isinstance(node, list)
            else []
        )
        if not children:
            return
        key, child = rng.choice(children)
        if not isinstance(child, dict | list) or rng.random() < 0.3:
            node[key] = rng.choice(HOSTILE_VALUES)
            return
        node = child


async def post(session: Any, base: str, path: str, body: bytes, timeout: Any) -> tuple[str, float]:
    import aiohttp  # noqa: PLC0415

    started = time.perf_counter()
    try:
        async with session.post(
            f"{base}/{path}", data=body, headers={"Content-Type": "application/json"}, timeout=timeout
        ) as answer:
            payload = await answer.read()
            elapsed = time.perf_counter() - started
            if answer.status == 200:
                response = json.loads(payload)["response"]
                ok = isinstance(response.get("allowed"), bool) and (
                    response["allowed"] or bool(response.get("status", {}).get("message"))
                )
                return ("ok" if ok else f"crash: {payload[:300]!r}"), elapsed
            return (
                "ok" if 400 <= answer.status < 500 else f"crash: {answer.status} {payload[:300]!r}"
            ), elapsed
    except TimeoutError:
        return "hang", time.perf_counter() - started
    except aiohttp.ClientError as error:
        return f"crash: {error!r}", time.perf_counter() - started


def report(results: list[Figures]) -> str:
    rows = [
        "| target | engine | inputs | seconds | inputs/s | crashes | hangs | slowest input ms | corpus | coverage |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for result in results:
        rate = result.inputs / result.seconds if result.seconds else 0
        rows.append(
            f"| {result.target} | {result.engine} | {result.inputs:,} | {result.seconds} | {rate:,.0f} | "
            f"{result.crashes} | {result.hangs} | {result.slowest_ms} | {result.corpus or ''} | "
            f"{result.coverage or ''} |"
        )
    total = sum(result.inputs for result in results)
    rows.append(
        f"| **total** | | **{total:,}** | {sum(result.seconds for result in results):.1f} | | "
        f"{sum(r.crashes for r in results)} | {sum(r.hangs for r in results)} | | | |"
    )
    return "\n".join(rows)


if __name__ == "__main__":
    sys.exit(main())
