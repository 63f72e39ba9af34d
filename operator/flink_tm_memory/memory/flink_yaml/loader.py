"""Loads one configuration value the way Flink does: reader, scanner, parser, composer, constructor.

The one entry point that chains the stages. Mirrors snakeyaml-engine's ``Load.loadFromString`` with the
``LoadSettings`` Flink's ``YamlParserUtils`` uses (core schema, duplicate keys refused).
"""

from __future__ import annotations

from flink_tm_memory.memory.flink_yaml.characters import is_printable
from flink_tm_memory.memory.flink_yaml.composer import Composer
from flink_tm_memory.memory.flink_yaml.constructor import Constructor
from flink_tm_memory.memory.flink_yaml.parser import Parser
from flink_tm_memory.memory.flink_yaml.scanner import Scanner
from flink_tm_memory.memory.flink_yaml.values import YamlError, YamlValue


def load(text: str) -> YamlValue:
    """``Load.loadFromString`` with Flink's settings: one document, its constructed value."""
    if not all(is_printable(ord(char)) for char in text):
        raise YamlError("special characters are not allowed")
    node = Composer(Parser(Scanner(text))).single_node()
    return None if node is None else Constructor().construct(node)
