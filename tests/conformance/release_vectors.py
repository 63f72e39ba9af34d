"""Managed-memory release vectors: the change the ``ManagedMemoryUnused`` note advises, and real Flink's verdict.

When no consumer takes managed memory, the note advises the smallest change that stops reserving it
(``render.managed_memory.release_managed_memory``): ``taskmanager.memory.managed.size: 0``, with the
task heap taking the room when that alone conflicts. For every public vector Flink lays out with some
managed memory, the advice is asked of Flink with the configuration it is for;
``vectors-release/<v>.jsonl`` holds one line per case:

    {"id", "managed", "release": {options} | null, "flink": {"ok", "bytes" | "message"}}

``flink`` is there only with advice, its bytes only for ``KEPT``; the configuration is the public
vector's of the same id. ``test_release_vectors.py`` checks that Flink accepts every piece of advice
with no managed memory and the room where the note says it goes, and that the engine still gives the
advice Flink was asked about (else ``make vectors`` makes the file again).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from flink_tm_memory.memory.versions import parse_flink_version
from flink_tm_memory.render.managed_memory import release_managed_memory
from tests.conformance.jsonl import read_jsonl

HERE = Path(__file__).resolve().parent
RELEASE_ROOT = HERE / "vectors-release"
PUBLIC_ROOT = HERE / "vectors"

Case = dict[str, Any]
Ask = Callable[[list[Case]], list[Case]]
"""Sends oracle cases (``id``, ``config``) and returns Flink's answers in the same order."""


def cases_for(version: str) -> list[Case]:
    """The public vectors Flink lays out with managed memory, with how much."""
    return [
        {"id": line["id"], "config": line["config"], "managed": line["expect"]["bytes"]["managed"]}
        for line in read_jsonl(PUBLIC_ROOT / f"{version}.jsonl")
        if line["expect"]["ok"] and line["expect"]["bytes"]["managed"] > 0
    ]


def engine_release(case: Case, version: str) -> dict[str, str] | None:
    return release_managed_memory(case["config"], parse_flink_version(version), case["managed"])


def build(version: str, ask: Ask) -> list[Case]:
    """Every case's advice with Flink's verdict on it (one oracle batch for the whole version)."""
    cases = cases_for(version)
    releases = {case["id"]: engine_release(case, version) for case in cases}
    questions = [
        {"id": case["id"], "config": {**case["config"], **release}}
        for case in cases
        if (release := releases[case["id"]])
    ]
    answers = {answer["id"]: verdict(answer) for answer in ask(questions)}
    lines: list[Case] = []
    for case in cases:
        line = {"id": case["id"], "managed": case["managed"], "release": releases[case["id"]]}
        if line["release"]:
            line["flink"] = answers[case["id"]]
        lines.append(line)
    return lines


KEPT = ("taskHeap", "managed", "totalFlink", "totalProcess")
"""Flink's components the advice is about: what it frees, where the room goes, and the totals."""


def verdict(answer: Case) -> Case:
    if answer["ok"]:
        return {"ok": True, "bytes": {name: answer["bytes"][name] for name in KEPT}}
    return {"ok": False, "message": answer["error"]["message"]}
