"""A read-only view of a Flink configuration that reads options exactly as Flink's ``Configuration`` does.

Values arrive as users write them: strings (``-D`` flags, ``flink-conf.yaml``) or typed YAML scalars
(``config.yaml``). Lookup follows the option's key, then its fallback keys in declaration order;
conversion follows Flink's ``ConfigurationUtils`` rules per type, with Flink's error texts. Every use
of a deprecated key is remembered so it can be reported as a note.
"""

from __future__ import annotations

import math

from flink_tm_memory.memory.failures import ILLEGAL_ARGUMENT, JavaError, Reason, configuration_error
from flink_tm_memory.memory.javanum import (
    INT_MAX,
    INT_MIN,
    LONG_MAX,
    fits_float,
    java_double_to_string,
    parse_java_double,
    parse_java_float,
    parse_java_int,
    parse_java_long,
    to_binary32,
)
from flink_tm_memory.memory.options import ConfigOption, OptionType
from flink_tm_memory.memory.records import FrozenRecord, Record
from flink_tm_memory.memory.sizes import parse_memory_size
from flink_tm_memory.memory.splitter import split_escaped

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see memory/records.py)
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping
    from typing import Final, TypeVar

    T = TypeVar("T")

ConfigValue = str | int | float | bool
"""A configuration value as it can appear in a Flink configuration file or ``-D`` flag."""


def java_string(value: ConfigValue) -> str:
    """``Object.toString()`` of the value Flink would hold for this Python scalar."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return java_double_to_string(value)
    return str(value)


class DeprecatedKeyUse(FrozenRecord):
    __slots__ = ("deprecated_key", "key")

    def __init__(self, deprecated_key: str, key: str) -> None:
        self.deprecated_key: Final = deprecated_key
        self.key: Final = key


class FlinkConfiguration(Record):
    """The entries of one configuration; ``with_entry`` returns a modified copy, as Flink copies.

    ``standard_yaml`` is Flink's standard-YAML mode (config.yaml, 1.19+): list and map values are read
    as YAML first.
    """

    __slots__ = ("deprecated_uses", "entries", "standard_yaml")

    def __init__(
        self,
        entries: Mapping[str, ConfigValue],
        deprecated_uses: list[DeprecatedKeyUse] | None = None,
        standard_yaml: bool = False,
    ) -> None:
        self.entries = entries
        self.deprecated_uses = [] if deprecated_uses is None else deprecated_uses
        self.standard_yaml = standard_yaml

    def __iter__(self) -> Iterator[str]:
        return iter(self.entries)

    def found_key(self, option: ConfigOption) -> str | None:
        """The key whose value Flink would use: the option's own, else the first fallback present."""
        for key in option.all_keys:
            if key in self.entries:
                if key != option.key:
                    use = DeprecatedKeyUse(key, option.key)
                    if use not in self.deprecated_uses:
                        self.deprecated_uses.append(use)
                return key
        return None

    def contains(self, option: ConfigOption) -> bool:
        return self.found_key(option) is not None

    def raw(self, option: ConfigOption) -> ConfigValue | None:
        key = self.found_key(option)
        return None if key is None else self.entries[key]

    def with_entry(self, key: str, value: ConfigValue) -> FlinkConfiguration:
        return FlinkConfiguration({**self.entries, key: value}, self.deprecated_uses, self.standard_yaml)

    def without(self, keys: set[str]) -> FlinkConfiguration:
        return FlinkConfiguration(
            {key: value for key, value in self.entries.items() if key not in keys},
            self.deprecated_uses,
            self.standard_yaml,
        )

    # --- Configuration.get(option): conversion errors are unwrapped IllegalArgumentExceptions ---

    def get_memory(self, option: ConfigOption) -> int | None:
        value = self.raw(option)
        if value is None:
            return None if option.default is None else int(option.default)
        return self._convert(option, value, lambda: parse_memory_size(java_string(value)))

    def get_float(self, option: ConfigOption) -> float:
        value = self.raw(option)
        if value is None:
            return float(option.default) if option.default is not None else math.nan
        return self._convert(option, value, lambda: _to_float(value))

    def get_double(self, option: ConfigOption) -> float | None:
        value = self.raw(option)
        if value is None:
            return None if option.default is None else float(option.default)
        return self._convert(option, value, lambda: _to_double(value))

    def get_int(self, option: ConfigOption) -> int | None:
        value = self.raw(option)
        if value is None:
            return None if option.default is None else int(option.default)
        return self._convert(option, value, lambda: _to_int(value))

    def get_long(self, option: ConfigOption) -> int | None:
        value = self.raw(option)
        if value is None:
            return None if option.default is None else int(option.default)
        return self._convert(option, value, lambda: _to_long(value))

    def get_string_list(self, option: ConfigOption) -> list[str] | None:
        """A list option: YAML ``[a, b]`` first in standard-YAML mode, else Flink's ``a;b`` splitting."""
        value = self.raw(option)
        if value is None:
            return None
        text = java_string(value)
        if self.standard_yaml:
            loaded = _yaml_string_list(text)
            if loaded is not None:
                return loaded
        return self._convert(option, value, lambda: split_escaped(text, ";"))

    def convert(self, option: ConfigOption, value: ConfigValue, converter: Callable[[], T]) -> T:
        """Runs ``converter`` on the value of ``option``, wrapping failures as ``Configuration.get`` does."""
        return self._convert(option, value, converter)

    def _convert(self, option: ConfigOption, value: ConfigValue, converter: Callable[[], T]) -> T:
        try:
            return converter()
        except JavaError as error:
            raise JavaError(
                ILLEGAL_ARGUMENT,
                f"Could not parse value '{java_string(value)}' for key '{option.key}'.",
                error,
                reason=_PARSE_REASONS[option.type],
                keys=(self.found_key(option) or option.key,),
            ) from None

    # --- ProcessMemoryUtils.getMemorySizeFromConfig: every failure wrapped, null rejected ---

    def read_memory(self, option: ConfigOption) -> int:
        try:
            size = self.get_memory(option)
            if size is None:
                raise JavaError(
                    "java.lang.NullPointerException", "The memory option is not set and has no default value."
                )
        except JavaError as error:
            raise configuration_error(
                f"Cannot read memory size from config option '{option.key}'.",
                error,
                reason=Reason.INVALID_MEMORY_SIZE,
                keys=(self.found_key(option) or option.key,),
            ) from None
        return size


_PARSE_REASONS = {
    OptionType.MEMORY: Reason.INVALID_MEMORY_SIZE,
    OptionType.FLOAT: Reason.INVALID_FRACTION,
    OptionType.DOUBLE: Reason.INVALID_NUMBER,
    OptionType.INTEGER: Reason.INVALID_NUMBER,
    OptionType.MAP: Reason.INVALID_WEIGHTS,
    OptionType.STRING: Reason.INVALID_NUMBER,
    OptionType.LONG: Reason.INVALID_EXTERNAL_RESOURCE,
    OptionType.LIST: Reason.INVALID_EXTERNAL_RESOURCE,
}


def _to_float(value: ConfigValue) -> float:
    if isinstance(value, float):
        if not fits_float(value):
            raise JavaError(
                ILLEGAL_ARGUMENT,
                f"Configuration value {java_double_to_string(value)} overflows/underflows the float type.",
            )
        return to_binary32(value)
    return parse_java_float(java_string(value))


def _to_double(value: ConfigValue) -> float:
    if isinstance(value, float):
        return value
    return parse_java_double(java_string(value))


def _to_int(value: ConfigValue) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        if INT_MIN <= value <= INT_MAX:
            return value
        if -LONG_MAX - 1 <= value <= LONG_MAX:
            raise JavaError(
                ILLEGAL_ARGUMENT, f"Configuration value {value} overflows/underflows the integer type."
            )
    return parse_java_int(java_string(value))


def _to_long(value: ConfigValue) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and -LONG_MAX - 1 <= value <= LONG_MAX:
        return value
    return parse_java_long(java_string(value))


def _yaml_string_list(text: str) -> list[str] | None:
    """The YAML reading of a list option, or ``None`` where Flink catches the failure and splits instead."""
    # Imported here: the YAML port is sizeable and only list options in standard-YAML mode need it.
    from flink_tm_memory.memory.flink_yaml import YamlError, load, option_text  # noqa: PLC0415

    try:
        loaded = load(text)
        return [option_text(item) for item in loaded] if isinstance(loaded, list) else None
    except (YamlError, RecursionError):
        return None
