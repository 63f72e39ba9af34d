"""How Flink turns ``taskmanager.memory.managed.consumer-weights`` into per-use-case weights.

Three layers, each reproduced with Flink's own rules and error texts:

* ``Configuration.get`` of the map option: the exact key, else the ``consumer-weights.<NAME>`` prefix
  keys; a text value is read as YAML first where the release does so (1.19/1.20 with ``config.yaml``,
  every 2.x), else (and on any YAML failure) as the legacy ``K:V,K:V`` pattern, split by
  ``StructuredOptionsSplitter``. Failures are wrapped as ``Could not parse value '...' for key '...'.``
* ``ManagedMemoryUtils.getManagedMemoryUseCaseWeightsFromConfig``: per use case the first configured
  name (``DATAPROC`` still counts on 1.x), ``Integer.parseInt``, no negative weights.

The splitting itself is ``splitter.split_escaped``; the YAML reading is ``flink_yaml``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from flink_tm_memory.memory import options as opt
from flink_tm_memory.memory.configuration import ConfigValue, FlinkConfiguration, java_string
from flink_tm_memory.memory.failures import (
    ILLEGAL_ARGUMENT,
    ILLEGAL_STATE,
    JavaError,
    Reason,
    configuration_error,
)
from flink_tm_memory.memory.flink_yaml import YamlError, YamlMap, dump, load, option_text
from flink_tm_memory.memory.javanum import parse_java_int
from flink_tm_memory.memory.splitter import split_escaped
from flink_tm_memory.memory.versions import FlinkVersion

WEIGHTS_KEY = opt.CONSUMER_WEIGHTS.key
WEIGHTS_PREFIX = WEIGHTS_KEY + "."
DEPRECATED_CONSUMER_NAME = "DATAPROC"
DEFAULT_WEIGHTS: Mapping[str, str] = {"OPERATOR": "70", "STATE_BACKEND": "70", "PYTHON": "30"}


class ManagedMemoryUseCase(StrEnum):
    """Flink's ``ManagedMemoryUseCase``, in declaration order (the order weights are read in)."""

    OPERATOR = "OPERATOR"
    STATE_BACKEND = "STATE_BACKEND"
    PYTHON = "PYTHON"


def consumer_names(use_case: ManagedMemoryUseCase, version: FlinkVersion) -> tuple[str, ...]:
    """The names Flink looks up for a use case, in fallback order."""
    if use_case is not ManagedMemoryUseCase.PYTHON and version.has_dataproc_weight:
        return (use_case.value, DEPRECATED_CONSUMER_NAME)
    return (use_case.value,)


@dataclass(frozen=True, slots=True)
class ConfiguredWeights:
    """The option as Flink read it: name -> text, and the keys it came from (none for the default)."""

    entries: Mapping[str, str]
    keys: tuple[str, ...]


def read_weights_option(
    config: Mapping[str, ConfigValue], version: FlinkVersion, *, standard_yaml: bool
) -> ConfiguredWeights:
    """``Configuration.get(MANAGED_MEMORY_CONSUMER_WEIGHTS)``; raises ``JavaError`` as Flink throws."""
    configuration = FlinkConfiguration(dict(config), standard_yaml=standard_yaml)
    raw = configuration.raw(opt.CONSUMER_WEIGHTS)
    if raw is not None:
        text = java_string(raw)
        entries = configuration.convert(
            opt.CONSUMER_WEIGHTS, raw, lambda: _convert_to_properties(text, standard_yaml=standard_yaml)
        )
        return ConfiguredWeights(entries, (WEIGHTS_KEY,))
    prefixed = {
        key.removeprefix(WEIGHTS_PREFIX): _config_value_text(value, standard_yaml=standard_yaml)
        for key, value in config.items()
        if key.startswith(WEIGHTS_PREFIX)
    }
    if prefixed:
        keys = tuple(key for key in config if key.startswith(WEIGHTS_PREFIX))
        return ConfiguredWeights(prefixed, keys)
    return ConfiguredWeights(DEFAULT_WEIGHTS, ())


def effective_weights(
    configured: ConfiguredWeights, version: FlinkVersion
) -> dict[ManagedMemoryUseCase, int]:
    """``getManagedMemoryUseCaseWeightsFromConfig``: the first name present wins; errors in use-case order."""
    weights: dict[ManagedMemoryUseCase, int] = {}
    for use_case in ManagedMemoryUseCase:
        for name in consumer_names(use_case, version):
            text = configured.entries.get(name)
            if text is None:
                continue
            weight = parse_weight(text, keys=configured.keys)
            if weight < 0:
                raise configuration_error(
                    "Managed memory weight should not be negative. "
                    f"Configured weight for {use_case.value} is {weight}.",
                    reason=Reason.NEGATIVE_WEIGHT,
                    keys=configured.keys,
                )
            weights[use_case] = weight
            break
    return weights


def parse_weight(text: str, *, keys: tuple[str, ...] = ()) -> int:
    """``Integer.parseInt`` of one weight; its ``NumberFormatException`` reaches the caller unwrapped."""
    try:
        return parse_java_int(text)
    except JavaError as error:
        error.reason = Reason.INVALID_WEIGHTS
        error.keys = keys
        raise


# ------------------------------------------------------------------ ConfigurationUtils.convertToProperties


def _convert_to_properties(text: str, *, standard_yaml: bool) -> dict[str, str]:
    if standard_yaml:
        converted = _yaml_string_map(text)
        if converted is not None:
            return converted
    return legacy_map(text)


def _yaml_string_map(text: str) -> dict[str, str] | None:
    """The YAML reading, or ``None`` where Flink catches an exception and falls back."""
    try:
        loaded = load(text)
        if not isinstance(loaded, YamlMap):
            return None
        converted: dict[str, str] = {}
        for key, value in loaded.pairs:
            key_text = option_text(key)
            if key_text in converted:
                return None  # Collectors.toMap: duplicate key after conversion
            converted[key_text] = option_text(value)
    except (YamlError, RecursionError):
        return None
    return converted


def _config_value_text(value: ConfigValue, *, standard_yaml: bool) -> str:
    """``convertToString`` of a prefixed entry's value, as Flink holds it."""
    if standard_yaml and not isinstance(value, str):
        return dump(value)
    return java_string(value)


def legacy_map(text: str) -> dict[str, str]:
    """``convertToPropertiesWithLegacyPattern``: split at ',', each item at ':', collect as Java does."""
    result: dict[str, str] = {}
    for item in split_escaped(text, ","):
        pair = split_escaped(item, ":")
        if len(pair) != 2:
            raise JavaError(ILLEGAL_ARGUMENT, "Map item is not a key-value pair (missing ':'?)")
        key, value = pair
        if key in result:
            raise JavaError(
                ILLEGAL_STATE, f"Duplicate key {key} (attempted merging values {result[key]} and {value})"
            )
        result[key] = value
    return result
