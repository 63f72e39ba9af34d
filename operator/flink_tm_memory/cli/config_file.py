"""Reading a Flink configuration file the way the chosen release's ``GlobalConfiguration`` does.

Flink has two file formats, and they disagree on what a value is:

* ``config.yaml`` (1.19+): standard YAML under snakeyaml-engine's Core schema. Nested keys are flattened
  with ``.``; values stay typed (``1728`` is an Integer, which as a memory size means 1728 *bytes*;
  ``yes`` and ``2024-01-01`` are strings). A duplicate key, a null value or a non-string key makes Flink
  refuse the whole file.
* ``flink-conf.yaml`` (1.x): a line parser. Everything after ``#`` is a comment, ``key: value`` is split at
  the first ``": "``, every value is a string, and malformed lines are skipped with a warning.

1.17/1.18 only have the line parser; 1.19/1.20 pick by file name; 2.x only reads ``config.yaml``, so a
``flink-conf.yaml`` given to a 2.x derivation is read with the line parser and flagged.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path

from flink_tm_memory.cli.errors import ConfigurationError, UsageError
from flink_tm_memory.memory.configuration import ConfigValue, java_string
from flink_tm_memory.memory.javanum import java_trim
from flink_tm_memory.memory.records import FrozenRecord
from flink_tm_memory.memory.versions import FlinkVersion

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see memory/records.py)
if TYPE_CHECKING:
    from typing import Any, Final

if TYPE_CHECKING:
    import yaml

STANDARD_FILE = "config.yaml"
LEGACY_FILE = "flink-conf.yaml"
_FLINK_FAILS = "Flink fails to load it too (Error parsing YAML configuration.)"
MAX_ALIASES_FOR_COLLECTIONS = 50
"""snakeyaml-engine's ``maxAliasesForCollections``, which Flink keeps: a file with more aliases of
sequences or mappings ("billion laughs") fails to load, in Flink and here, before anything expands."""


class Parser(StrEnum):
    STANDARD_YAML = "standard YAML"
    LEGACY = "legacy flink-conf.yaml parser"


class ConfigFile(FrozenRecord):
    """The entries of one configuration file, how they were parsed, and what the parser warned about."""

    __slots__ = ("entries", "parser", "path", "warnings")

    def __init__(
        self, path: str, parser: Parser, entries: dict[str, ConfigValue], warnings: tuple[str, ...] = ()
    ) -> None:
        self.path: Final = path
        self.parser: Final = parser
        self.entries: Final = entries
        self.warnings: Final = warnings


def read_config_file(path: str, version: FlinkVersion) -> ConfigFile:
    """Loads ``path`` (a file, or a conf directory) as ``version`` would."""
    file = _resolve(Path(path), version)
    text = _read_text(file)
    if version.uses_standard_yaml and file.name != LEGACY_FILE:
        return ConfigFile(str(file), Parser.STANDARD_YAML, parse_standard_yaml(text, str(file)))
    entries, warnings = parse_legacy_lines(text, str(file))
    if not version.is_1x:
        warnings.append(
            f"Flink {version} no longer reads {LEGACY_FILE} (only {STANDARD_FILE}); this file was read with "
            "Flink 1.x's legacy parser. Flink 1.19/1.20's bin/migrate-config-file.sh converts it."
        )
    return ConfigFile(str(file), Parser.LEGACY, entries, tuple(warnings))


def _resolve(path: Path, version: FlinkVersion) -> Path:
    """A conf directory holds the file this release would load, in Flink's order of preference."""
    if not path.is_dir():
        return path
    names = [LEGACY_FILE, STANDARD_FILE] if version.is_1x else [STANDARD_FILE]
    if not version.uses_standard_yaml:
        names = [LEGACY_FILE]
    for name in names:
        if (path / name).is_file():
            return path / name
    raise UsageError(f"{path} holds no {' or '.join(names)}, the file Flink {version} reads")


def _read_text(file: Path) -> str:
    try:
        return file.read_text(encoding="utf-8")
    except OSError as error:
        raise UsageError(f"cannot read configuration file {str(file)!r}: {error.strerror or error}") from None
    except UnicodeDecodeError as error:
        raise UsageError(
            f"cannot read configuration file {str(file)!r}: not UTF-8 ({error.reason})"
        ) from None


# ---------------------------------------------------------------------- flink-conf.yaml


def parse_legacy_lines(text: str, name: str) -> tuple[dict[str, ConfigValue], list[str]]:
    """Flink's legacy line parser: string values and Flink's own warnings for skipped lines."""
    entries: dict[str, ConfigValue] = {}
    warnings: list[str] = []
    for number, line in enumerate(_java_lines(text), 1):
        content = java_trim(line.split("#", 1)[0])
        if not content:
            continue
        key_value = content.split(": ", 1)
        if len(key_value) == 1:
            warnings.append(
                f"Error while trying to split key and value in configuration file {name}:{number}: "
                "Line is not a key-value pair (missing space after ':'?)"
            )
            continue
        key, value = java_trim(key_value[0]), java_trim(key_value[1])
        if not key or not value:
            warnings.append(
                f"Error after splitting key and value in configuration file {name}:{number}: "
                "Key or value was empty"
            )
            continue
        entries[key] = value
    return entries, warnings


def _java_lines(text: str) -> list[str]:
    # BufferedReader.readLine ends lines at \n, \r or \r\n only (str.splitlines knows many more).
    return re.split(r"\r\n|\r|\n", text)


# ---------------------------------------------------------------------- config.yaml


def parse_standard_yaml(text: str, name: str) -> dict[str, ConfigValue]:
    """Flink's standard YAML loading: Core schema scalars, nested keys flattened with ``.``."""
    import yaml

    try:
        document = yaml.load(text, Loader=_core_schema_loader())
    except yaml.YAMLError as error:
        raise ConfigurationError(f"{name}: {_one_line(error)}; {_FLINK_FAILS}") from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise ConfigurationError(f"{name}: the file is not a mapping of keys to values; {_FLINK_FAILS}")
    entries: dict[str, ConfigValue] = {}
    _flatten(document, "", entries, name)
    return entries


def _flatten(mapping: Mapping[Any, Any], prefix: str, into: dict[str, ConfigValue], name: str) -> None:
    for key, value in mapping.items():
        if not isinstance(key, str):
            raise ConfigurationError(f"{name}: key {key!r} is not a string; {_FLINK_FAILS}")
        full_key = prefix + key
        if isinstance(value, dict):
            _flatten(value, full_key + ".", into, name)
        elif value is None:
            raise ConfigurationError(f"{name}: {full_key!r} has no value (null); {_FLINK_FAILS}")
        elif isinstance(value, list):
            into[full_key] = _flow_text(value)
        else:
            into[full_key] = value


def _flow_text(value: object) -> str:
    """A list becomes its YAML flow form, e.g. ``[a, 1, {x: 1}]``, as Flink stores it."""
    if isinstance(value, list):
        return "[" + ", ".join(_flow_text(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_flow_text(k)}: {_flow_text(v)}" for k, v in value.items()) + "}"
    if value is None:
        return "null"
    if isinstance(value, str | int | float | bool):
        return java_string(value)
    return str(value)


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())


# snakeyaml-engine's CoreScalarResolver (YAML 1.2 Core schema); PyYAML on its own resolves YAML 1.1.
_CORE_SCALARS: tuple[tuple[str, str, str], ...] = (
    ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789"),
    (
        "float",
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        "-+0123456789.",
    ),
    ("null", r"^(?:~|null|Null|NULL|)$", "~nN"),
)


@functools.cache
def _core_schema_loader() -> type[yaml.SafeLoader]:
    import yaml

    class CoreSchemaLoader(yaml.SafeLoader):
        """SafeLoader with the Core schema's scalars and snakeyaml-engine's refusal of duplicate keys
        and of more than ``MAX_ALIASES_FOR_COLLECTIONS`` aliases of collections."""

        collection_aliases = 0

        def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
            if self.check_event(yaml.AliasEvent):
                event = self.peek_event()  # type: ignore[no-untyped-call]
                node = self.anchors.get(event.anchor)
                if node is not None and not isinstance(node, yaml.ScalarNode):
                    self.collection_aliases += 1
                    if self.collection_aliases > MAX_ALIASES_FOR_COLLECTIONS:
                        raise yaml.composer.ComposerError(
                            None,
                            None,
                            "Number of aliases for non-scalar nodes exceeds the specified max="
                            f"{MAX_ALIASES_FOR_COLLECTIONS}",
                            event.start_mark,
                        )
            return super().compose_node(parent, index)

        def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
            seen: set[object] = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=True)
                if isinstance(key, str | int | float) and key in seen:
                    raise yaml.constructor.ConstructorError(
                        "while constructing a mapping",
                        node.start_mark,
                        f"found duplicate key {key}",
                        key_node.start_mark,
                    )
                if isinstance(key, str | int | float):
                    seen.add(key)
            return super().construct_mapping(node, deep=deep)

    CoreSchemaLoader.yaml_implicit_resolvers = {}
    for tag, pattern, first in _CORE_SCALARS:
        starts: list[str | None] = [*first, ""] if tag == "null" else list(first)
        CoreSchemaLoader.add_implicit_resolver(f"tag:yaml.org,2002:{tag}", re.compile(pattern), starts)
    CoreSchemaLoader.add_constructor("tag:yaml.org,2002:bool", _core_bool)
    CoreSchemaLoader.add_constructor("tag:yaml.org,2002:int", _core_int)
    CoreSchemaLoader.add_constructor("tag:yaml.org,2002:float", _core_float)
    return CoreSchemaLoader


def _scalar(node: yaml.Node) -> str:
    return str(node.value)


def _core_bool(loader: yaml.SafeLoader, node: yaml.Node) -> bool:
    text = _scalar(node).lower()
    if text not in ("true", "false"):
        raise _bad_scalar(node, "bool")
    return text == "true"


def _core_int(loader: yaml.SafeLoader, node: yaml.Node) -> int:
    text = _scalar(node)
    try:
        if text.startswith("0o"):
            return int(text[2:], 8)
        if text.startswith("0x"):
            return int(text[2:], 16)
        return int(text)
    except ValueError:
        raise _bad_scalar(node, "int") from None


def _core_float(loader: yaml.SafeLoader, node: yaml.Node) -> float:
    text = _scalar(node)
    special = {".inf": math.inf, "+.inf": math.inf, "-.inf": -math.inf, ".nan": math.nan}
    if text.lower() in special:
        return special[text.lower()]
    try:
        return float(text)
    except ValueError:
        raise _bad_scalar(node, "float") from None


def _bad_scalar(node: yaml.Node, kind: str) -> Exception:
    import yaml

    return yaml.constructor.ConstructorError(
        None, None, f"{node.value!r} is not a valid {kind}", node.start_mark
    )
