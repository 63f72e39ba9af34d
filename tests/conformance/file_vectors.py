"""How a configuration-file case is answered by the engine, and when two answers are the same.

Shared by the conformance test (``test_config_file_vectors.py``) and the differential fuzzer
(``fuzz_config_files.py``), so the committed vectors and a fresh fuzz run judge alike.

A case is a whole file (``text``) of one flavour (``file``). The engine reads it as ``derive --config``
does (``cli/config_file.py``), then derives the TaskManager memory from the entries. Flink's answer is
the oracle's: the derivation, or the exception. When Flink's loader refuses the file its chain starts
with ``Error parsing YAML configuration.`` (a ``RuntimeException``) and goes on with snakeyaml-engine's
own message, which quotes line and column; the engine must refuse the same files, with the same
first link, but snakeyaml's wording of the cause is not reproduced (our message names the problem in
our words), so only that first link is compared. Every other answer must be identical.
"""

from __future__ import annotations

from typing import Any

from flink_tm_memory.cli.config_file import FLINK_LOAD_FAILURE, parse_config_text
from flink_tm_memory.cli.errors import ConfigurationError
from flink_tm_memory.memory import derive_task_manager_memory
from flink_tm_memory.memory.oracle_format import task_manager_output
from flink_tm_memory.memory.versions import parse_flink_version

FLAVOUR_VERSIONS: dict[str, tuple[str, ...]] = {
    "config.yaml": ("1.19.3", "1.20.5", "2.0.2", "2.1.3", "2.2.1", "2.3.0"),
    "flink-conf.yaml": ("1.17.2", "1.18.1", "1.19.3", "1.20.5"),
}
"""Which releases read which file: ``config.yaml`` from 1.19, ``flink-conf.yaml`` until 1.20."""

Answer = dict[str, Any]


def oracle_case(case: dict[str, str]) -> dict[str, Any]:
    """The oracle's file channel writes ``key: value`` and a line break for each entry: a whole file
    that starts with ``#: `` (a comment to both readers) is the key ``#`` with the rest as its value."""
    text = case["text"]
    if not (text.startswith("#: ") and text.endswith("\n")):
        raise ValueError(f"{case['id']}: a file case must start with '#: ' and end with a line break")
    return {"id": case["id"], "config": {"#": text[3:-1]}}


def engine_answer(case: dict[str, str], version: str) -> Answer:
    try:
        file = parse_config_text(case["text"], case["file"], parse_flink_version(version))
    except ConfigurationError as error:
        return {
            "ok": False,
            "error": {
                "class": "java.lang.RuntimeException",
                "chain": [FLINK_LOAD_FAILURE, str(error)],
                "classes": ["java.lang.RuntimeException"],
            },
        }
    result = derive_task_manager_memory(file.entries, version, standard_yaml=file.standard_yaml)
    return task_manager_output(result)


def is_load_failure(answer: Answer) -> bool:
    chain = answer.get("error", {}).get("chain") or [None]
    return bool(chain[0] == FLINK_LOAD_FAILURE)


def same_answer(engine: Answer, flink: Answer) -> bool:
    if is_load_failure(flink) or is_load_failure(engine):
        return is_load_failure(flink) and is_load_failure(engine)
    return engine == flink
