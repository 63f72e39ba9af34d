"""The runtime dependencies are locked with hashes, and the lock is the one pyproject.toml asks for.

``requirements.lock`` (``make lock``: pip-compile ``--generate-hashes`` of pyproject.toml) is what the
image installs, with ``--require-hashes --no-deps``. It must pin every dependency of pyproject.toml
to a version its specifier allows, name them (and only them) as the direct ones, hash every file,
and hold nothing of the ``dev`` extra. The SBOM tool's lock (``requirements-sbom.lock``, from
``requirements-sbom.in``) is held to the same form. Each check also runs on a broken lock, to show it
can fail.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from tests.meta.lockfile import ROOT, RUNTIME_LOCK, SBOM_LOCK, Locked, normalized, read_lock

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PROJECT = PYPROJECT["project"]["name"]


def lock_problems(locked: dict[str, Locked], requirements: list[str], source: str) -> list[str]:
    """How ``locked`` fails to be the hashed lock of ``requirements`` (read from ``source``)."""
    problems = []
    wanted = {normalized(Requirement(text).name): Requirement(text) for text in requirements}
    for name, requirement in wanted.items():
        if name not in locked:
            problems.append(f"{requirement} is not locked")
        elif not requirement.specifier.contains(locked[name].version, prereleases=True):
            problems.append(f"{name}=={locked[name].version} does not satisfy {requirement}")
    direct = {name for name, item in locked.items() if any(source in via for via in item.via)}
    problems.extend(
        f"{name} is locked as required by {source}, which does not ask for it"
        for name in sorted(direct - set(wanted))
    )
    problems.extend(
        f"{name} is not marked as required by {source}" for name in sorted(set(wanted) & set(locked) - direct)
    )
    problems.extend(
        f"{name}=={item.version} has no hash" for name, item in sorted(locked.items()) if not item.hashes
    )
    problems.extend(f"{name} is required by nothing" for name, item in sorted(locked.items()) if not item.via)
    return problems


def test_the_runtime_lock_pins_exactly_pyprojects_dependencies_with_hashes() -> None:
    locked = read_lock(RUNTIME_LOCK)
    assert lock_problems(locked, PYPROJECT["project"]["dependencies"], "pyproject.toml") == []
    dev = {
        normalized(Requirement(text).name) for text in PYPROJECT["project"]["optional-dependencies"]["dev"]
    }
    assert not dev & set(locked), "the dev extra's tools are not runtime dependencies"
    assert normalized(PROJECT) not in locked  # the project is installed from the source, without deps


def test_the_sbom_tools_lock_pins_it_with_hashes() -> None:
    requirements = [
        line.strip()
        for line in (ROOT / "requirements-sbom.in").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    locked = read_lock(SBOM_LOCK)
    assert lock_problems(locked, requirements, "requirements-sbom.in") == []
    assert "cyclonedx-bom" in locked


def test_the_makefile_refreshes_both_locks_with_hashes() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    compile_line = makefile.split("\nPIP_COMPILE :=", 1)[1].splitlines()[0]
    assert "pip-compile" in compile_line
    assert "--generate-hashes" in compile_line
    recipe = makefile.split("\nlock:", 1)[1].split("\n\n", 1)[0]
    for output, source in (
        ("requirements.lock", "pyproject.toml"),
        ("requirements-sbom.lock", "requirements-sbom.in"),
    ):
        [line] = [line for line in recipe.splitlines() if f"--output-file {output} " in line]
        assert line.startswith("\t$(PIP_COMPILE) "), line
        assert line.rstrip().endswith(f" {source}"), line


BROKEN: list[tuple[str, str, str, str]] = [
    ("unhashed", r"(?m)^(durationpy==\S+ \\\n)(\s+--hash=\S+( \\)?\n)+", r"\1", "has no hash"),
    ("too-old", r"(?m)^pyyaml==\S+ ", "pyyaml==5.4 ", "does not satisfy"),
    ("missing", r"(?ms)^prometheus-client==.*?(?=^[a-z])", "", "is not locked"),
    (
        "not-direct",
        r"via flink-tm-memory-operator \(pyproject.toml\)\n(?=kubernetes==)",
        "via kopf\n",
        "not marked",
    ),
]


@pytest.mark.parametrize(
    ("name", "pattern", "replacement", "problem"), BROKEN, ids=[case[0] for case in BROKEN]
)
def test_each_check_fails_on_a_broken_lock(
    tmp_path: Path, name: str, pattern: str, replacement: str, problem: str
) -> None:
    text, count = re.subn(pattern, replacement, RUNTIME_LOCK.read_text(encoding="utf-8"), count=1)
    assert count == 1, f"{name}: the mutation {pattern!r} no longer matches requirements.lock: update it"
    broken = tmp_path / "requirements.lock"
    broken.write_text(text, encoding="utf-8")
    problems = lock_problems(read_lock(broken), PYPROJECT["project"]["dependencies"], "pyproject.toml")
    assert any(problem in found for found in problems), problems


def test_a_line_pip_compile_does_not_write_is_refused(tmp_path: Path) -> None:
    broken = tmp_path / "requirements.lock"
    broken.write_text("kopf>=1.37\n", encoding="utf-8")
    with pytest.raises(ValueError, match="not a line pip-compile writes"):
        read_lock(broken)
