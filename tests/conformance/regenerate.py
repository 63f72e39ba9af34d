"""Regenerate every conformance vector file from real Flink (``make vectors``).

What: for each Flink version and mode (``tm``, ``local``, ``weights``) the case inputs are fed to
``flink-oracle``, which runs Flink's own TaskManager memory code in one JVM, and its answer is stored
as ``expect`` next to each input:

* public cases: ``vectors/[local/|weights/]<version>.jsonl``. Their inputs are the existing file with
  ``expect`` stripped, so every file keeps its own case list (weights cases with a ``jobConfig`` exist
  only from Flink 1.19). A version without a file yet borrows the inputs of the closest older one.
* our own cases: ``cases/<mode>.jsonl`` (inputs only) -> ``vectors-own/[local/|weights/]<version>.jsonl``.
* configuration files (mode ``files``): ``cases/files/<flavour>.jsonl``, written by the seeded fuzzer
  ``fuzz_config_files.py`` -> ``vectors-files/<flavour>/<version>.jsonl`` for every release that reads
  that file, through the oracle's file channel (``--channel file --conf-file <flavour>``); the same for
  the hand-written ``cases/files/syntax/<flavour>.jsonl`` -> ``vectors-files/syntax/<flavour>/<version>.jsonl``.
* fixes (mode ``fixes``): the engine's fixes for every case the tm vectors on file (both suites) say
  Flink rejects, each fix and each fix 1 MiB closer to the user's sizes asked of Flink ->
  ``vectors-fixes/<version>.jsonl`` (see ``fix_vectors.py``). Built from the tm vectors as they are
  before this run: after a change of those, run again.
* release (mode ``release``): for every public tm vector Flink lays out with managed memory, the
  change the ``ManagedMemoryUnused`` note advises, asked of Flink (``release_vectors.py``) ->
  ``vectors-release/<version>.jsonl``.
* sizing (mode ``sizing``): the engine's answers to the seeded needs of ``cases/sizing.jsonl``
  (``sizing_vectors.py``), each answer and each answer 1 MiB smaller asked of Flink ->
  ``vectors-sizing/<version>.jsonl``.

Why: expectations must come from Flink and never from our engine; with this harness a new Flink
release is one command (``python -m tests.conformance.regenerate --oracle PATH --versions 2.4.0``).

Safety: all files are first generated into a temporary directory; nothing in the repository changes
unless every oracle run succeeded and answered every case. Changed files are then replaced atomically
(temporary file in the same folder + ``os.replace``) and a summary of changed cases per file is
printed. ``--check`` regenerates into the temporary directory only and exits 1 if anything differs.
Needs nothing outside the repository but the oracle (its cache) and Java.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.conformance import release_vectors, sizing_vectors
from tests.conformance.file_vectors import FLAVOUR_VERSIONS, oracle_case
from tests.conformance.fix_vectors import FIX_ROOT, build
from tests.conformance.jsonl import parse_jsonl, read_jsonl

HERE = Path(__file__).resolve().parent
PUBLIC_ROOT = HERE / "vectors"
OWN_ROOT = HERE / "vectors-own"
CASES_ROOT = HERE / "cases"
FILES_ROOT = HERE / "vectors-files"
FILES_MODE = "files"
FILE_CASE_SETS = (
    (CASES_ROOT / "files", FILES_ROOT),
    (CASES_ROOT / "files" / "syntax", FILES_ROOT / "syntax"),
)
"""(cases folder, vectors folder) of each set of configuration-file cases."""

MODES: dict[str, tuple[str, tuple[str, ...]]] = {
    "tm": ("", ()),
    "local": ("local", ("--local",)),
    "weights": ("weights", ("--weights",)),
}
"""mode -> (sub-folder of the vector roots, flink-oracle flags)."""
FIXES = "fixes"
SIZING = "sizing"
RELEASE = "release"
ALL_MODES = (*MODES, FILES_MODE, FIXES, SIZING, RELEASE)

SUITES = ("public", "own")
SHOWN_IDS = 5

Case = dict[str, Any]


class RegenerationError(Exception):
    """The oracle could not produce a complete, trustworthy answer; nothing was written."""


@dataclass(frozen=True, slots=True)
class Target:
    """One vector file to produce: where its inputs come from and where it goes."""

    version: str
    mode: str
    suite: str
    inputs: Path
    destination: Path
    flavour: str | None = None
    """For mode ``files``: the configuration file the cases are written to (``config.yaml``, ...)."""

    @property
    def label(self) -> str:
        return str(self.destination.relative_to(HERE))


@dataclass(frozen=True, slots=True)
class FileDiff:
    """How a regenerated file differs from the one in the repository, counted in cases."""

    total: int
    new_file: bool
    changed: tuple[str, ...]
    added: tuple[str, ...]
    removed: tuple[str, ...]

    @property
    def differs(self) -> bool:
        return bool(self.changed or self.added or self.removed)


# --------------------------------------------------------------------------- arguments and plan


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--oracle", required=True, type=Path, help="path to flink-oracle")
    parser.add_argument(
        "--versions", type=comma_list, help="e.g. 2.2.1,2.3.0 (default: every version on file)"
    )
    parser.add_argument(
        "--modes",
        type=comma_list,
        default=list(ALL_MODES),
        help="subset of tm,local,weights,files,fixes,sizing",
    )
    parser.add_argument("--suites", type=comma_list, default=list(SUITES), help="subset of public,own")
    parser.add_argument(
        "--check", action="store_true", help="regenerate into a temp dir, exit 1 on differences"
    )
    args = parser.parse_args(argv)
    for name, allowed in (("modes", ALL_MODES), ("suites", SUITES)):
        unknown = set(getattr(args, name)) - set(allowed)
        if unknown:
            parser.error(f"--{name}: unknown {', '.join(sorted(unknown))} (choose from {', '.join(allowed)})")
    if not args.oracle.is_file():
        parser.error(f"--oracle: {args.oracle} is not a file")
    return args


def comma_list(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int("".join(ch for ch in part if ch.isdigit()) or 0) for part in version.split("."))


def vector_file(root: Path, mode: str, version: str) -> Path:
    return root / MODES[mode][0] / f"{version}.jsonl"


def versions_on_file() -> list[str]:
    stems = {path.stem for mode in MODES for path in (PUBLIC_ROOT / MODES[mode][0]).glob("*.jsonl")}
    return sorted(stems, key=version_key)


def public_inputs(mode: str, version: str) -> Path:
    """The version's own file, else the closest older version's (else the oldest) of the same mode."""
    own = vector_file(PUBLIC_ROOT, mode, version)
    if own.exists():
        return own
    candidates = sorted((PUBLIC_ROOT / MODES[mode][0]).glob("*.jsonl"), key=lambda p: version_key(p.stem))
    if not candidates:
        raise RegenerationError(f"no public {mode} vectors to take inputs from")
    older = [path for path in candidates if version_key(path.stem) < version_key(version)]
    return older[-1] if older else candidates[0]


def plan(versions: Sequence[str], modes: Sequence[str], suites: Sequence[str]) -> list[Target]:
    targets = []
    for version in versions:
        if FILES_MODE in modes and "own" in suites:
            targets.extend(file_targets(version))
        for mode in (mode for mode in modes if mode != FILES_MODE):
            if mode == SIZING:
                destination = sizing_vectors.SIZING_ROOT / f"{version}.jsonl"
                targets.append(Target(version, mode, "own", sizing_vectors.CASES, destination))
                continue
            if mode == RELEASE:
                inputs = vector_file(PUBLIC_ROOT, "tm", version)
                destination = release_vectors.RELEASE_ROOT / f"{version}.jsonl"
                targets.append(Target(version, mode, "public", inputs, destination))
                continue
            if mode == FIXES:
                inputs = vector_file(PUBLIC_ROOT, "tm", version)
                targets.append(Target(version, mode, "public+own", inputs, FIX_ROOT / f"{version}.jsonl"))
                continue
            if "public" in suites:
                destination = vector_file(PUBLIC_ROOT, mode, version)
                targets.append(Target(version, mode, "public", public_inputs(mode, version), destination))
            own_cases = CASES_ROOT / f"{mode}.jsonl"
            if "own" in suites and own_cases.exists():
                destination = vector_file(OWN_ROOT, mode, version)
                targets.append(Target(version, mode, "own", own_cases, destination))
    return targets


def file_targets(version: str) -> list[Target]:
    """One vector file per configuration-file flavour this release reads, and per case set of it: the
    fuzzer's (``cases/files/<flavour>.jsonl``) and the hand-written syntax cases
    (``cases/files/syntax/<flavour>.jsonl`` -> ``vectors-files/syntax/<flavour>/<version>.jsonl``)."""
    return [
        Target(
            version,
            FILES_MODE,
            "own",
            cases / f"{flavour}.jsonl",
            vectors / flavour / f"{version}.jsonl",
            flavour,
        )
        for cases, vectors in FILE_CASE_SETS
        for flavour, readers in FLAVOUR_VERSIONS.items()
        if version in readers and (cases / f"{flavour}.jsonl").exists()
    ]


# --------------------------------------------------------------------------- inputs and oracle


def load_inputs(path: Path) -> list[Case]:
    """The case inputs of a vector or case file: every key but ``expect``; ids must be unique."""
    cases = [{key: value for key, value in case.items() if key != "expect"} for case in read_jsonl(path)]
    ids = [case.get("id") for case in cases]
    if None in ids or len(set(ids)) != len(ids):
        raise RegenerationError(f"{path}: every case needs a unique id")
    return cases


def oracle_command(oracle: Path, target: Target) -> list[str]:
    launcher = [] if os.access(oracle, os.X_OK) else [sys.executable]
    if target.flavour is not None:
        flags: tuple[str, ...] = ("--channel", "file", "--conf-file", target.flavour)
    else:
        flags = () if target.mode in (FIXES, SIZING, RELEASE) else MODES[target.mode][1]
    return [*launcher, str(oracle), "--flink", target.version, *flags]


def run_oracle(oracle: Path, target: Target, cases: list[Case]) -> list[Case]:
    """Flink's answers, one per case, in order; the oracle's stderr (downloads, errors) passes through."""
    sent = [oracle_case(case) for case in cases] if target.flavour is not None else cases
    stdin = "".join(json.dumps(case, ensure_ascii=False) + "\n" for case in sent)
    command = oracle_command(oracle, target)
    completed = subprocess.run(command, input=stdin, stdout=subprocess.PIPE, encoding="utf-8", check=False)
    if completed.returncode != 0:
        raise RegenerationError(f"{target.label}: flink-oracle exited with {completed.returncode}")
    answers = parse_jsonl(completed.stdout)
    verify_answers(target, cases, answers)
    return answers


def verify_answers(target: Target, cases: list[Case], answers: list[Case]) -> None:
    sent = [case["id"] for case in cases]
    got = [answer.get("id") for answer in answers]
    if got != sent:
        raise RegenerationError(f"{target.label}: the oracle answered {len(got)} of {len(sent)} cases")
    for answer in answers:
        error_class = str(answer.get("error", {}).get("class", ""))
        if error_class.startswith("ORACLE_"):
            raise RegenerationError(f"{target.label}: {answer['id']}: {error_class} {answer['error']}")


def render(cases: list[Case], answers: list[Case]) -> str:
    """Vector lines: the input case followed by ``expect`` (the answer without its id)."""
    lines = []
    for case, answer in zip(cases, answers, strict=True):
        expect = {key: value for key, value in answer.items() if key != "id"}
        lines.append(json.dumps({**case, "expect": expect}, ensure_ascii=False))
    return "".join(line + "\n" for line in lines)


# --------------------------------------------------------------------------- compare and install


def by_id(text: str) -> dict[str, str]:
    cases = iter(parse_jsonl(text))
    # Fix vectors hold both suites' cases, whose ids could meet.
    return {f"{case.get('suite', '')}/{case['id']}": json.dumps(case, sort_keys=True) for case in cases}


def compare(old_text: str | None, new_text: str) -> FileDiff:
    old, new = by_id(old_text or ""), by_id(new_text)
    changed = tuple(case_id for case_id in new if case_id in old and old[case_id] != new[case_id])
    added = tuple(case_id for case_id in new if case_id not in old)
    removed = tuple(case_id for case_id in old if case_id not in new)
    if not (changed or added or removed) and old_text != new_text:
        changed = ("(formatting or order only)",)
    return FileDiff(len(new), old_text is None, changed, added, removed)


def install(destination: Path, text: str) -> None:
    """Replace ``destination`` atomically: write a temporary file next to it, then ``os.replace``."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(
        prefix=f".{destination.name}.", suffix=".tmp", dir=destination.parent
    )
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
        os.chmod(temporary, file_mode(destination))
        os.replace(temporary, destination)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def file_mode(path: Path) -> int:
    """The mode the file has now, or what a plain ``open`` would give a new one (mkstemp uses 0600)."""
    if path.exists():
        return path.stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def describe(diff: FileDiff) -> str:
    if not diff.differs:
        return "unchanged"
    if diff.new_file:
        return "new file"
    parts = [f"{len(diff.changed)} changed", f"{len(diff.added)} added", f"{len(diff.removed)} removed"]
    examples = (diff.changed + diff.added + diff.removed)[:SHOWN_IDS]
    return ", ".join(parts) + f"  (e.g. {', '.join(examples)})"


# --------------------------------------------------------------------------- main


def generate(oracle: Path, targets: list[Target], staging: Path) -> dict[str, float]:
    """Write every target into ``staging``; returns seconds spent in the oracle per version."""
    seconds: dict[str, float] = {}
    for target in targets:
        started = time.monotonic()
        if target.mode == FIXES:
            text, count = generate_fixes(oracle, target)
        elif target.mode == SIZING:
            text, count = generate_sizing(oracle, target)
        elif target.mode == RELEASE:
            text, count = generate_release(oracle, target)
        else:
            cases = load_inputs(target.inputs)
            text, count = render(cases, run_oracle(oracle, target, cases)), len(cases)
        elapsed = time.monotonic() - started
        seconds[target.version] = seconds.get(target.version, 0.0) + elapsed
        print(f"  {target.label:<32} {count:>5} cases  {elapsed:6.1f} s", flush=True)
        staged = staging / target.label
        staged.parent.mkdir(parents=True, exist_ok=True)
        staged.write_text(text, encoding="utf-8")
    return seconds


def generate_fixes(oracle: Path, target: Target) -> tuple[str, int]:
    """The fix vector file's text, and how many configurations Flink was asked about."""
    return generate_asking(oracle, target, build)


def generate_sizing(oracle: Path, target: Target) -> tuple[str, int]:
    """The sizing vector file's text, and how many configurations Flink was asked about."""
    return generate_asking(oracle, target, sizing_vectors.build)


def generate_release(oracle: Path, target: Target) -> tuple[str, int]:
    """The release vector file's text, and how many configurations Flink was asked about."""
    return generate_asking(oracle, target, release_vectors.build)


def generate_asking(
    oracle: Path, target: Target, build_lines: Callable[[str, Callable[[list[Case]], list[Case]]], list[Case]]
) -> tuple[str, int]:
    """A vector file whose lines ``build_lines`` makes, asking Flink its questions in one batch or more."""
    asked: list[int] = []

    def ask(questions: list[Case]) -> list[Case]:
        asked.append(len(questions))
        return run_oracle(oracle, target, questions)

    lines = build_lines(target.version, ask)
    return "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), sum(asked)


def summarize(targets: list[Target], staging: Path) -> dict[Target, FileDiff]:
    diffs = {}
    print("\nSummary (cases per file, compared with the repository):")
    for target in targets:
        old = target.destination.read_text(encoding="utf-8") if target.destination.exists() else None
        diff = compare(old, (staging / target.label).read_text(encoding="utf-8"))
        diffs[target] = diff
        print(f"  {target.label:<32} {diff.total:>5} cases: {describe(diff)}")
    return diffs


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    versions = args.versions or versions_on_file()
    staging = Path(tempfile.mkdtemp(prefix="flink-vectors-"))
    try:
        targets = plan(versions, args.modes, args.suites)
        print(f"Regenerating {len(targets)} vector files with {args.oracle} (versions {', '.join(versions)})")
        seconds = generate(args.oracle, targets, staging)
    except RegenerationError as error:
        shutil.rmtree(staging, ignore_errors=True)
        print(f"error: {error}\nNothing was written.", file=sys.stderr)
        return 2
    print("\nOracle time per version: " + ", ".join(f"{v} {s:.1f} s" for v, s in seconds.items()))
    diffs = summarize(targets, staging)
    differing = [target for target, diff in diffs.items() if diff.differs]
    if args.check:
        return report_check(differing, staging)
    for target in differing:
        install(target.destination, (staging / target.label).read_text(encoding="utf-8"))
    shutil.rmtree(staging, ignore_errors=True)
    print(f"\n{len(differing)} of {len(targets)} files rewritten.")
    return 0


def report_check(differing: list[Target], staging: Path) -> int:
    if not differing:
        shutil.rmtree(staging, ignore_errors=True)
        print("\ncheck: every vector file matches what Flink answers now.")
        return 0
    print(f"\ncheck: {len(differing)} file(s) differ; regenerated files kept in {staging}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
