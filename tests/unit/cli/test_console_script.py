"""The installed ``flink-tm-memory`` script and ``python -m flink_tm_memory``, run as separate processes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(sys.executable).parent / "flink-tm-memory"
HEAVY = ("kopf", "kubernetes", "pydantic", "yaml")


def run(*command: str | Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, input=stdin, capture_output=True, text=True, check=False, timeout=60)


def test_the_console_script_and_python_m_answer_alike() -> None:
    script = run(SCRIPT, "derive", "--format", "flink")
    module = run(sys.executable, "-m", "flink_tm_memory", "derive", "--format", "flink")

    assert script.returncode == module.returncode == 0
    assert script.stdout == module.stdout
    assert "BASH_JAVA_UTILS_EXEC_RESULT:-Xmx536870902 -Xms536870902" in script.stdout


@pytest.mark.parametrize(
    ("args", "code"),
    [((), 0), (("-D", "taskmanager.memory.process.size=1.5g"), 1), (("-D", "oops"), 2)],
)
def test_the_exit_code_tells_success_rejection_and_misuse_apart(args: tuple[str, ...], code: int) -> None:
    assert run(SCRIPT, "derive", *args).returncode == code


@pytest.mark.parametrize(
    ("args", "imports_yaml"),
    [(["derive"], False), (["derive", "--format", "json"], False), (["derive", "--format", "yaml"], True)],
)
def test_a_one_shot_derive_imports_no_kubernetes_stack_and_yaml_only_when_asked(
    args: list[str], imports_yaml: bool
) -> None:
    probe = (
        "import sys, contextlib, io\n"
        "from flink_tm_memory.cli import main\n"
        f"with contextlib.redirect_stdout(io.StringIO()): main({args!r})\n"
        f"print(sorted({{name.split('.')[0] for name in sys.modules}} & set({HEAVY!r})))"
    )

    loaded = json.loads(run(sys.executable, "-c", probe).stdout.replace("'", '"'))

    assert loaded == (["yaml"] if imports_yaml else [])


def test_jsonl_streams_through_the_console_script() -> None:
    cases = '{"id": "a", "config": {"taskmanager.memory.process.size": "1728m"}}\n{"id": "b", "config": {}}\n'

    result = run(SCRIPT, "derive", "--jsonl", "--flink-version", "2.2.1", stdin=cases)

    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(answer["id"], answer["ok"]) for answer in answers] == [("a", True), ("b", False)]
    assert (
        answers[0]["jvmParams"]
        == "-Xmx536870902 -Xms536870902 -XX:MaxDirectMemorySize=268435458 -XX:MaxMetaspaceSize=268435456"
    )


def test_a_reader_that_stops_early_gets_no_traceback() -> None:
    pipeline = (
        f'yes \'{{"config": {{"taskmanager.memory.process.size": "1g"}}}}\' | head -n 20000 '
        f"| '{SCRIPT}' derive --jsonl | head -n 1"
    )

    result = subprocess.run(["sh", "-c", pipeline], capture_output=True, text=True, check=False, timeout=120)

    assert result.stdout.startswith('{"id": "1", "ok": true')
    assert result.stderr == ""
