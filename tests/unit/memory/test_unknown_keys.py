"""Unknown or misspelled keys anywhere in a release's TaskManager options get "did you mean".

The release's options are Flink's own ``TaskManagerOptions`` and ``NettyShuffleEnvironmentOptions``
(``memory/taskmanager_keys.py``, generated from ``flink-oracle --options``).
"""

from __future__ import annotations

import pytest

from flink_tm_memory.memory import SUPPORTED_VERSIONS, FlinkVersion, NoteCode, derive_task_manager_memory
from flink_tm_memory.memory.options import known_keys
from flink_tm_memory.memory.taskmanager_keys import TASK_MANAGER_KEYS


def unknown_key_notes(key: str, version: str = "2.2") -> list[str]:
    result = derive_task_manager_memory({"taskmanager.memory.process.size": "4g", key: "1"}, version)
    return [note.message for note in result.notes if note.code is NoteCode.UNKNOWN_KEY]


@pytest.mark.parametrize(
    ("key", "meant"),
    [
        ("taskmanager.numberOfTaskSlot", "taskmanager.numberOfTaskSlots"),
        ("taskmanger.numberOfTaskSlots", "taskmanager.numberOfTaskSlots"),
        ("taskmanager.data.prot", "taskmanager.data.port"),
        ("taskmanager.network.sort-shufle.min-buffers", "taskmanager.network.sort-shuffle.min-buffers"),
    ],
)
def test_a_misspelled_task_manager_option_gets_did_you_mean(key: str, meant: str) -> None:
    assert unknown_key_notes(key) == [
        f"'{key}' is not one of Flink 2.2's TaskManager options. Did you mean '{meant}'?"
    ]


def test_a_key_in_the_wrong_case_is_named_as_such() -> None:
    [message] = unknown_key_notes("taskmanager.numberofTaskSlots")
    assert message.endswith("Did you mean 'taskmanager.numberOfTaskSlots'? (Flink's keys are case-sensitive)")


@pytest.mark.parametrize(
    "key",
    ["taskmanager.host", "taskmanager.debug.memory.log", "jobmanager.memory.process.size", "taskmanager.xyz"],
)
def test_real_options_and_keys_near_none_get_no_note(key: str) -> None:
    assert unknown_key_notes(key) == []


@pytest.mark.parametrize("version", SUPPORTED_VERSIONS, ids=lambda version: version.name)
def test_every_key_the_engine_reads_is_among_flinks_task_manager_options(version: FlinkVersion) -> None:
    assert known_keys(version) <= TASK_MANAGER_KEYS[version.name]
