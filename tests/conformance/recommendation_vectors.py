"""Recommendation vectors: the operator's recommended layouts from usage, laid out by real Flink.

For seeded cases (a TaskManager configuration, the peaks a job's TaskManagers reported, a margin), the
operator's recommendation (``render.recommendation``: needs from the peaks, the sizing solver) is
turned into the configuration the reconciler would write (the spec with the recommendation's options,
resolved), and real Flink lays that configuration out. ``vectors-recommendations/<v>.jsonl`` holds one
line per case:

    {"id", "spec", "peaks", "config": {the written configuration}, "flink": {"ok", "bytes" | "message"}}

``test_recommendation_vectors.py`` recomputes every recommendation (it must be exactly the
configuration Flink was asked about), and checks Flink's own layout of it: accepted, equal to the
engine's to the byte, and meeting every observed peak plus the margin. Regenerate (Java 17 and the
oracle needed) with ``python -m tests.conformance.recommendation_vectors --oracle ../shared/oracle/flink-oracle``.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flink_tm_memory.api.v1alpha1 import Recommendations, UsagePeaks
from flink_tm_memory.memory.configuration import java_string
from flink_tm_memory.memory.sizes import MIB
from flink_tm_memory.render.plan import derive_memory_plan
from flink_tm_memory.render.recommendation import UsageSettings, in_effect, recommend, with_options
from tests.conformance.jsonl import read_jsonl

HERE = Path(__file__).resolve().parent
ROOT = HERE / "vectors-recommendations"
SEED = 20261208
COUNT = 40
VERSIONS = ("1.17.2", "1.18.1", "1.19.3", "1.20.5", "2.0.2", "2.1.3", "2.2.1", "2.3.0")
NOW = datetime(2026, 12, 8, tzinfo=UTC)

Case = dict[str, Any]

BASES: list[dict[str, Any]] = [
    {"taskmanager.memory.process.size": "4g"},
    {"taskmanager.memory.process.size": "8g", "taskmanager.numberOfTaskSlots": "4"},
    {"taskmanager.memory.process.size": "2g", "taskmanager.memory.managed.fraction": "0.6"},
    {"taskmanager.memory.flink.size": "3g", "taskmanager.memory.jvm-overhead.fraction": "0.2"},
    {"taskmanager.memory.process.size": "6g", "taskmanager.memory.task.off-heap.size": "256m"},
    {"taskmanager.memory.process.size": "16g", "taskmanager.memory.network.fraction": "0.2"},
]


def generate_cases(seed: int = SEED, count: int = COUNT) -> list[Case]:
    chooser = random.Random(seed)
    cases = []
    for index in range(count):
        base = BASES[index % len(BASES)]
        peaks = {
            "heap": chooser.randrange(32 * MIB, 6 << 30),
            "metaspace": chooser.randrange(16 * MIB, 512 * MIB),
            "managed": chooser.choice([0, chooser.randrange(0, 4 << 30)]),
            "network": chooser.randrange(0, 64 * MIB),
            "direct": chooser.randrange(0, 2 << 30),
        }
        margin = chooser.choice(["0%", "10%", "15%", "25%", "50%"])
        cases.append({"id": f"case-{index}", "config": base, "peaks": peaks, "margin": margin})
    return cases


def spec_for(case: Case, version: str) -> dict[str, Any]:
    return {
        "flinkVersion": ".".join(version.split(".")[:2]),
        "flinkConfiguration": dict(case["config"]),
        "recommendations": {
            "jobManager": {"url": "http://127.0.0.1:8081"},
            "window": "1h",
            "margin": case["margin"],
        },
    }


def recommended_config(case: Case, version: str) -> dict[str, str] | None:
    """The configuration the reconciler would write for the case's recommendation (None: none made)."""
    spec = spec_for(case, version)
    current = in_effect(spec, None)
    settings = UsageSettings.of(Recommendations.model_validate(spec["recommendations"]))
    peaks = dict(case["peaks"])
    # the direct peak is read beyond the network buffers (allocated whole at start): add them here
    if current is not None:
        peaks["direct"] += current.network_bytes
    answer = recommend(
        spec,
        current,
        UsagePeaks.model_validate(peaks),
        settings,
        observed_since=NOW - timedelta(hours=2),
        now=NOW,
    )
    if answer.target is None:
        return None
    plan = derive_memory_plan(with_options(spec, answer.target.options))
    assert plan.resolved is not None
    return {key: java_string(value) for key, value in plan.resolved.configuration.items()}


def ask(oracle: Path, version: str, questions: list[Case]) -> list[Case]:
    stdin = "".join(json.dumps(question) + "\n" for question in questions)
    completed = subprocess.run(
        [sys.executable, str(oracle), "--flink", version],
        input=stdin,
        stdout=subprocess.PIPE,
        encoding="utf-8",
        check=True,
    )
    return [json.loads(line) for line in completed.stdout.splitlines() if line.strip()]


def build(oracle: Path, version: str) -> list[Case]:
    lines = []
    questions = []
    for case in generate_cases():
        config = recommended_config(case, version)
        lines.append({**case, "recommended": config})
        if config is not None:
            questions.append({"id": case["id"], "config": config})
    answers = {answer["id"]: answer for answer in ask(oracle, version, questions)}
    for line in lines:
        answer = answers.get(line["id"])
        if answer is not None:
            line["flink"] = (
                {"ok": True, "bytes": answer["bytes"]}
                if answer["ok"]
                else {"ok": False, "message": answer["error"]["message"]}
            )
    return lines


def read(version: str) -> list[Case]:
    return read_jsonl(ROOT / f"{version}.jsonl")


def main() -> None:
    parser = argparse.ArgumentParser(description="Write vectors-recommendations/ from real Flink.")
    parser.add_argument("--oracle", type=Path, required=True)
    args = parser.parse_args()
    ROOT.mkdir(exist_ok=True)
    for version in VERSIONS:
        lines = build(args.oracle, version)
        (ROOT / f"{version}.jsonl").write_text(
            "".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8"
        )
        print(f"{version}: {sum('flink' in line for line in lines)} of {len(lines)} laid out by Flink")


if __name__ == "__main__":
    main()
