"""Law: whatever a user writes, the engine answers with a layout or with problems, never an exception.

Any text (Unicode, huge digit strings, whitespace, control characters) or YAML scalar, for any
TaskManager memory key, CPU cores, slots and the legacy keys, in every supported release. Every
problem has Flink's message and names at least one key the user can change.
"""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from flink_tm_memory.memory import TaskManagerMemory, derive_task_manager_memory, parse_flink_version
from flink_tm_memory.memory.options import LEGACY_HEAP_ENV, known_keys
from tests.property.strategies import HostileConfig, examples, hostile_configurations, hostile_texts, versions

legacy_heap_env = st.one_of(st.none(), st.none(), st.none(), hostile_texts())


def derive(config: HostileConfig, version: str, env: str | None) -> TaskManagerMemory:
    return derive_task_manager_memory(config, version, legacy_heap_env=env)


@examples(150, slow_inputs=True)
@given(hostile_configurations(), versions, legacy_heap_env)
@example(
    {"taskmanager.memory.process.size": "1728m", "taskmanager.numberOfTaskSlots": "1" * 5000}, "2.2", None
)
def test_any_configuration_gives_a_layout_or_problems(
    config: HostileConfig, version: str, env: str | None
) -> None:
    result = derive(config, version, env)
    assert (result.layout is None) == bool(result.problems)


@examples(150, slow_inputs=True)
@given(hostile_configurations(), versions, legacy_heap_env)
def test_every_problem_has_a_message(config: HostileConfig, version: str, env: str | None) -> None:
    for problem in derive(config, version, env).problems:
        assert problem.headline
        assert problem.message
        assert len(problem.chain) == len(problem.classes) >= 1


@examples(150, slow_inputs=True)
@given(hostile_configurations(), versions, legacy_heap_env)
@example(
    {"taskmanager.memory.task.heap.size": "8388607t", "taskmanager.memory.managed.size": "8388607t"},
    "2.2",
    None,
)
@example(  # found by fuzzing: the overflow behind an unreadable fraction named no key
    {
        "taskmanager.memory.flink.size": "17533024g",
        "taskmanager.memory.managed.fraction": "8851046.memory.networ.99",
        "taskmanager.memory.jvm-overhead.fraction": "0.9999",
    },
    "2.1",
    None,
)
def test_every_problem_names_a_key_the_user_can_change(
    config: HostileConfig, version: str, env: str | None
) -> None:
    actionable = set(config) | known_keys(parse_flink_version(version)) | {LEGACY_HEAP_ENV}
    for problem in derive(config, version, env).problems:
        assert problem.keys, f"{problem.message!r} names no key"
        assert set(problem.keys) & actionable, (problem.message, problem.keys)
