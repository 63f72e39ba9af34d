"""The container image is built as the deployment needs it: checked without a Docker engine.

The ``Dockerfile`` is read by a small parser of its own (instructions, line continuations, comments,
build stages, ``ARG`` defaults), so these checks need no Docker engine, and checked for what the pod
relies on: a slim multi-stage build, a numeric non-root user, the console script as entry point, the
runtime dependencies of ``pyproject.toml`` and nothing of the ``dev`` extra, no installer left at run
time whoever installed it (pip itself in the official ``python`` images, dpkg on a Debian python base
such as the e2e node's, ``tests/e2e/node/images.py``, which builds this Dockerfile for real), no writes
at run time (bytecode compiled at build time), and a build context that leaves out ``.git``, ``.venv``
and the tests. Every check is also run on a deliberately broken copy of the files, to show that it can
fail.
"""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"

# Named here as well as read from the dev extra: they stay out of the image even if the extra changes.
DEV_TOOLS = frozenset({"pytest", "ruff", "mypy", "hypothesis", "kmock"})
CONSOLE_SCRIPT_TARGET = "flink_tm_memory.cli:main"
LOCK_FILE = "requirements.lock"
SBOM_PATH = "/usr/share/doc/flink-tm-memory-operator/sbom.cdx.json"
PORTS = frozenset({"8080", "8081", "9443"})  # liveness, metrics and readiness, admission webhooks
# Options (pip's, compileall's) followed by a value as a separate word.
OPTIONS_WITH_VALUE = frozenset(
    {"--python", "-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-t", "--target", "-i"}
    | {"--prefix", "--root", "--index-url", "--extra-index-url", "-f", "--find-links", "--platform"}
    | {"--only-binary", "--no-binary", "-j", "--invalidation-mode", "-x", "-d", "-s", "-p", "-o"}
    | {"--output-file", "--output-format", "--of", "--pyproject"}  # cyclonedx-py's
)


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str
    line: int


@dataclass(frozen=True)
class Stage:
    image: str
    name: str | None
    instructions: tuple[Instruction, ...]

    def every(self, keyword: str) -> list[Instruction]:
        return [instruction for instruction in self.instructions if instruction.keyword == keyword]

    def last(self, keyword: str) -> Instruction | None:
        found = self.every(keyword)
        return found[-1] if found else None


@dataclass(frozen=True)
class PipCommand:
    target: str | None  # the environment it works on: a venv's directory, None for the image's Python
    subcommand: str | None
    options: tuple[str, ...]
    requirements: tuple[str, ...]
    requirement_files: tuple[str, ...] = ()  # -r / --requirement


@dataclass(frozen=True)
class Build:
    stages: tuple[Stage, ...]
    ignore_patterns: tuple[tuple[bool, re.Pattern[str]], ...]  # (re-included with "!", pattern)
    project: dict[str, Any]

    @property
    def final(self) -> Stage:
        return self.stages[-1]


# ---- the parser ----


def parse_instructions(text: str) -> list[Instruction]:
    """Instructions with their continuation lines joined; comments (also inside continuations) dropped."""
    instructions: list[Instruction] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):  # Docker skips both, also inside a continuation
            continue
        if not pending:
            start = number
        if line.endswith("\\"):
            pending.append(line[:-1].strip())
            continue
        pending.append(line)
        keyword, _, arguments = " ".join(part for part in pending if part).partition(" ")
        instructions.append(Instruction(keyword.upper(), arguments.strip(), start))
        pending = []
    assert not pending, f"the Dockerfile ends inside the instruction of line {start}"
    return instructions


def parse_stages(text: str) -> tuple[Stage, ...]:
    """The build stages, with ``$NAME`` and ``${NAME}`` in FROM replaced by the global ARG defaults."""
    defaults: dict[str, str] = {}
    stages: list[Stage] = []
    for instruction in parse_instructions(text):
        if instruction.keyword == "FROM":
            words = [word for word in instruction.arguments.split() if not word.startswith("--")]
            image = re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: defaults[m[1] or m[2]], words[0])
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            stages.append(Stage(image, name, ()))
        elif stages:
            last = stages[-1]
            stages[-1] = Stage(last.image, last.name, (*last.instructions, instruction))
        else:
            assert instruction.keyword == "ARG", f"line {instruction.line}: only ARG may precede FROM"
            key, _, default = instruction.arguments.partition("=")
            defaults[key.strip()] = default.strip().strip('"')
    return tuple(stages)


def shell_commands(instruction: Instruction) -> Iterator[list[str]]:
    """The words of each command of a RUN: exec form, or shell form split at ``&&``, ``||``, ``;`` and ``|``."""
    if instruction.arguments.startswith("["):
        yield json.loads(instruction.arguments)
        return
    for command in re.split(r"&&|\|\||;|\|", instruction.arguments):
        if command.strip():
            yield shlex.split(command)


def options_and_words(words: list[str]) -> tuple[list[str], list[tuple[str, str]]]:
    """Splits a command's words into plain words and (option, value) pairs; flags get an empty value."""
    plain: list[str] = []
    options: list[tuple[str, str]] = []
    remaining = iter(words)
    for word in remaining:
        if word.startswith("-"):
            option, has_value, value = word.partition("=")
            if not has_value and option in OPTIONS_WITH_VALUE:
                value = next(remaining, "")
            options.append((option, value))
        else:
            plain.append(word)
    return plain, options


def environment_of(interpreter: str) -> str | None:
    """``/opt/venv/bin/python`` (or ``pip``) belongs to ``/opt/venv``; a bare ``python`` to the image's."""
    path = PurePosixPath(interpreter)
    return str(path.parent.parent) if path.parent.name == "bin" and path.parent.parent.name else None


def pip_command(words: list[str]) -> PipCommand | None:
    if not words:
        return None
    program = PurePosixPath(words[0]).name
    if program in {"pip", "pip3"}:
        rest = words[1:]
    elif program.startswith("python") and words[1:3] == ["-m", "pip"]:
        rest = words[3:]
    else:
        return None
    plain, options = options_and_words(rest)
    target = environment_of(words[0])
    for option, value in options:
        if option == "--python":
            target = environment_of(value)
    requirements = plain[1:] + [f"-e {value}" for option, value in options if option in {"-e", "--editable"}]
    return PipCommand(
        target=target,
        subcommand=plain[0] if plain else None,
        options=tuple(option for option, _ in options),
        requirements=tuple(requirements),
        requirement_files=tuple(value for option, value in options if option in {"-r", "--requirement"}),
    )


def pip_commands(stage: Stage) -> list[PipCommand]:
    found = (pip_command(words) for run in stage.every("RUN") for words in shell_commands(run))
    return [command for command in found if command is not None]


def venvs_created(stage: Stage) -> set[str]:
    return {
        options_and_words(words)[0][-1]
        for run in stage.every("RUN")
        for words in shell_commands(run)
        if words[1:3] == ["-m", "venv"]
    }


def compiled_paths(stage: Stage) -> set[str]:
    """The paths a RUN of the stage compiles to bytecode (``python -m compileall ... PATH``)."""
    paths: set[str] = set()
    for run in stage.every("RUN"):
        for words in shell_commands(run):
            if words[1:3] == ["-m", "compileall"]:
                paths.update(options_and_words(words[3:])[0])
    return paths


@dataclass(frozen=True)
class Copy:
    instruction: Instruction
    from_stage: str | None  # None: from the build context
    sources: tuple[str, ...]
    destination: str


def copies(stage: Stage) -> list[Copy]:
    found: list[Copy] = []
    for instruction in stage.every("COPY") + stage.every("ADD"):
        words = shlex.split(instruction.arguments)
        flags: dict[str, str] = {}
        for word in words:
            if word.startswith("--"):
                name, _, value = word.removeprefix("--").partition("=")
                flags[name] = value
        paths = [word for word in words if not word.startswith("--")]
        if paths and paths[0].startswith("["):
            paths = json.loads(" ".join(paths))
        found.append(Copy(instruction, flags.get("from"), tuple(paths[:-1]), paths[-1]))
    return found


def environment(stage: Stage) -> dict[str, str]:
    variables: dict[str, str] = {}
    for instruction in stage.every("ENV"):
        words = shlex.split(instruction.arguments)
        if words and "=" not in words[0]:  # the legacy `ENV KEY value` form
            variables[words[0]] = " ".join(words[1:])
        else:
            for word in words:
                name, _, value = word.partition("=")
                variables[name] = value
    return variables


def parse_ignore_patterns(text: str) -> tuple[tuple[bool, re.Pattern[str]], ...]:
    """``.dockerignore`` as Docker reads it: ``*``, ``?``, ``**``, ``!`` re-includes, the last match wins."""
    patterns: list[tuple[bool, re.Pattern[str]]] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        reincluded = line.startswith("!")
        pattern = line.removeprefix("!").strip().strip("/")
        regex = re.sub(
            r"\*\*/|\*\*|\*|\?|[^*?]+",
            lambda m: {"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}.get(m[0], re.escape(m[0])),
            pattern,
        )
        patterns.append((reincluded, re.compile(regex)))
    return tuple(patterns)


def is_ignored(path: str, patterns: tuple[tuple[bool, re.Pattern[str]], ...]) -> bool:
    # A pattern matching a directory applies to everything inside it (Docker's MatchesOrParentMatches).
    parts = path.split("/")
    prefixes = ["/".join(parts[:length]) for length in range(1, len(parts) + 1)]
    ignored = False
    for reincluded, pattern in patterns:
        if any(pattern.fullmatch(prefix) for prefix in prefixes):
            ignored = not reincluded
    return ignored


def normalized(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
    assert match, requirement
    return re.sub(r"[-_.]+", "-", match[0]).lower()


def load_build(dockerfile: str, dockerignore: str) -> Build:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return Build(parse_stages(dockerfile), parse_ignore_patterns(dockerignore), project)


def the_build() -> Build:
    return load_build(DOCKERFILE.read_text(encoding="utf-8"), DOCKERIGNORE.read_text(encoding="utf-8"))


def copied_venv(build: Build) -> tuple[Stage, str] | None:
    """The build stage and the venv the final stage copies its packages from."""
    for copy in copies(build.final):
        for stage in build.stages[:-1]:
            if stage.name == copy.from_stage:
                created = venvs_created(stage) & set(copy.sources)
                if created:
                    return stage, created.pop()
    return None


# ---- the checks: each returns what is wrong, an empty list when nothing is ----


def multi_stage_problems(build: Build) -> list[str]:
    problems = []
    if len(build.stages) < 2:
        problems.append(f"{len(build.stages)} stage(s): a build stage and a runtime stage are needed")
    match = re.fullmatch(r"python:(\d+)\.(\d+)\.\d+-slim(?:-\w+)?", build.final.image)
    if match is None:
        problems.append(f"the final base {build.final.image!r} is not a python slim image pinned to a patch")
        return problems
    required = re.fullmatch(r">=\s*(\d+)\.(\d+)", build.project["requires-python"])
    assert required, "requires-python is no longer a plain >=X.Y: teach this check to read it"
    if (int(match[1]), int(match[2])) < (int(required[1]), int(required[2])):
        problems.append(f"{build.final.image} does not satisfy requires-python {required[0]}")
    names = {stage.name for stage in build.stages if stage.name}
    if any(stage.image != build.final.image and stage.image not in names for stage in build.stages):
        problems.append("the stages use different bases: the venv's python is a symlink into the base")
    return problems


def user_problems(build: Build) -> list[str]:
    user = build.final.last("USER")
    if user is None:
        return ["the final stage has no USER: the operator would run as root"]
    problems = []
    ids = user.arguments.split(":")
    for part in ids:
        if not part.isdigit():
            problems.append(f"USER {user.arguments}: runAsNonRoot can only be verified for a numeric id")
        elif int(part) == 0:
            problems.append(f"USER {user.arguments}: id 0 is root")
    runs = " ".join(run.arguments for run in build.final.every("RUN"))
    if ids[0].isdigit() and not re.search(rf"useradd\b[^&;]*--uid[= ]{ids[0]}\b", runs):
        problems.append(f"no user with id {ids[0]} is created (HOME, and tools that look up the user)")
    if len(ids) == 2 and ids[1].isdigit() and not re.search(rf"groupadd\b[^&;]*--gid[= ]{ids[1]}\b", runs):
        problems.append(f"no group with id {ids[1]} is created")
    return problems


SHELL_KEYWORDS = frozenset({"if", "then", "else", "elif", "do", "!"})
INSTALLER = frozenset({"pip", "setuptools", "wheel"})
DEBIAN_INSTALLER = frozenset({"python3-pip", "python3-setuptools", "python3-wheel"})


def without_keywords(words: list[str]) -> list[str]:
    """A command's words without the shell keywords in front of it (``then dpkg ...`` is ``dpkg ...``)."""
    index = 0
    while index < len(words) and words[index] in SHELL_KEYWORDS:
        index += 1
    return words[index:]


def purged_packages(words: list[str]) -> set[str]:
    """The packages a ``dpkg --purge``/``-P``/``-r`` or ``apt-get purge``/``remove`` removes."""
    if not words:
        return set()
    plain, options = options_and_words(words[1:])
    program = PurePosixPath(words[0]).name
    if program == "dpkg" and {"--purge", "-P", "--remove", "-r"} & {option for option, _ in options}:
        return set(plain)
    if program in {"apt-get", "apt"} and plain[:1] in (["purge"], ["remove"]):
        return set(plain[1:])
    return set()


def installer_problems(build: Build) -> list[str]:
    """The final stage removes pip, setuptools and wheel through whichever package manager owns them.

    In the official images pip installed itself (and setuptools and wheel) under ``/usr/local``, and
    uninstalls them. On a Debian python base they are ``python3-pip`` and its dependencies, owned by
    dpkg: pip refuses to uninstall them (PEP 668, ``externally-managed-environment``), and forcing it
    (``--break-system-packages``, or deleting the ``EXTERNALLY-MANAGED`` marker) would remove files dpkg
    still lists. So one RUN asks dpkg whether it owns python3-pip and purges with dpkg if so, with pip
    otherwise.
    """
    problems = []
    runs = build.final.every("RUN")
    found = [
        (run, [without_keywords(words) for words in shell_commands(run)], shell_commands(run)) for run in runs
    ]
    by_pip = [
        run
        for run, commands, _ in found
        for command in map(pip_command, commands)
        if command is not None
        and command.target is None
        and command.subcommand == "uninstall"
        and set(command.requirements) >= INSTALLER
    ]
    by_dpkg = [
        run for run, commands, _ in found if any(purged_packages(c) >= DEBIAN_INSTALLER for c in commands)
    ]
    if not by_pip:
        problems.append(f"{sorted(INSTALLER)} are not all uninstalled by pip: the official images keep them")
    if not by_dpkg:
        problems.append(
            f"{sorted(DEBIAN_INSTALLER)} are not all purged by dpkg: on a Debian python base pip refuses to"
            " uninstall them (PEP 668)"
        )
    guarded = [
        run
        for run, _, raw in found
        if any(words[:2] == ["if", "dpkg-query"] and "python3-pip" in words for words in raw)
    ]
    if by_pip and by_dpkg and not set(map(id, by_pip)) & set(map(id, by_dpkg)) & set(map(id, guarded)):
        problems.append(
            "pip's uninstall and dpkg's purge are not one RUN choosing by `if dpkg-query ... python3-pip`"
        )
    for stage in build.stages:
        for run in stage.every("RUN"):
            if "--break-system-packages" in run.arguments or "EXTERNALLY-MANAGED" in run.arguments:
                problems.append(f"line {run.line}: overrides PEP 668, pip would remove files dpkg owns")
    return problems


def entrypoint_problems(build: Build) -> list[str]:
    scripts = [name for name, target in build.project["scripts"].items() if target == CONSOLE_SCRIPT_TARGET]
    assert len(scripts) == 1, f"pyproject.toml names no single console script for {CONSOLE_SCRIPT_TARGET}"
    problems = []
    for keyword, expected in (("ENTRYPOINT", scripts), ("CMD", ["run"])):
        instruction = build.final.last(keyword)
        if instruction is None or not instruction.arguments.startswith("["):
            # The shell form runs /bin/sh -c as PID 1, which does not pass SIGTERM on to the operator.
            problems.append(f"the final stage has no {keyword} in exec form")
        elif json.loads(instruction.arguments) != expected:
            problems.append(f"{keyword} {instruction.arguments}, not {json.dumps(expected)}")
    return problems


def dev_dependency_problems(build: Build) -> list[str]:
    names = DEV_TOOLS | {
        normalized(requirement) for requirement in build.project["optional-dependencies"]["dev"]
    }
    problems = []
    for stage in build.stages:
        for instruction in stage.instructions:
            text = instruction.arguments.lower()
            if "[dev]" in text:
                problems.append(f"line {instruction.line}: installs the dev extra")
            if instruction.keyword == "RUN":
                problems.extend(
                    f"line {instruction.line}: mentions the dev tool {name}"
                    for name in sorted(names)
                    if re.search(rf"(?<![\w.-]){re.escape(name)}(?![\w.-])", text)
                )
    return problems


def final_copy_problems(build: Build) -> list[str]:
    names = {stage.name for stage in build.stages[:-1]}
    problems = []
    for copy in copies(build.final):
        line = copy.instruction.line
        if copy.destination == SBOM_PATH and copy.from_stage in names:
            continue  # the SBOM: sbom_problems checks it
        if copy.instruction.keyword == "ADD" or copy.from_stage is None:
            problems.append(f"line {line}: the final stage copies {copy.sources} from the build context")
        elif copy.from_stage not in names:
            problems.append(f"line {line}: --from={copy.from_stage} is not an earlier stage")
        else:
            built = venvs_created(next(stage for stage in build.stages if stage.name == copy.from_stage))
            if not set(copy.sources) <= built or copy.destination.rstrip("/") not in copy.sources:
                # The same path: the console script's shebang names the venv's python.
                problems.append(f"line {line}: copies {copy.sources} to {copy.destination}, not a venv as is")
    if copied_venv(build) is None:
        problems.append("the final stage copies no venv from a build stage")
    return problems


def install_problems(build: Build) -> list[str]:
    """The venv holds the locked runtime dependencies, hash-checked, then the project without deps.

    First ``pip install --require-hashes --no-deps -r requirements.lock`` (every file checked against
    the lock, nothing resolved at build time), then the project ``.`` with ``--no-deps`` (it would
    otherwise resolve its dependencies again, unhashed), then only ``pip check``, which changes nothing.
    """
    found = copied_venv(build)
    if found is None:
        return ["the final stage copies no venv from a build stage"]
    stage, venv = found
    problems = []
    copied = {
        PurePosixPath(source).name
        for copy in copies(stage)
        if copy.from_stage is None
        for source in copy.sources
    }
    for needed in ("pyproject.toml", LOCK_FILE):
        if needed not in copied:
            problems.append(f"the build stage does not copy {needed}")
    commands = [command for command in pip_commands(stage) if command.target == venv]
    installs = [command for command in commands if command.subcommand == "install"]
    locked = [command for command in installs if command.requirement_files]
    project = [command for command in installs if not command.requirement_files]
    problems.extend(_locked_install_problems(locked, venv))
    if [command.requirements for command in project] != [(".",)]:
        problems.append(
            f"installs {[list(c.requirements) for c in project]} into {venv}, not just the project `.`"
        )
    for command in project:
        if "--no-deps" not in command.options:
            problems.append(
                "installs the project without --no-deps: its dependencies would be resolved again, unhashed"
            )
    if locked and project and installs.index(project[0]) < installs.index(locked[0]):
        problems.append(f"the project is installed before {LOCK_FILE}")
    problems.extend(
        f"pip {command.subcommand} {' '.join(command.requirements)} changes {venv} after the install"
        for command in commands
        if command.subcommand not in ("install", "check")
    )
    if not any(command.subcommand == "check" for command in commands):
        problems.append(f"no `pip check` of {venv}: the lock could miss what pyproject.toml asks for")
    return problems


def _locked_install_problems(locked: list[PipCommand], venv: str) -> list[str]:
    problems = []
    if [PurePosixPath(file).name for command in locked for file in command.requirement_files] != [LOCK_FILE]:
        problems.append(f"{venv} does not get its dependencies from {LOCK_FILE} alone, once")
    for command in locked:
        problems.extend(
            f"installs {LOCK_FILE} without {option}"
            for option in ("--require-hashes", "--no-deps")
            if option not in command.options
        )
        if command.requirements:
            problems.append(f"installs {list(command.requirements)} beside {LOCK_FILE}, unlocked")
    return problems


def sbom_problems(build: Build) -> list[str]:
    """A CycloneDX SBOM of the venv is made in a stage of its own and put in the image."""
    problems = []
    sbom_copies = [copy for copy in copies(build.final) if copy.destination == SBOM_PATH]
    if len(sbom_copies) != 1:
        return [f"the final stage does not copy one SBOM to {SBOM_PATH}"]
    [sbom_copy] = sbom_copies
    stage = next((stage for stage in build.stages if stage.name == sbom_copy.from_stage), None)
    if stage is None:
        return [f"the SBOM comes from {sbom_copy.from_stage!r}, not an earlier stage"]
    runs = [words for run in stage.every("RUN") for words in shell_commands(run)]
    makers = [
        words for words in runs if PurePosixPath(words[0]).name == "cyclonedx-py" and "environment" in words
    ]
    if not makers:
        problems.append(f"stage {stage.name} does not run `cyclonedx-py environment`")
    found = copied_venv(build)
    for words in makers:
        plain, options = options_and_words(words[1:])
        if found is not None and plain[-1:] != [found[1]]:
            problems.append(f"the SBOM describes {plain[-1:]}, not the image's venv {found[1]}")
        if dict(options).get("--output-file", dict(options).get("-o")) not in sbom_copy.sources:
            problems.append("the SBOM copied is not the one cyclonedx-py writes")
    tool_installs = [c for c in pip_commands(stage) if c.subcommand == "install"]
    if not tool_installs or any("--require-hashes" not in c.options for c in tool_installs):
        problems.append("the SBOM tool is not installed from a hashed lock (--require-hashes)")
    if found is not None and any(c.target == found[1] for c in tool_installs):
        problems.append("the SBOM tool is installed into the image's venv")
    return problems


def environment_problems(build: Build) -> list[str]:
    variables = environment(build.final)
    expected = {"PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1"}
    problems = [
        f"ENV {name}={value} is missing" for name, value in expected.items() if variables.get(name) != value
    ]
    if "HOME" not in variables:
        problems.append("no HOME: it would be / for a user the image does not create")
    found = copied_venv(build)
    if found is not None and not variables.get("PATH", "").startswith(f"{found[1]}/bin:"):
        problems.append(f"PATH does not start with {found[1]}/bin: the entry point would not be found")
    return problems


def bytecode_problems(build: Build) -> list[str]:
    # The official images ship the standard library without bytecode; with a read-only root filesystem
    # nothing can be cached at run time, so whatever is not compiled here is compiled at every start.
    match = re.fullmatch(r"python:(\d+\.\d+)\..*", build.final.image)
    stdlib = f"/usr/local/lib/python{match[1] if match else '3'}"
    wanted = [(build.final, stdlib)]
    found = copied_venv(build)
    if found is not None:
        wanted.append(found)
    return [
        f"{path} is not compiled to bytecode in the {stage.name or 'final'} stage"
        for stage, path in wanted
        if not any(
            path == compiled.rstrip("/") or path.startswith(compiled.rstrip("/") + "/")
            for compiled in compiled_paths(stage)
        )
    ]


def expose_problems(build: Build) -> list[str]:
    exposed = {
        word.partition("/")[0] for expose in build.final.every("EXPOSE") for word in expose.arguments.split()
    }
    return [f"port {port} is not exposed" for port in sorted(PORTS - exposed)]


def context_files(source: str) -> list[str]:
    """The repository's files a COPY of ``source`` from the build context needs, by-products aside."""
    path = ROOT / source
    files = [path] if path.is_file() else [file for file in path.rglob("*") if file.is_file()]
    return [
        file.relative_to(ROOT).as_posix()
        for file in files
        if not any(part == "__pycache__" or part.endswith(".egg-info") for part in file.parts)
    ]


def dockerignore_problems(build: Build) -> list[str]:
    left_out = [
        ".git/HEAD",
        ".venv/bin/python",
        "tests/meta/test_dockerfile.py",
        "benchmarks/run.py",
        ".mypy_cache/3.11/cache.db",
        "operator/flink_tm_memory/__pycache__/__init__.cpython-311.pyc",
        "operator/flink_tm_memory_operator.egg-info/PKG-INFO",
    ]
    problems = [
        f"{path} is sent to the build" for path in left_out if not is_ignored(path, build.ignore_patterns)
    ]
    for stage in build.stages:
        for copy in copies(stage):
            for source in copy.sources if copy.from_stage is None else ():
                needed = context_files(source)
                missing = [file for file in needed if is_ignored(file, build.ignore_patterns)]
                if not needed:
                    problems.append(
                        f"line {copy.instruction.line}: COPY {source}, which the repository lacks"
                    )
                elif missing:
                    problems.append(
                        f"line {copy.instruction.line}: COPY {source} misses {len(missing)} file(s): {missing[:3]}"
                    )
    return problems


CHECKS: list[Callable[[Build], list[str]]] = [
    multi_stage_problems,
    user_problems,
    installer_problems,
    entrypoint_problems,
    dev_dependency_problems,
    final_copy_problems,
    install_problems,
    sbom_problems,
    environment_problems,
    bytecode_problems,
    expose_problems,
    dockerignore_problems,
]


@pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.__name__.removesuffix("_problems"))
def test_the_image_build(check: Callable[[Build], list[str]]) -> None:
    assert check(the_build()) == []


# Each: the check, the file, a regular expression that must match exactly once, its replacement.
MUTATIONS = [
    pytest.param(multi_stage_problems, "Dockerfile", r"^FROM \$\{PYTHON_IMAGE\}$", "", id="one-stage"),
    pytest.param(
        multi_stage_problems, "Dockerfile", r"^(ARG PYTHON_IMAGE=python:\S*?)-slim", r"\1", id="not-slim"
    ),
    pytest.param(
        multi_stage_problems, "Dockerfile", r"^(ARG PYTHON_IMAGE=python:\d+\.\d+)\.\d+", r"\1", id="unpinned"
    ),
    pytest.param(
        multi_stage_problems,
        "Dockerfile",
        r"^FROM \$\{PYTHON_IMAGE\} AS",
        "FROM python:3.12-slim AS",
        id="two-bases",
    ),
    pytest.param(user_problems, "Dockerfile", r"^USER .*$", "USER nonroot", id="user-by-name"),
    pytest.param(user_problems, "Dockerfile", r"^USER .*$", "USER 0:0", id="user-root"),
    pytest.param(user_problems, "Dockerfile", r"^USER .*\n", "", id="no-user"),
    pytest.param(user_problems, "Dockerfile", r"--uid \d+", "--uid 1000", id="user-not-created"),
    pytest.param(
        installer_problems,
        "Dockerfile",
        r"dpkg --purge python3-pip python3-setuptools python3-wheel",
        "true",
        id="debian-pip-kept",
    ),
    pytest.param(
        installer_problems,
        "Dockerfile",
        r"(uninstall --yes --quiet pip setuptools) wheel",
        r"\1",
        id="wheel-kept",
    ),
    pytest.param(
        installer_problems,
        "Dockerfile",
        r"(pip uninstall) (--yes)",
        r"\1 --break-system-packages \2",
        id="pep-668-overridden",
    ),
    pytest.param(
        installer_problems,
        "Dockerfile",
        r"^RUN if dpkg-query .*; then \\$",
        r"RUN true; then \\",
        id="unguarded",
    ),
    pytest.param(
        entrypoint_problems, "Dockerfile", r"^ENTRYPOINT .*$", "ENTRYPOINT flink-tm-memory", id="shell-form"
    ),
    pytest.param(
        entrypoint_problems, "Dockerfile", r"^ENTRYPOINT .*$", 'ENTRYPOINT ["python"]', id="not-the-script"
    ),
    pytest.param(entrypoint_problems, "Dockerfile", r"^CMD .*$", 'CMD ["derive"]', id="not-run"),
    pytest.param(dev_dependency_problems, "Dockerfile", r" \.( \\)$", r' ".[dev]"\1', id="dev-extra"),
    pytest.param(dev_dependency_problems, "Dockerfile", r" \.( \\)$", r" . ruff\1", id="dev-tool"),
    pytest.param(install_problems, "Dockerfile", r" \.( \\)$", r' ".[dev]"\1', id="install-extra"),
    pytest.param(install_problems, "Dockerfile", r"--no-deps \.( \\)$", r".\1", id="project-with-deps"),
    pytest.param(
        install_problems,
        "Dockerfile",
        r"--require-hashes (--no-deps -r requirements\.lock)",
        r"\1",
        id="lock-unhashed",
    ),
    pytest.param(
        install_problems,
        "Dockerfile",
        r"-r requirements\.lock\n",
        "-r requirements.lock kopf\n",
        id="unlocked",
    ),
    pytest.param(install_problems, "Dockerfile", r"^COPY requirements\.lock \./\n", "", id="lock-not-copied"),
    pytest.param(
        install_problems, "Dockerfile", r"^    && python -m pip --python \S+ check \\\n", "", id="unchecked"
    ),
    pytest.param(sbom_problems, "Dockerfile", r"^COPY --from=sbom .*\n", "", id="no-sbom"),
    pytest.param(
        sbom_problems,
        "Dockerfile",
        r"(sbom-tool/bin/python install --no-cache-dir \\\n\s+)--require-hashes ",
        r"\1",
        id="sbom-tool-unhashed",
    ),
    pytest.param(
        sbom_problems,
        "Dockerfile",
        r"(--output-file /src/sbom\.cdx\.json) /opt/venv",
        r"\1 /opt/sbom-tool",
        id="sbom-of-the-tool",
    ),
    pytest.param(
        install_problems, "Dockerfile", r" \.( \\)$", r" . kubernetes-stubs\1", id="more-than-the-project"
    ),
    pytest.param(
        install_problems,
        "Dockerfile",
        r"^(RUN python -m pip --python (\S+) install [^\\\n]*--no-deps \. )\\$",
        r"\1&& python -m pip --python \2 uninstall --yes pyyaml \\",
        id="pruned-after-install",
    ),
    pytest.param(
        final_copy_problems, "Dockerfile", r"^COPY --from=build .*$", "COPY . /src", id="source-tree"
    ),
    pytest.param(
        final_copy_problems,
        "Dockerfile",
        r"^COPY --from=build .*$",
        r"\g<0>\nCOPY --from=build /src /src",
        id="more-than-the-venv",
    ),
    pytest.param(
        final_copy_problems,
        "Dockerfile",
        r"^COPY --from=build (\S+) \S+$",
        r"COPY --from=build \1 /venv",
        id="venv-moved",
    ),
    pytest.param(environment_problems, "Dockerfile", r"^\s*PYTHONUNBUFFERED=1 \\\n", "", id="buffered"),
    pytest.param(
        environment_problems,
        "Dockerfile",
        r"^ENV PYTHONDONTWRITEBYTECODE=1 \\\n(\s*PYTHONUNBUFFERED)",
        r"ENV\1",
        id="writes-bytecode",
    ),
    pytest.param(environment_problems, "Dockerfile", r"PATH=\S+:\$PATH", "PATH=$PATH", id="venv-not-on-path"),
    pytest.param(
        bytecode_problems, "Dockerfile", r"(unchecked-hash) /opt/venv", r"\1 /src", id="venv-not-compiled"
    ),
    pytest.param(
        bytecode_problems,
        "Dockerfile",
        r"(unchecked-hash) /usr/local/lib",
        r"\1 /tmp",
        id="stdlib-not-compiled",
    ),
    pytest.param(expose_problems, "Dockerfile", r"^EXPOSE .*$", "EXPOSE 8080", id="webhook-port"),
    pytest.param(dockerignore_problems, ".dockerignore", r"^\*\n", "", id="everything-sent"),
    pytest.param(dockerignore_problems, ".dockerignore", r"^!operator/\n", "", id="source-left-out"),
    pytest.param(dockerignore_problems, ".dockerignore", r"^\*\*/__pycache__\n", "", id="caches-sent"),
]


@pytest.mark.parametrize(("check", "file", "pattern", "replacement"), MUTATIONS)
def test_each_check_fails_on_a_broken_copy(
    check: Callable[[Build], list[str]], file: str, pattern: str, replacement: str
) -> None:
    texts = {name: (ROOT / name).read_text(encoding="utf-8") for name in ("Dockerfile", ".dockerignore")}
    texts[file], count = re.subn(pattern, replacement, texts[file], flags=re.MULTILINE)
    assert count == 1, f"the mutation {pattern!r} matches {file} {count} times, not once: update it"
    assert check(load_build(texts["Dockerfile"], texts[".dockerignore"])) != []


def test_every_check_is_shown_to_fail() -> None:
    assert {mutation.values[0] for mutation in MUTATIONS} == set(CHECKS)


def test_the_parser_joins_continuations_and_drops_comments() -> None:
    text = 'ARG BASE=python:3.11.1-slim\n# c\nFROM ${BASE} AS b\nRUN a \\\n# inside\n\n    b\nFROM $BASE\nCMD ["x"]\n'
    stages = parse_stages(text)
    assert [(stage.image, stage.name) for stage in stages] == [
        ("python:3.11.1-slim", "b"),
        ("python:3.11.1-slim", None),
    ]
    assert stages[0].instructions == (Instruction("RUN", "a b", 4),)
    assert stages[1].instructions == (Instruction("CMD", '["x"]', 9),)


def test_the_ignore_matcher_follows_docker() -> None:
    patterns = parse_ignore_patterns("*\n!src/\n**/__pycache__\n*.md\n!README.md\n")
    assert is_ignored("tests/a.py", patterns)
    assert not is_ignored("src/a/b.py", patterns)
    assert is_ignored("src/a/__pycache__/b.pyc", patterns)
    assert is_ignored("NOTES.md", patterns)
    assert not is_ignored("README.md", patterns)
