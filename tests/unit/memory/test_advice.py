"""Advice on configurations Flink accepts: sizes no machine holds, explicit sizes beside a total."""

from __future__ import annotations

from flink_tm_memory.memory import NoteCode, derive_task_manager_memory


def test_a_size_flink_accepts_but_no_machine_holds_is_a_warning() -> None:
    result = derive_task_manager_memory({"taskmanager.memory.process.size": "8388607t"}, "2.2")
    assert result.ok
    [note] = [note for note in result.notes if note.code is NoteCode.IMPLAUSIBLE_SIZE]
    assert note.keys == ("taskmanager.memory.process.size",)
    assert "is more than any machine has (64.000tb" in note.message
    plausible = derive_task_manager_memory({"taskmanager.memory.process.size": "64t"}, "2.2")
    assert all(note.code is not NoteCode.IMPLAUSIBLE_SIZE for note in plausible.notes)


def test_the_explicit_with_total_advice_names_only_what_is_explicit() -> None:
    result = derive_task_manager_memory(
        {"taskmanager.memory.process.size": "4g", "taskmanager.memory.managed.size": "1g"}, "2.2"
    )
    [note] = [note for note in result.notes if note.code is NoteCode.EXPLICIT_AND_TOTAL]
    assert note.message.startswith("taskmanager.memory.managed.size is configured together with")
    assert "task heap and managed memory are explicit" not in note.message
