"""A one-shot ``flink-tm-memory derive`` imports nothing that slows its start: a speed test that times nothing.

The command must answer at least 10x faster than Flink's ``BashJavaUtils`` (``benchmarks/run.py``
measures it), and at a few tens of milliseconds the imports are most of the answer. ``dataclasses``
(which imports ``inspect``) and ``typing`` cost about a quarter of it, the operator's dependencies far
more; ``memory/records.py`` explains how the derive path does without them. Timing the command here
would be flaky; checking what it imported is not.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SLOW_TO_IMPORT = frozenset({"dataclasses", "inspect", "typing", "kopf", "kubernetes", "pydantic", "yaml"})
# Cut for issue 17 (benchmarks/README.md, "One-shot start-up"): the simple command line is read without
# argparse (which brings gettext and locale), sizes and releases are scanned without re, Java's
# BigDecimal arithmetic is done in exact integers without decimal (with numbers), the memory core's
# closed sets are memory/constants.py's Named instead of enums, and its caches are dicts instead of
# functools' (enum and functools bring collections).
CUT_FROM_THE_ONE_SHOT_PATH = frozenset(
    {
        "argparse",
        "gettext",
        "locale",
        "re",
        "decimal",
        "numbers",
        "fractions",
        "enum",
        "functools",
        "collections",
    }
)

# Modules already loaded by the interpreter's start (site, .pth files) are not the command's doing.
_PROBE = """\
import sys
already_loaded = set(sys.modules)
from flink_tm_memory.cli import main
main(sys.argv[1:])
print(*sorted(set(sys.modules) - already_loaded), sep="\\n", file=sys.stderr)
"""


def imported_by(*arguments: str) -> set[str]:
    """The top-level names of the modules the command imported, run in a fresh interpreter."""
    return {name.split(".")[0] for name in modules_imported_by(*arguments)}


def modules_imported_by(*arguments: str) -> set[str]:
    """The full names of the modules the command imported, run in a fresh interpreter."""
    environment = {**os.environ, "PYTHONPATH": str(ROOT / "operator")}
    completed = subprocess.run(
        [sys.executable, "-c", _PROBE, *arguments],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        env=environment,
    )
    assert completed.stdout, completed.stderr
    return set(completed.stderr.splitlines())


@pytest.mark.parametrize(
    "arguments",
    [
        pytest.param(("derive",), id="table-shipped-default"),
        pytest.param(("derive", "-D", "taskmanager.memory.process.size=1m"), id="table-rejected"),
        pytest.param(
            (
                "derive",
                "--format",
                "flink",
                "--flink-version",
                "2.2.1",
                "-D",
                "taskmanager.memory.process.size=1728m",
            ),
            id="flink-as-benchmarked",
        ),
    ],
)
def test_a_one_shot_derive_imports_nothing_slow(arguments: tuple[str, ...]) -> None:
    assert imported_by(*arguments) & SLOW_TO_IMPORT == set()


@pytest.mark.parametrize(
    "arguments",
    [
        pytest.param(("derive",), id="table-shipped-default"),
        pytest.param(
            ("derive", "--format", "flink", "-D", "taskmanager.memory.process.size=1728m"),
            id="as-benchmarked",
        ),
        pytest.param(
            (
                "derive",
                "--format",
                "flink",
                "--flink-version",
                "v1.20.1",
                "-D",
                "taskmanager.memory.flink.size=2g",
            ),
            id="flink-release-name",
        ),
    ],
)
def test_an_accepted_one_shot_derive_imports_none_of_what_was_cut(arguments: tuple[str, ...]) -> None:
    # A rejected configuration also gets its fixes (memory/fixes.py), whose search needs fractions
    # (and with them decimal and re), as does a number option given as text (taskmanager.cpu.cores:
    # javanum's exact Java parse) and json output (json imports re); the benchmarked case needs none.
    assert imported_by(*arguments) & CUT_FROM_THE_ONE_SHOT_PATH == set()


def test_the_probe_sees_argparse_when_the_form_is_not_the_simple_one() -> None:
    # --format=flink is argparse's business (cli/quick_arguments.py): proof the check above can fail.
    imported = imported_by("derive", "--format=flink", "-D", "taskmanager.memory.process.size=1728m")
    assert {"argparse", "re"} <= imported


def test_the_probe_sees_a_slow_import() -> None:
    # --format yaml imports yaml on purpose: proof that the check above can fail.
    assert "yaml" in imported_by("derive", "--format", "yaml")


OPERATOR_LAYERS = ("api", "render", "cluster", "control", "runtime", "handlers", "service")


def test_a_one_shot_derive_imports_none_of_the_operators_layers() -> None:
    # Only the command line and the memory core: the operator's layers (and what they import) are for
    # `run`; a one-shot run also builds only the arguments of the command it names (cli/arguments.py).
    imported = modules_imported_by(
        "derive", "--format", "flink", "-D", "taskmanager.memory.process.size=1728m"
    )
    assert {
        name for name in imported if name.split(".")[1:2] and name.split(".")[1] in OPERATOR_LAYERS
    } == set()
    assert "flink_tm_memory.memory.engine" in imported  # the probe sees the package's own modules


def test_the_probe_sees_an_operator_layer() -> None:
    # webhook-configurations renders manifests (render.webhook_configurations): proof the check can fail.
    imported = modules_imported_by("webhook-configurations")
    assert any(name.startswith("flink_tm_memory.render") for name in imported)


def test_an_accepted_one_shot_derive_loads_no_key_table_and_no_utf16_codec_module() -> None:
    # Every TaskManager key of every release (memory/taskmanager_keys.py) is for "did you mean" on keys
    # the engine does not read; Java's UTF-16 code units come from the codec function itself.
    imported = modules_imported_by(
        "derive", "--format", "flink", "-D", "taskmanager.memory.process.size=1728m"
    )
    assert imported & {"flink_tm_memory.memory.taskmanager_keys", "encodings.utf_16_be"} == set()
    misspelled = modules_imported_by(
        "derive", "-D", "taskmanager.memory.process.size=1728m", "-D", "taskmanager.numberOfTaskSlot=2"
    )
    assert "flink_tm_memory.memory.taskmanager_keys" in misspelled  # the probe sees it when it is needed
