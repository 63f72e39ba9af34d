"""The same options under two Flink releases: the layout of each, component by component, and why they differ.

An upgrade changes a TaskManager's memory only through what the releases read differently; the
arithmetic is the same from 1.17 to 2.3. So the reasons are found, not guessed:

- a key that only one release reads (Flink 1.x's legacy heap ``taskmanager.heap.size``/``.mb`` and
  ``taskmanager.network.numberOfBuffers``, removed in 2.0), and the ``FLINK_TM_HEAP`` variable;
- an entry the two releases' configuration-file readers read differently (``flink-conf.yaml``'s line
  parser against ``config.yaml``'s standard YAML, from 1.19; 2.0 reads no ``flink-conf.yaml`` at all);
- list and map values read as standard YAML by one release and not the other;
- a configuration one release accepts and the other rejects (with the rejecting release's message).

When none of these applies the layouts are the same to the byte, and the comparison says so.
"""

from __future__ import annotations

from flink_tm_memory.memory import options as opt
from flink_tm_memory.memory.engine import TaskManagerMemory, derive_task_manager_memory
from flink_tm_memory.memory.layout import COMPONENT_NAMES
from flink_tm_memory.memory.records import FrozenRecord
from flink_tm_memory.memory.versions import FlinkVersion

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see memory/records.py)
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Final

    from flink_tm_memory.memory.configuration import ConfigValue

_REMOVED_IN_2 = {
    opt.LEGACY_HEAP_SIZE.key: "Flink 1.x's legacy heap size",
    opt.LEGACY_HEAP_MB.key: "Flink 1.x's legacy heap size in MB",
    opt.LEGACY_NETWORK_BUFFERS.key: "Flink 1.x's legacy network buffer count",
}
_YAML_READ = (opt.CONSUMER_WEIGHTS.key, opt.EXTERNAL_RESOURCES.key)


class ComponentChange(FrozenRecord):
    """One component under both releases, in bytes (``None`` where a release rejects the options)."""

    __slots__ = ("after", "before", "name")

    def __init__(self, name: str, before: int | None, after: int | None) -> None:
        self.name: Final = name
        self.before: Final = before
        self.after: Final = after

    @property
    def changed(self) -> bool:
        return self.before != self.after


class VersionComparison(FrozenRecord):
    """Both releases' derivations of the same options, their differences, and why."""

    __slots__ = ("after", "before", "components", "reasons")

    def __init__(
        self,
        before: TaskManagerMemory,
        after: TaskManagerMemory,
        components: tuple[ComponentChange, ...],
        reasons: tuple[str, ...],
    ) -> None:
        self.before: Final = before
        self.after: Final = after
        self.components: Final = components
        self.reasons: Final = reasons

    @property
    def same(self) -> bool:
        return self.before.ok == self.after.ok and not any(change.changed for change in self.components)


def compare_versions(
    before_config: Mapping[str, ConfigValue],
    before_version: FlinkVersion,
    after_version: FlinkVersion,
    *,
    after_config: Mapping[str, ConfigValue] | None = None,
    legacy_heap_env: str | None = None,
    before_standard_yaml: bool | None = None,
    after_standard_yaml: bool | None = None,
    file_readers: tuple[str, str] | None = None,
) -> VersionComparison:
    """Derives the options under both releases and explains the differences.

    ``after_config`` is the configuration as ``after_version`` reads it when it came from a file (its
    reader may differ); ``file_readers`` names each release's reader of that file, for the reasons.
    """
    after_entries = before_config if after_config is None else after_config
    before = derive_task_manager_memory(
        before_config, before_version, legacy_heap_env=legacy_heap_env, standard_yaml=before_standard_yaml
    )
    after = derive_task_manager_memory(
        after_entries, after_version, legacy_heap_env=legacy_heap_env, standard_yaml=after_standard_yaml
    )
    components = tuple(
        ComponentChange(name, _bytes(before, name), _bytes(after, name)) for name in COMPONENT_NAMES
    )
    reasons = [
        *_keys_read_by_one(before_config, after_entries, before_version, after_version),
        *_legacy_environment(legacy_heap_env, before_version, after_version),
        *_entries_read_differently(before_config, after_entries, before_version, after_version, file_readers),
        *_yaml_values(
            after_entries, before_version, after_version, before_standard_yaml, after_standard_yaml
        ),
        *_outcome(before, after),
    ]
    if not reasons and any(change.changed for change in components):
        reasons.append("no option is read differently; the layouts differ in Flink's own derivation")
    return VersionComparison(before, after, components, tuple(reasons))


def _bytes(result: TaskManagerMemory, name: str) -> int | None:
    return None if result.layout is None else result.layout.components()[name]


def _keys_read_by_one(
    before: Mapping[str, ConfigValue], after: Mapping[str, ConfigValue], old: FlinkVersion, new: FlinkVersion
) -> list[str]:
    reasons = []
    old_keys, new_keys = opt.known_keys(old), opt.known_keys(new)
    for key in dict.fromkeys([*before, *after]):
        if key in old_keys and key not in new_keys:
            reasons.append(
                f"{key} ({_REMOVED_IN_2.get(key, 'an option')}) counts in {old}, not in {new} (removed in 2.0)"
            )
        elif key in new_keys and key not in old_keys:
            reasons.append(f"{key} ({_REMOVED_IN_2.get(key, 'an option')}) counts in {new}, not in {old}")
    return reasons


def _legacy_environment(value: str | None, old: FlinkVersion, new: FlinkVersion) -> list[str]:
    if value is None or old.has_legacy_heap_options == new.has_legacy_heap_options:
        return []
    reading, ignoring = (old, new) if old.has_legacy_heap_options else (new, old)
    return [f"{opt.LEGACY_HEAP_ENV}={value} counts in {reading}, not in {ignoring} (removed in 2.0)"]


def _entries_read_differently(
    before: Mapping[str, ConfigValue],
    after: Mapping[str, ConfigValue],
    old: FlinkVersion,
    new: FlinkVersion,
    readers: tuple[str, str] | None,
) -> list[str]:
    how = f" ({readers[0]} in {old}, {readers[1]} in {new})" if readers and readers[0] != readers[1] else ""
    reasons = []
    for key in dict.fromkeys([*before, *after]):
        if key not in after:
            reasons.append(f"{key}: read from the file by {old}, not by {new}{how}")
        elif key not in before:
            reasons.append(f"{key}: read from the file by {new}, not by {old}{how}")
        elif before[key] != after[key]:
            reasons.append(f"{key}: {old} reads {before[key]!r}, {new} reads {after[key]!r}{how}")
    return reasons


def _yaml_values(
    config: Mapping[str, ConfigValue],
    old: FlinkVersion,
    new: FlinkVersion,
    old_yaml: bool | None,
    new_yaml: bool | None,
) -> list[str]:
    old_mode = old.uses_standard_yaml if old_yaml is None else old_yaml and old.uses_standard_yaml
    new_mode = new.uses_standard_yaml if new_yaml is None else new_yaml and new.uses_standard_yaml
    if old_mode == new_mode:
        return []
    reading, plain = (new, old) if new_mode else (old, new)
    return [
        f"{key}: {reading} reads its value as standard YAML first, {plain} does not"
        for key in _YAML_READ
        if key in config
    ]


def _outcome(before: TaskManagerMemory, after: TaskManagerMemory) -> list[str]:
    if before.ok and not after.ok and after.primary_problem is not None:
        return [f"{after.version} rejects the options: {after.primary_problem.message}"]
    if after.ok and not before.ok and before.primary_problem is not None:
        return [
            f"{after.version} accepts the options {before.version} rejects ({before.primary_problem.message})"
        ]
    return []
