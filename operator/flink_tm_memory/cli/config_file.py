"""Reading a Flink configuration file the way the chosen release's ``GlobalConfiguration`` does.

Flink has two file formats, and they disagree on what a value is:

* ``config.yaml`` (1.19+): standard YAML under snakeyaml-engine's Core schema, read by the port in
  ``memory/flink_yaml`` and flattened as Flink does (``memory/config_document.py``). Nested keys are
  joined with ``.``; values stay typed (``1728`` is an Integer, which as a memory size means 1728
  *bytes*; ``yes`` and ``2024-01-01`` are strings). A YAML error, a duplicate key, a null value or a
  non-string key makes Flink refuse the whole file.
* ``flink-conf.yaml`` (1.x): a line parser. Everything after ``#`` is a comment, ``key: value`` is split at
  the first ``": "``, every value is a string, and malformed lines are skipped with a warning.

1.17/1.18 only have the line parser; 1.19/1.20 pick by file name (and a ``flink-conf.yaml`` also puts
option values in legacy mode, ``ConfigFile.standard_yaml``); 2.x only reads ``config.yaml``, so a
``flink-conf.yaml`` given to a 2.x derivation is read with the line parser and flagged. Bytes are
decoded as each reader decodes them. ``tests/conformance/fuzz_config_files.py`` checks all of this
against Flink itself.
"""

from __future__ import annotations

import codecs
import re
from enum import StrEnum
from pathlib import Path

from flink_tm_memory.cli.errors import ConfigurationError, UsageError
from flink_tm_memory.memory.config_document import load_config_document
from flink_tm_memory.memory.configuration import ConfigValue
from flink_tm_memory.memory.javanum import java_trim
from flink_tm_memory.memory.records import FrozenRecord
from flink_tm_memory.memory.versions import FlinkVersion

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see memory/records.py)
if TYPE_CHECKING:
    from typing import Final

STANDARD_FILE = "config.yaml"
LEGACY_FILE = "flink-conf.yaml"
FLINK_LOAD_FAILURE = "Error parsing YAML configuration."
"""The message of the ``RuntimeException`` Flink's ``GlobalConfiguration`` throws for a file it cannot load."""
_FLINK_FAILS = f"Flink fails to load it too ({FLINK_LOAD_FAILURE})"


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

    @property
    def standard_yaml(self) -> bool:
        """Flink's standard-YAML mode for option values: on for ``config.yaml``, off for the line parser
        (1.19/1.20 reading a ``flink-conf.yaml`` split list values on ``;`` as 1.18 did)."""
        return self.parser is Parser.STANDARD_YAML


def read_config_file(path: str, version: FlinkVersion) -> ConfigFile:
    """Loads ``path`` (a file, or a conf directory) as ``version`` would."""
    file = _resolve(Path(path), version)
    return parse_config_bytes(_read_bytes(file), str(file), version)


def parse_config_text(text: str, path: str, version: FlinkVersion) -> ConfigFile:
    """The entries of a file holding ``text`` (as UTF-8), read as ``version`` reads a file of that name."""
    return parse_config_bytes(text.encode("utf-8", errors="surrogatepass"), path, version)


def parse_config_bytes(data: bytes, path: str, version: FlinkVersion) -> ConfigFile:
    """The entries of a file holding ``data``, read as ``version`` reads a file of that name."""
    if version.uses_standard_yaml and Path(path).name != LEGACY_FILE:
        return ConfigFile(path, Parser.STANDARD_YAML, parse_standard_yaml(decode_standard(data, path), path))
    entries, warnings = parse_legacy_lines(decode_legacy(data), path)
    if not version.reads_flink_conf_yaml:
        warnings.append(
            f"Flink {version} no longer reads {LEGACY_FILE} (only {STANDARD_FILE}); this file was read with "
            "Flink 1.x's legacy parser. Flink 1.19/1.20's bin/migrate-config-file.sh converts it."
        )
    return ConfigFile(path, Parser.LEGACY, entries, tuple(warnings))


def _resolve(path: Path, version: FlinkVersion) -> Path:
    """A conf directory holds the file this release would load, in Flink's order of preference."""
    if not path.is_dir():
        return path
    names = [LEGACY_FILE, STANDARD_FILE] if version.reads_flink_conf_yaml else [STANDARD_FILE]
    if not version.uses_standard_yaml:
        names = [LEGACY_FILE]
    for name in names:
        if (path / name).is_file():
            return path / name
    raise UsageError(f"{path} holds no {' or '.join(names)}, the file Flink {version} reads")


def _read_bytes(file: Path) -> bytes:
    try:
        return file.read_bytes()
    except OSError as error:
        raise UsageError(f"cannot read configuration file {str(file)!r}: {error.strerror or error}") from None


_BOMS = (
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
)


def decode_standard(data: bytes, name: str) -> str:
    """snakeyaml-engine's ``UnicodeReader``: a BOM picks UTF-8/16/32 and is dropped, else strict UTF-8."""
    encoding, bom = "utf-8", b""
    for candidate, candidate_encoding in _BOMS:
        if data.startswith(candidate):
            encoding, bom = candidate_encoding, candidate
            break
    try:
        return data[len(bom) :].decode(encoding)
    except UnicodeDecodeError as error:
        raise ConfigurationError(
            f"{name}: not {encoding.upper()} (byte {error.start}: {error.reason}); {_FLINK_FAILS}"
        ) from None


def decode_legacy(data: bytes) -> str:
    """Flink 1.x's ``InputStreamReader``: the platform charset (UTF-8), bad bytes become U+FFFD, a BOM stays."""
    return data.decode("utf-8", errors="replace")


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
    """Flink's standard YAML loading (``memory/config_document.py``), failures naming the file."""
    document = load_config_document(text)
    if document.too_deep:
        raise ConfigurationError(f"{name}: {document.problem} (Flink's limit is its JVM's thread stack)")
    if document.problem is not None:
        raise ConfigurationError(f"{name}: {document.problem}; {_FLINK_FAILS}")
    return document.entries
