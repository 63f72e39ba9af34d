"""Sizing vectors: the engine's answers to generated needs, and real Flink's verdict on each.

``cases/sizing.jsonl`` holds seeded cases (``python -m tests.conformance.sizing_vectors`` writes it):
a user configuration (the shipped default, an explicit task heap, a fixed total Flink size, a managed
fraction of 0, a capped network, Flink 1.x's legacy heap, ...) and the needs of a job, some sizes in
whole MiB, some not. For every release, each case is sized by ``memory/sizing.py`` and two
configurations are asked of Flink: the user's with the answer (its layout must meet every need) and
the same with the process size 1 MiB smaller (Flink must reject it, or a need must go unmet).
``vectors-sizing/<v>.jsonl`` holds one line per case:

    {"id", "config", "needs", "answer": {"ok": true, "config": {...}} | {"ok": false, "message"},
     "flink": {"ok", "bytes" | "message"}, "smaller": {"ok", "bytes" | "message"}}

For a case the engine finds no size for, ``flink`` is Flink's verdict at the largest process size
(it must refuse, or leave a need unmet there). The questions depend on the engine's answers, so a
change of the search makes the file stale; ``test_sizing_vectors.py`` then says to run ``make vectors``.
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flink_tm_memory.memory.sizes import MAX_BYTES, MIB, parse_memory_size
from flink_tm_memory.memory.sizing import NEED_NAMES, UnmeetableNeedsError, size_for_needs
from tests.conformance.jsonl import read_jsonl

HERE = Path(__file__).resolve().parent
CASES = HERE / "cases" / "sizing.jsonl"
SIZING_ROOT = HERE / "vectors-sizing"
PROCESS_SIZE = "taskmanager.memory.process.size"
LARGEST = f"{MAX_BYTES // MIB}m"
SEED = 20261207
COUNT = 240

Case = dict[str, Any]
Ask = Callable[[list[Case]], list[Case]]
"""Sends oracle cases (``id``, ``config``) and returns Flink's answers in the same order."""

BASES: list[tuple[str, dict[str, str], tuple[str, ...]]] = [
    ("shipped", {"taskmanager.memory.process.size": "1728m"}, ()),
    ("empty", {}, ()),
    ("slots", {"taskmanager.numberOfTaskSlots": "4", "taskmanager.memory.process.size": "4g"}, ()),
    ("task-heap", {"taskmanager.memory.task.heap.size": "1g"}, ()),
    ("managed-size", {"taskmanager.memory.managed.size": "512m"}, ()),
    (
        "fine-grained",
        {"taskmanager.memory.task.heap.size": "1g", "taskmanager.memory.managed.size": "1g"},
        (),
    ),
    ("flink-size", {"taskmanager.memory.flink.size": "2g"}, ()),
    ("managed-none", {"taskmanager.memory.managed.fraction": "0"}, ()),
    ("network-capped", {"taskmanager.memory.network.max": "256m"}, ()),
    ("network-fraction", {"taskmanager.memory.network.fraction": "0.25"}, ()),
    (
        "overhead",
        {"taskmanager.memory.jvm-overhead.fraction": "0.2", "taskmanager.memory.jvm-overhead.max": "2g"},
        (),
    ),
    (
        "heap-and-network",
        {"taskmanager.memory.task.heap.size": "2g", "taskmanager.memory.network.max": "512m"},
        (),
    ),
    ("legacy-heap", {"taskmanager.heap.size": "1g"}, ("1.17", "1.18", "1.19", "1.20")),
    ("legacy-buffers", {"taskmanager.network.numberOfBuffers": "4096"}, ("1.17", "1.18", "1.19", "1.20")),
    ("refused", {"taskmanager.memory.network.fraction": "1.5"}, ()),
]
"""(name, configuration, releases it is for: all when empty)."""


def generate_cases(seed: int = SEED, count: int = COUNT) -> list[Case]:
    """Seeded cases: each base configuration with random needs (1 to 4 components)."""
    chooser = random.Random(seed)
    cases = []
    for number in range(count):
        name, config, _ = BASES[number % len(BASES)]
        picked = chooser.sample(NEED_NAMES, chooser.randint(1, 4))
        needs = {need: _random_size(chooser, need) for need in picked}
        cases.append({"id": f"{name}-{number}", "config": dict(config), "needs": needs})
    return cases


def _random_size(chooser: random.Random, need: str) -> str:
    top = {"jvmMetaspace": 2048, "frameworkHeap": 1024, "frameworkOffHeap": 1024, "jvmOverhead": 4096}.get(
        need, 65536
    )
    mib = chooser.randint(1, top)
    if chooser.random() < 0.25:
        return f"{mib * MIB + chooser.randint(1, MIB - 1)}b"  # not a whole MiB
    return f"{mib}m" if mib % 1024 else f"{mib // 1024}g"


def cases_for(version: str) -> list[Case]:
    releases = {name: only for name, _, only in BASES}
    return [
        case
        for case in read_jsonl(CASES)
        if not releases[case["id"].rsplit("-", 1)[0]]
        or any(version.startswith(release) for release in releases[case["id"].rsplit("-", 1)[0]])
    ]


def engine_answer(case: Case, version: str) -> Case:
    """What the engine answers for a case: the options to set, or why no size meets the needs."""
    needs = {name: parse_memory_size(size) for name, size in case["needs"].items()}
    try:
        sizing = size_for_needs(case["config"], needs, version)
    except UnmeetableNeedsError as error:
        return {"ok": False, "message": str(error)}
    return {"ok": True, "config": dict(sizing.changes)}


def smaller(process_size: str) -> str:
    return f"{parse_memory_size(process_size) // MIB - 1}m"


def build(version: str, ask: Ask) -> list[Case]:
    """Every case's answer with Flink's verdicts (one oracle batch for the whole version)."""
    lines: list[Case] = []
    questions: list[Case] = []
    for case in cases_for(version):
        answer = engine_answer(case, version)
        if answer["ok"]:
            sized = {**case["config"], **answer["config"]}
            less = {**sized, PROCESS_SIZE: smaller(answer["config"][PROCESS_SIZE])}
            questions += [
                {"id": f"{case['id']}/flink", "config": sized},
                {"id": f"{case['id']}/smaller", "config": less},
            ]
        else:
            questions.append(
                {"id": f"{case['id']}/flink", "config": {**case["config"], PROCESS_SIZE: LARGEST}}
            )
        lines.append({**case, "answer": answer})
    answers = {answer["id"]: verdict(answer) for answer in ask(questions)}
    for line in lines:
        line["flink"] = answers[f"{line['id']}/flink"]
        if line["answer"]["ok"]:
            line["smaller"] = answers[f"{line['id']}/smaller"]
    return lines


def verdict(answer: Case) -> Case:
    if answer["ok"]:
        return {"ok": True, "bytes": answer["bytes"]}
    return {"ok": False, "message": answer["error"]["message"]}


def meets(flink: Case, needs: dict[str, str]) -> bool:
    """Whether Flink's layout (a verdict) has every component at least its need."""
    return bool(flink["ok"]) and all(
        flink["bytes"][name] >= parse_memory_size(size) for name, size in needs.items()
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="Write cases/sizing.jsonl (seeded).")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--count", type=int, default=COUNT)
    args = parser.parse_args()
    cases = generate_cases(args.seed, args.count)
    CASES.write_text("".join(json.dumps(case) + "\n" for case in cases), encoding="utf-8")
    print(f"wrote {len(cases)} cases to {CASES.relative_to(HERE.parent.parent)}")


if __name__ == "__main__":
    main()
