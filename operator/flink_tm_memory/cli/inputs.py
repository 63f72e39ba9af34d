"""Where a derivation's configuration comes from: a file, ``-D`` entries, or Flink's shipped default.

``-D`` entries override the file, as Flink's dynamic properties do, and are strings as on Flink's
command line. With neither, the derivation runs on the configuration a Flink distribution ships, and
the output says so.
"""

from __future__ import annotations

from flink_tm_memory.memory.configuration import ConfigValue
from flink_tm_memory.memory.records import FrozenRecord
from flink_tm_memory.memory.versions import FlinkVersion

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see memory/records.py)
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Final

    from flink_tm_memory.cli.config_file import ConfigFile

SHIPPED_DEFAULT: dict[str, ConfigValue] = {
    "taskmanager.memory.process.size": "1728m",
    "taskmanager.numberOfTaskSlots": "1",
}
"""The TaskManager entries of the config file every Flink 1.17 - 2.3 distribution ships."""


class ConfigInput(FrozenRecord):
    """The configuration handed to the engine, and where each part of it came from."""

    __slots__ = ("dynamic", "entries", "file")

    def __init__(
        self, entries: dict[str, ConfigValue], file: ConfigFile | None, dynamic: dict[str, str]
    ) -> None:
        self.entries: Final = entries
        self.file: Final = file
        self.dynamic: Final = dynamic

    @property
    def is_shipped_default(self) -> bool:
        return self.file is None and not self.dynamic

    @property
    def warnings(self) -> tuple[str, ...]:
        return self.file.warnings if self.file else ()

    def describe(self) -> str:
        """One line naming the sources, for the top of human-readable output."""
        if self.is_shipped_default:
            shipped = ", ".join(f"{key}: {value}" for key, value in SHIPPED_DEFAULT.items())
            return f"none given, so Flink's shipped default ({shipped})"
        parts = []
        if self.file:
            parts.append(f"{self.file.path} ({self.file.parser}, {_count(len(self.file.entries), 'entry')})")
        if self.dynamic:
            parts.append(" ".join(f"-D {key}={value}" for key, value in self.dynamic.items()))
        return ", overridden by ".join(parts)


def gather_configuration(
    config_path: str | None, dynamic: Sequence[tuple[str, str]], version: FlinkVersion
) -> ConfigInput:
    """The file's entries with the ``-D`` entries on top, or the shipped default when both are absent."""
    file = _read_file(config_path, version) if config_path else None
    overrides = dict(dynamic)
    if file is None and not overrides:
        return ConfigInput(dict(SHIPPED_DEFAULT), None, {})
    entries: dict[str, ConfigValue] = dict(file.entries) if file else {}
    entries.update(overrides)
    return ConfigInput(entries, file, overrides)


def _read_file(path: str, version: FlinkVersion) -> ConfigFile:
    from flink_tm_memory.cli.config_file import read_config_file  # pathlib and parsers only when needed

    return read_config_file(path, version)


def _count(number: int, noun: str) -> str:
    plural = noun[:-1] + "ies" if noun.endswith("y") else noun + "s"
    return f"{number} {noun if number == 1 else plural}"
