"""OOMKilled fix vectors: the operator's fixes for an OOM-killed TaskManager, and real Flink's layouts.

For a grid of specs (process sizes given as a Flink option or as ``spec.resources.memory``, hashmap
and RocksDB, limit factors, an overhead fraction, sizes given by heap and managed memory, steps), the
attribution (``render.oom``) proposes fixes for a pod that ran the operator's layout and was
OOM-killed. Flink is asked for the layout of the spec's configuration and of each fixed one (the
configuration the operator would derive from the changed spec). ``vectors-oom-fixes/<v>.jsonl``:

    {"id", "spec", "config", "flink": {answer}, "budgetBytes", "room",
     "fixes": [{"summary", "flinkConfiguration", "resources", "config", "flink": {answer}}]}

``test_oom_fix_vectors.py`` checks, with no Java: Flink accepts every fix; the engine's layout of each
fixed configuration is Flink's to the byte; the overhead fix keeps Flink's heap, direct memory,
metaspace and managed memory; and every fix gives the budget at least the room, in Flink's bytes.

Regenerate: ``.venv/bin/python -m tests.conformance.oom_fix_vectors --oracle ../shared/oracle/flink-oracle``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from flink_tm_memory.api.resolve import resolve_spec
from flink_tm_memory.api.v1alpha1 import FlinkTaskManagerMemorySpec
from flink_tm_memory.memory.configuration import java_string
from flink_tm_memory.render.oom import applied_fix, attribute, room_wanted
from flink_tm_memory.render.oom_pods import ContainerFacts
from flink_tm_memory.render.plan import derive_memory_plan
from flink_tm_memory.render.pod_resources import render_pod_resources
from tests.conformance.jsonl import read_jsonl

HERE = Path(__file__).resolve().parent
ROOT = HERE / "vectors-oom-fixes"
VERSIONS = ("1.17.2", "1.18.1", "1.19.3", "1.20.5", "2.0.2", "2.1.3", "2.2.1", "2.3.0")
PROCESS = "taskmanager.memory.process.size"

Case = dict[str, Any]


def specs(version: str) -> list[tuple[str, Case]]:
    """The grid of specs for one release, by id."""
    minor = ".".join(version.split(".")[:2])
    grid: list[tuple[str, Case]] = []
    for size in ("1g", "1728m", "4g", "16g", "64g"):
        for step in (0.25, 1.0):
            base: Case = {"flinkVersion": minor, "oomKills": {"step": step}}
            grid += [
                (f"{size}-hashmap-{step}", {**base, "flinkConfiguration": {PROCESS: size}}),
                (
                    f"{size}-rocksdb-{step}",
                    {**base, "flinkConfiguration": {PROCESS: size, "state.backend.type": "rocksdb"}},
                ),
            ]
        grid.append(
            (
                f"{size}-factor",
                {
                    "flinkVersion": minor,
                    "flinkConfiguration": {PROCESS: size},
                    "resources": {"memoryLimitFactor": 1.5},
                },
            )
        )
        grid.append(
            (
                f"{size}-fraction",
                {
                    "flinkVersion": minor,
                    "flinkConfiguration": {
                        PROCESS: size,
                        "taskmanager.memory.jvm-overhead.fraction": "0.2",
                        "taskmanager.memory.jvm-overhead.max": "2g",
                    },
                },
            )
        )
    grid += [
        ("resources-4Gi", {"flinkVersion": minor, "resources": {"memory": "4Gi"}}),
        (
            "resources-6000Mi-rocksdb",
            {
                "flinkVersion": minor,
                "resources": {"memory": "6000Mi"},
                "consumers": {"stateBackend": "rocksdb"},
            },
        ),
        (
            "heap-and-managed",
            {
                "flinkVersion": minor,
                "flinkConfiguration": {
                    "taskmanager.memory.task.heap.size": "1g",
                    "taskmanager.memory.managed.size": "2g",
                },
            },
        ),
        (
            "flink-size",
            {"flinkVersion": minor, "flinkConfiguration": {"taskmanager.memory.flink.size": "3g"}},
        ),
    ]
    return grid


def ran_layout(spec: Case) -> tuple[ContainerFacts, dict[str, Any]]:
    """What a pod that ran the operator's layout carries, and the status it was written with."""
    plan = derive_memory_plan(spec)
    assert plan.layout is not None, plan.conflicts
    assert plan.resolved is not None
    pod = render_pod_resources(plan.layout, plan.resolved.memory_limit_factor, plan.resolved.cpu_limit_factor)
    status = {"podResources": pod.to_manifest(), "dynamicConfigs": plan.layout.dynamic_configs()}
    return ContainerFacts(pod.limits.memory, pod.requests.memory, None, ()), status


def flink_config(spec: Case) -> dict[str, str]:
    """The configuration the operator derives from a spec, as Flink reads it (strings)."""
    resolved = resolve_spec(FlinkTaskManagerMemorySpec.model_validate(spec))
    return {key: java_string(value) for key, value in resolved.configuration.items()}


def proposed(spec: Case) -> dict[str, Any]:
    """The attribution's budget and fixes for a spec, with each fixed spec's configuration."""
    facts, status = ran_layout(spec)
    found = attribute(spec, status, facts, restart_count=1, kills_of_pod=1)
    step = float((spec.get("oomKills") or {}).get("step", 0.25))
    fixes = []
    for fix in found.fixes:
        resources = fix.resources.to_manifest() if fix.resources is not None else {}
        fixed = applied_fix(spec, fix.flink_configuration, resources)
        fixes.append(
            {
                "summary": fix.summary,
                "flinkConfiguration": fix.flink_configuration,
                "resources": resources,
                "config": flink_config(fixed),
            }
        )
    return {
        "budget": found.budget,
        "budgetBytes": found.budget_bytes,
        "room": room_wanted(found.budget_bytes, step),
        "config": flink_config(spec),
        "fixes": fixes,
    }


def ask(oracle: Path, version: str, cases: list[Case]) -> list[Case]:
    launcher = [] if os.access(oracle, os.X_OK) else [sys.executable]
    stdin = "".join(json.dumps(case) + "\n" for case in cases)
    done = subprocess.run(
        [*launcher, str(oracle), "--flink", version],
        input=stdin,
        stdout=subprocess.PIPE,
        encoding="utf-8",
        check=True,
    )
    answers = [json.loads(line) for line in done.stdout.split("\n") if line.strip()]
    if [answer["id"] for answer in answers] != [case["id"] for case in cases]:
        raise SystemExit(f"{version}: the oracle answered {len(answers)} of {len(cases)} cases")
    return answers


def _answer(answer: Case) -> Case:
    kept: Case = {key: answer[key] for key in ("ok", "bytes") if key in answer}
    if not answer.get("ok"):
        kept["message"] = (answer.get("error") or {}).get("message")
    return kept


def build(oracle: Path, version: str) -> list[Case]:
    lines = []
    questions: list[Case] = []
    for case_id, spec in specs(version):
        line = {"id": case_id, "spec": spec, **proposed(spec)}
        questions.append({"id": case_id, "config": line["config"]})
        for number, fix in enumerate(line["fixes"]):
            questions.append({"id": f"{case_id}#{number}", "config": fix["config"]})
        lines.append(line)
    answers = {answer["id"]: _answer(answer) for answer in ask(oracle, version, questions)}
    for line in lines:
        line["flink"] = answers[line["id"]]
        for number, fix in enumerate(line["fixes"]):
            fix["flink"] = answers[f"{line['id']}#{number}"]
    return lines


def on_file(version: str) -> list[Case]:
    return read_jsonl(ROOT / f"{version}.jsonl")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--oracle", required=True, type=Path)
    parser.add_argument("--versions", default=",".join(VERSIONS))
    args = parser.parse_args(argv)
    ROOT.mkdir(exist_ok=True)
    for version in args.versions.split(","):
        lines = build(args.oracle, version)
        text = "".join(json.dumps(line, sort_keys=True) + "\n" for line in lines)
        (ROOT / f"{version}.jsonl").write_text(text, encoding="utf-8")
        print(f"{version}: {len(lines)} cases, {sum(len(line['fixes']) for line in lines)} fixes")


if __name__ == "__main__":
    main()
