"""Random Flink configuration files, for a differential check of ``derive --config`` against Flink.

Why: through ``-D`` values the engine matches Flink everywhere; through files it must read the text
exactly as Flink's loader does (``config.yaml`` through snakeyaml-engine and Flink's flattening,
``flink-conf.yaml`` through the line parser). Hand-picked files miss classes of differences, so this
generator writes documents over the whole syntax each reader sees, seeded so a run can be repeated:

* ``config.yaml``: plain, quoted (with escapes), block literal/folded and flow scalars, block and flow
  collections, nested keys that flatten (and collide once flattened), comments, anchors (also defined
  twice), aliases, merge keys, tags (core, ``!!timestamp``, ``!!omap``, ``!!set``, ``!!binary``, local),
  null and non-string keys, duplicate keys, document markers and directives (``%TAG``), explicit keys,
  multi-line plain and quoted scalars, escapes, ``!!set``, tabs, CR/CRLF, U+0085, U+2028/9 and other
  Unicode whitespace, a BOM, deep nesting;
* ``flink-conf.yaml``: Flink 1.x's ``key: value`` lines with every way to break them.

A file always starts with the line ``#: `` and ends with a line break: the oracle's file channel
writes ``key: value`` lines, so a case is sent as the key ``#`` and the rest of the file as its value
(``../shared/oracle/flink-oracle --channel file``). Both readers take ``#: `` for a comment.

    .venv/bin/python -m tests.conformance.fuzz_config_files --seed 17 --count 300   # the committed cases
    .venv/bin/python -m tests.conformance.fuzz_config_files --seed 5 --count 500 \
        --oracle ../shared/oracle/flink-oracle                                      # a fresh run

The cases go to ``tests/conformance/cases/files/<flavour>.jsonl``; ``make vectors`` stores Flink's
answers in ``tests/conformance/vectors-files/<flavour>/<version>.jsonl`` and
``tests/conformance/test_config_file_vectors.py`` requires the engine to give the same answers.
With ``--oracle`` nothing is written: the cases of a new seed go to the oracle and the engine and
the differences are printed per version.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from tests.conformance.file_vectors import (
    FLAVOUR_VERSIONS,
    engine_answer,
    is_load_failure,
    oracle_case,
    same_answer,
)
from tests.conformance.jsonl import parse_jsonl

CASES = Path(__file__).resolve().parent / "cases" / "files"
FILE_PREFIX = "#: \n"  # what the oracle's file channel writes before the value of the key "#"
FLAVOURS = ("config.yaml", "flink-conf.yaml")

MEMORY_KEYS = (
    "taskmanager.memory.process.size",
    "taskmanager.memory.flink.size",
    "taskmanager.memory.task.heap.size",
    "taskmanager.memory.managed.size",
    "taskmanager.memory.managed.fraction",
    "taskmanager.memory.network.fraction",
    "taskmanager.memory.jvm-overhead.fraction",
    "taskmanager.numberOfTaskSlots",
    "taskmanager.cpu.cores",
    "external-resources",
    "external-resource.gpu.amount",
    "external-resource.fpga.amount",
    "external-resources",
    "taskmanager.heap.size",
)
OTHER_KEYS = ("jobmanager.rpc.address", "a.b", "a", "x.y.z", "state.backend.type")
SIZES = ("1728m", "2g", "1 gb", "4096m", "512mb", "1073741824", "3g", "1g", "800m", "64 mb", "8gb")
FRACTIONS = ("0.25", "0.1", "1e-1", ".5", "0.4", "0.0", "1", "0.99")
COUNTS = ("1", "4", "0x10", "0o7", "+2", "-1", "2147483648", "007")
SPECIAL = ("~", "null", "", "yes", "true", "False", ".inf", "+.inf", "-.inf", ".nan", "1:20", "2001-12-14")
LISTS = ("[gpu, fpga]", "[gpu]", "[]", "gpu;fpga", "'gpu;fpga'", "[a, [b]]", "{gpu: 1}", "[gpu, 1]")
ODD_CHARS = ("\t", "\u0085", "\u2028", "\u2029", "\u00a0", "\u3000", "\ufeff", "\r", "\x0b", "\x0c")
TAGS = (
    "!!str", "!!int", "!!float", "!!bool", "!!null", "!!timestamp", "!!omap", "!!pairs",
    "!!map", "!!seq", "!local", "!", "!<tag:yaml.org,2002:str>",
)  # fmt: skip


def exotic(rng: random.Random, key: str, value: str) -> str:
    """Rarer YAML: explicit keys, multi-line scalars, escapes, collections behind anchors, sets, %TAG."""
    forms = (
        f"? {key}\n: {value}\n",
        f"{key}: {value[:1]}\n  {value[1:]}\n",  # a plain scalar folded over two lines
        f'{key}: "{value[:1]}\\\n  {value[1:]}"\n',  # a double-quoted line continuation
        f"{key}: '{value[:1]}\n\n  {value[1:]}'\n",  # a single-quoted scalar with an empty line
        f'{key}: "\\x{ord(value[:1] or "1"):02x}{value[1:]}"\n',
        f'{key}: "\\u{ord(value[:1] or "1"):04X}{value[1:]}"\n',
        f'{key}: "\\U{ord(value[:1] or "1"):08x}{value[1:]}"\n',
        f"{key}: >-\n\n  {value}\n\n",
        f"{key}: |+\n  {value}\n\n",
        f"{key}: |1\n  {value}\n",
        f"{key}: {{\n  }}\n",
        f"{key}: [\n  {value}\n  ]\n",
        f"m: &m {{{key}: {value}}}\nn:\n  <<: *m\n",
        f"s: !!set {{{value}}}\n{key}: {value}\n",
        f"%TAG !e! tag:example.com,2000:\n---\n{key}: !e!x {value}\n",
        f"%TAG !! tag:yaml.org,2002:\n---\n{key}: !!str {value}\n",
        f"{key}: !!str\n",
        f"{key}: &x\n",
        f"- {key}: {value}\n",
        f"{key}:\n- {value}\n",
        f"{key}: {value} # c\n# c\n",
        f"{key}:\t{value}\n",
        f"\t{key}: {value}\n",
        f"{key}: {value}\n  # indented comment\n",
        f"{key} : {value}\n",
        f"'{key}': {value}\n",
        f'"{key}": {value}\n',
        f"{key}: {value}\n...\n",
        f"{key}: '{value}' trailing\n",
        f"{key}: @{value}\n",
        f"{key}: `{value}\n",
        f"{key}: {value}\r\n",
        f"{key}: ? x\n",
        f"{key}: [a, b]: c\n",
        f"{key}: {{a, b: c}}\n",
        f"{key}: [a: b, c]\n",
        f"{key}: {value},\n",
        f"{key}: -{value}\n",
        f"{key}: - {value}\n",
    )
    return rng.choice(forms)


def plain_value(rng: random.Random, key: str) -> str:
    if "size" in key:
        pool: tuple[str, ...] = SIZES
    elif "fraction" in key:
        pool = FRACTIONS
    elif "resources" in key:
        pool = LISTS
    elif key.endswith(("Slots", "cores", "amount")):
        pool = COUNTS
    else:
        # !!binary only here: Flink prints a byte[] as its identity hash, different on every run.
        pool = ("localhost", "hashmap", "rocksdb", "x", "1", "a b", "!!binary aGVsbG8=", "!!binary a")
    return rng.choice(SPECIAL) if rng.random() < 0.08 else rng.choice(pool)


def scalar(rng: random.Random, value: str, indent: str) -> str:
    """One way of writing ``value`` after ``key:`` (the text starts with what follows the colon)."""
    form = rng.random()
    if form < 0.55:
        return " " + value
    if form < 0.65:
        return " '" + value.replace("'", "''") + "'"
    if form < 0.75:
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        if rng.random() < 0.3:
            escaped = rng.choice(("\\t", "\\x41", "\\u00e9", "\\ ", "\\N", "\\_", "\\L", "\\q")) + escaped
        return ' "' + escaped + '"'
    if form < 0.8:
        return " " + rng.choice(("|", ">", "|-", ">+", "|2")) + "\n" + indent + "  " + value
    if form < 0.86:
        return " " + rng.choice(TAGS) + " " + value
    if form < 0.96:
        return " &" + rng.choice(("a", "b", "v")) + " " + value
    return " *" + rng.choice(("a", "b", "v"))  # often undefined, so rare


def entry(rng: random.Random, indent: str = "", depth: int = 0) -> str:
    key = rng.choice(MEMORY_KEYS) if rng.random() < 0.8 else rng.choice(OTHER_KEYS)
    value = plain_value(rng, key)
    shape = rng.random()
    if shape < 0.2 and "." in key and depth < 4:
        head, tail = key.split(".", 1)
        return f"{indent}{head}:\n" + nested(rng, tail, value, indent + rng.choice(("  ", " ", "    ")))
    if shape < 0.28 and "." in key:
        head, tail = key.split(".", 1)
        return f"{indent}{head}: {{{tail}: {value}}}\n"
    if shape < 0.33:
        return f"{indent}{key}:\n{indent}  - {value}\n{indent}  - {rng.choice(SIZES)}\n"
    if shape < 0.37:
        return f"{indent}<<: {rng.choice(('*a', '{' + key + ': ' + value + '}', '{' + key + ': ' + value + '}'))}\n"
    if shape < 0.41:
        return f"{indent}{rng.choice(('~', 'null', '1', 'true', '[a]', '{a: 1}', '? x', '!!str 7', '&k k'))}: {value}\n"
    if shape < 0.45:
        return f"{indent}&{rng.choice(('a', 'b'))} {key}: {value}\n"
    if shape < 0.6 and not indent:
        return exotic(rng, key, value)
    return f"{indent}{key}:{scalar(rng, value, indent)}\n"


def nested(rng: random.Random, key: str, value: str, indent: str) -> str:
    if "." in key and rng.random() < 0.6:
        head, tail = key.split(".", 1)
        return f"{indent}{head}:\n" + nested(rng, tail, value, indent + "  ")
    return f"{indent}{key}:{scalar(rng, value, indent)}\n"


def mutate(rng: random.Random, text: str) -> str:
    """Character-level damage: odd whitespace and line breaks where a reader could slip."""
    for _ in range(rng.choice((0, 0, 1, 1, 2))):
        where = rng.randrange(len(text) + 1)
        kind = rng.random()
        if kind < 0.5:
            text = text[:where] + rng.choice(ODD_CHARS) + text[where:]
        elif kind < 0.7:
            text = text.replace("\n", rng.choice(("\r\n", "\r", "\n\n")), 1)
        elif kind < 0.85:
            text = (
                text[:where]
                + rng.choice((" #c", "#", " # é", ":", ": ", "'", '"', "{", "[", "-"))
                + text[where:]
            )
        else:
            text = (
                text[:where]
                + rng.choice(("\n---\n", "\n...\n", "%YAML 1.2\n---\n", "\n- x\n"))
                + text[where:]
            )
    return text


def baseline(rng: random.Random) -> str:
    """Most files size the TaskManager plainly, so that the rest of the file decides the answer."""
    key = rng.choice(("taskmanager.memory.process.size", "taskmanager.memory.flink.size"))
    return f"{key}: {rng.choice(SIZES)}\n" if rng.random() < 0.75 else ""


def distinct_entries(rng: random.Random, count: int, first: str) -> list[str]:
    """Entries whose top-level keys differ (a duplicate key is a case of its own, not an accident)."""
    parts, heads = [first], {first.split(":", 1)[0]}
    for _ in range(count):
        for _attempt in range(5):
            part = entry(rng)
            head = part.split(":", 1)[0]
            if head not in heads:
                heads.add(head)
                parts.append(part)
                break
    return parts


def yaml_document(rng: random.Random) -> str:
    parts = distinct_entries(rng, rng.randint(1, 5), baseline(rng))
    if rng.random() < 0.05:
        depth = rng.choice((30, 200, 2000))
        parts.append("deep: " + "[" * depth + "]" * depth + "\n")
    if rng.random() < 0.1:
        parts.insert(0, rng.choice(("---\n", "%YAML 1.2\n---\n", "\ufeff", "# comment\n", "\n")))
    if rng.random() < 0.08:
        parts.append(parts[rng.randrange(len(parts))])  # a duplicate key (or anchor)
    return mutate(rng, "".join(parts)) if rng.random() < 0.3 else "".join(parts)


def legacy_line(rng: random.Random) -> str:
    key = rng.choice(MEMORY_KEYS) if rng.random() < 0.8 else rng.choice(OTHER_KEYS)
    value = plain_value(rng, key)
    separator = rng.choice((": ", ": ", ": ", ":", " : ", ":\t", ":  ", ": : "))
    padding = rng.choice(("", "", " ", "\t", "  ", "\u00a0", "\x0b"))
    comment = rng.choice(("", "", "", " # comment", "#c", " #", "# é"))
    return padding + key + separator + value + padding + comment


def legacy_document(rng: random.Random) -> str:
    lines = [baseline(rng).rstrip("\n")] + [legacy_line(rng) for _ in range(rng.randint(1, 6))]
    if rng.random() < 0.2:
        lines.insert(
            rng.randrange(len(lines) + 1), rng.choice(("", "bad line", ": novalue", "# only", "k:v"))
        )
    text = rng.choice(("\n", "\n", "\r\n", "\r")).join(lines) + "\n"
    return mutate(rng, text) if rng.random() < 0.3 else text


def generate(flavour: str, seed: int, count: int) -> list[dict[str, str]]:
    rng = random.Random(f"{flavour}/{seed}")
    make = yaml_document if flavour == "config.yaml" else legacy_document
    prefix = "yaml" if flavour == "config.yaml" else "conf"
    return [
        {"id": f"file-{prefix}-{seed}-{number:04d}", "file": flavour, "text": FILE_PREFIX + make(rng) + "\n"}
        for number in range(count)
    ]


def write_cases(seed: int, count: int) -> None:
    CASES.mkdir(parents=True, exist_ok=True)
    for flavour in FLAVOURS:
        lines = [json.dumps(case, ensure_ascii=False) for case in generate(flavour, seed, count)]
        (CASES / f"{flavour}.jsonl").write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        print(f"{CASES / flavour}.jsonl: {count} cases (seed {seed})")


def differential(oracle: Path, seed: int, count: int, versions: list[str]) -> int:
    def guarded_answer(case: dict[str, str], version: str) -> dict[str, object]:
        try:
            return engine_answer(case, version)
        except Exception as error:  # a crash is a difference to report, not a reason to stop
            return {"ok": False, "crash": f"{type(error).__name__}: {error}"}

    differing = 0
    for flavour in FLAVOURS:
        cases = generate(flavour, seed, count)
        for version in FLAVOUR_VERSIONS[flavour]:
            if versions and version not in versions:
                continue
            answers = ask_oracle(oracle, flavour, version, [oracle_case(case) for case in cases])
            bad = [
                (case, answer)
                for case, answer in zip(cases, answers, strict=True)
                if not same_answer(guarded_answer(case, version), answer)
            ]
            differing += len(bad)
            kinds = Counter(
                "ok" if a["ok"] else "refused" if is_load_failure(a) else "error" for a in answers
            )
            print(
                f"{flavour} {version}: {len(bad)} of {len(cases)} differ (Flink: {dict(kinds)})", flush=True
            )
            for case, answer in bad[:5]:
                print(f"  {case['id']} {case['text']!r}\n    flink  {json.dumps(answer)[:300]}")
                print(f"    engine {json.dumps(guarded_answer(case, version))[:300]}")
    return 1 if differing else 0


def ask_oracle(
    oracle: Path, flavour: str, version: str, cases: list[dict[str, object]]
) -> list[dict[str, object]]:
    command = [str(oracle), "--flink", version, "--channel", "file", "--conf-file", flavour]
    with tempfile.TemporaryFile("w+", encoding="utf-8") as stdin:
        stdin.write("".join(json.dumps(case, ensure_ascii=False) + "\n" for case in cases))
        stdin.seek(0)
        completed = subprocess.run(command, stdin=stdin, capture_output=True, encoding="utf-8", check=False)
    if completed.returncode != 0:
        # e.g. a cross-check mismatch: Flink answered the same file differently twice (a !!binary memory size)
        sys.exit(f"{' '.join(command)} exited with {completed.returncode}:\n{completed.stderr[-2000:]}")
    out = completed.stdout
    answers = parse_jsonl(out)
    return [{key: value for key, value in answer.items() if key != "id"} for answer in answers]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--count", type=int, default=300, help="cases per file flavour")
    parser.add_argument("--oracle", type=Path, help="run against flink-oracle instead of writing cases")
    parser.add_argument("--versions", default="", help="with --oracle: e.g. 1.19.3,2.2.1 (default: all)")
    arguments = parser.parse_args()
    if arguments.oracle:
        versions = [v for v in arguments.versions.split(",") if v]
        return differential(arguments.oracle, arguments.seed, arguments.count, versions)
    write_cases(arguments.seed, arguments.count)
    return 0


if __name__ == "__main__":
    sys.exit(main())
