"""Fix vectors: the engine's fixes for every rejected tm vector, and real Flink's verdict on each.

For every case Flink rejects in ``vectors/<v>.jsonl`` and ``vectors-own/<v>.jsonl``, the engine
proposes fixes (``memory/fixes.py``). Each fix is applied to the case's configuration and asked of
Flink; so is, for every size the fix changes, the same fix with that size 1 MiB closer to the user's
value (the minimality rule: Flink must reject it). ``vectors-fixes/<v>.jsonl`` holds one line per
rejected case:

    {"id", "suite": "public"|"own", "fixes": [{"set": {key: value}, "unset": [key],
      "flink": {"ok": true}, "closer": [{"key", "value", "flink": {"ok": false, "message": ...}}]}]}

``flink`` is Flink's answer (``ok``, and for a rejection the message of its innermost configuration
error). The questions depend on the engine's proposals, so a change of the search makes the file
stale; ``test_fix_vectors.py`` then says to run ``make vectors``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from flink_tm_memory.memory.fixes import Change, closer_by_one_mib, final_effects, search_changes
from tests.conformance.jsonl import read_jsonl

HERE = Path(__file__).resolve().parent
SOURCES = {"public": HERE / "vectors", "own": HERE / "vectors-own"}
FIX_ROOT = HERE / "vectors-fixes"

Case = dict[str, Any]
Ask = Callable[[list[Case]], list[Case]]
"""Sends oracle cases (``id``, ``config``) and returns Flink's answers in the same order."""


def rejected_cases(version: str) -> Iterator[tuple[str, Case]]:
    """(suite, case) for every tm vector of ``version`` that Flink rejects."""
    for suite, root in SOURCES.items():
        path = root / f"{version}.jsonl"
        if path.exists():
            for case in read_jsonl(path):
                if not case["expect"]["ok"]:
                    yield suite, case


def proposed(case: Case, version: str) -> list[dict[str, Any]]:
    """The engine's fixes for a case as vector entries without Flink's answers: set, unset, closer."""
    entries = []
    for changes in search_changes(case["config"], version):
        final = final_effects(changes)
        entries.append(
            {
                "set": {key: value for key, value in final.items() if value is not None},
                "unset": [key for key, value in final.items() if value is None],
                "closer": [{"key": closer.key, "value": closer.value} for closer in _closer(changes)],
            }
        )
    return entries


def _closer(changes: tuple[Change, ...]) -> Iterator[Change]:
    for change in changes:
        closer = closer_by_one_mib(change)
        if closer is not None:
            yield closer


def fixed_config(case: Case, fix: dict[str, Any]) -> Case:
    config = {key: value for key, value in case["config"].items() if key not in fix["unset"]}
    config.update(fix["set"])
    return config


def build(version: str, ask: Ask) -> list[Case]:
    """Every rejected case's fixes with Flink's verdicts (one oracle batch for the whole version)."""
    lines: list[Case] = []
    questions: list[Case] = []
    for suite, case in rejected_cases(version):
        fixes = proposed(case, version)
        for number, fix in enumerate(fixes):
            config = fixed_config(case, fix)
            questions.append({"id": f"{suite}/{case['id']}/{number}", "config": config})
            for index, closer in enumerate(fix["closer"]):
                moved = {**config, closer["key"]: closer["value"]}
                questions.append({"id": f"{suite}/{case['id']}/{number}/{index}", "config": moved})
        lines.append({"id": case["id"], "suite": suite, "fixes": fixes})
    answers = {answer["id"]: verdict(answer) for answer in ask(questions)}
    for line in lines:
        for number, fix in enumerate(line["fixes"]):
            prefix = f"{line['suite']}/{line['id']}/{number}"
            fix["flink"] = answers[prefix]
            for index, closer in enumerate(fix["closer"]):
                closer["flink"] = answers[f"{prefix}/{index}"]
    return lines


def verdict(answer: Case) -> Case:
    if answer["ok"]:
        return {"ok": True}
    return {"ok": False, "message": answer["error"]["message"]}


def without_answers(fix: dict[str, Any]) -> dict[str, Any]:
    return {
        "set": fix["set"],
        "unset": fix["unset"],
        "closer": [{"key": closer["key"], "value": closer["value"]} for closer in fix["closer"]],
    }
