"""Law: every rejected configuration gets a fix; every fix is accepted; a changed size is minimal to 1 MiB.

Whatever a user writes (hostile texts and YAML scalars for any key, in every release), the search
answers without raising, proposes at least one fix for a rejected configuration, each fix makes the
engine (held to Flink by the conformance vectors) accept it, and a size it changed, moved 1 MiB back
towards the user's value, is rejected again.
"""

from __future__ import annotations

from hypothesis import given

from flink_tm_memory.memory import derive_task_manager_memory
from flink_tm_memory.memory.fixes import apply_changes, closer_by_one_mib, search_changes
from tests.property.strategies import HostileConfig, examples, hostile_configurations, versions


def accepted(config: HostileConfig, version: str) -> bool:
    return derive_task_manager_memory(config, version, thorough=False).ok


@examples(60, slow_inputs=True)
@given(hostile_configurations(), versions)
def test_a_rejected_configuration_gets_fixes_that_flink_accepts(config: HostileConfig, version: str) -> None:
    found = search_changes(config, version)
    assert bool(found) != accepted(config, version)
    for changes in found:
        assert accepted(apply_changes(config, changes), version), changes


@examples(60, slow_inputs=True)
@given(hostile_configurations(), versions)
def test_a_changed_size_is_minimal_to_one_mib(config: HostileConfig, version: str) -> None:
    for changes in search_changes(config, version):
        for index, change in enumerate(changes):
            closer = closer_by_one_mib(change)
            if closer is not None:
                moved = (*changes[:index], closer, *changes[index + 1 :])
                assert not accepted(apply_changes(config, moved), version), (change, closer)
