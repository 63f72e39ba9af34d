"""How Flink 1.19+ reads list and map option values in standard-YAML mode.

With ``config.yaml`` (1.19, 1.20) and always from 2.0, Flink first tries to load a list or map option's
string value as a YAML document (snakeyaml-engine, Core schema): ``[gpu, fpga]`` is a list and
``{OPERATOR: 70, PYTHON: 30}`` a map. Only when that does not give a list (or a map) does it fall
back to the legacy ``a;b`` / ``K:V,K:V`` splitting. Items become strings again the way Flink's
``convertToString`` does (scalars as YAML writes them).

This module covers the YAML that such a value can hold on one line: flow sequences and flow mappings
(nested), plain and quoted scalars, resolved with the Core schema. Anything else is "not a list/map"
here, and the caller falls back to splitting, as Flink does for scalars.
"""

from __future__ import annotations

import re

from flink_tm_memory.memory.javanum import java_double_to_string

YamlValue = None | bool | int | float | str | list["YamlValue"] | dict[str, "YamlValue"]

_NULL = re.compile(r"~|null|Null|NULL|")
_TRUE = re.compile(r"true|True|TRUE")
_FALSE = re.compile(r"false|False|FALSE")
_DECIMAL = re.compile(r"[-+]?[0-9]+")
_OCTAL = re.compile(r"0o[0-7]+")
_HEX = re.compile(r"0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_INFINITY = re.compile(r"[-+]?\.(inf|Inf|INF)")
_NAN = re.compile(r"\.(nan|NaN|NAN)")
_FLOW_INDICATORS = ",[]{}"


class NotFlowYamlError(ValueError):
    """The text is not a one-line YAML flow collection this module reads."""


def load_flow_collection(text: str) -> list[YamlValue] | dict[str, YamlValue] | None:
    """The list or map a value denotes in standard YAML, or ``None`` when it is not one."""
    stripped = text.strip(" \t")
    if not stripped or stripped[0] not in "[{":
        return None
    try:
        parser = _FlowParser(stripped)
        value = parser.node()
        parser.skip_space()
        if parser.position != len(parser.text):
            raise NotFlowYamlError("trailing content")
    except NotFlowYamlError:
        return None
    return value if isinstance(value, list | dict) else None


def to_option_string(value: YamlValue) -> str:
    """Flink's ``convertToString`` in standard-YAML mode: strings as they are, the rest as YAML."""
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return java_double_to_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(to_option_string(item) for item in value) + "]"
    return "{" + ", ".join(f"{key}: {to_option_string(item)}" for key, item in value.items()) + "}"


def resolve_scalar(text: str) -> YamlValue:
    """A plain scalar resolved with the YAML 1.2 Core schema."""
    if _NULL.fullmatch(text):
        return None
    if _TRUE.fullmatch(text):
        return True
    if _FALSE.fullmatch(text):
        return False
    if _DECIMAL.fullmatch(text):
        return int(text)
    if _OCTAL.fullmatch(text):
        return int(text[2:], 8)
    if _HEX.fullmatch(text):
        return int(text[2:], 16)
    if _FLOAT.fullmatch(text):
        return float(text)
    if _INFINITY.fullmatch(text):
        return float("-inf") if text.startswith("-") else float("inf")
    if _NAN.fullmatch(text):
        return float("nan")
    return text


class _FlowParser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.position = 0

    def node(self) -> YamlValue:
        self.skip_space()
        char = self._peek()
        if char == "[":
            return self._sequence()
        if char == "{":
            return self._mapping()
        if char in ("'", '"'):
            return self._quoted()
        return resolve_scalar(self._plain(stop_at_colon=False))

    def skip_space(self) -> None:
        while self.position < len(self.text) and self.text[self.position] in " \t":
            self.position += 1

    def _peek(self) -> str:
        if self.position >= len(self.text):
            raise NotFlowYamlError("unexpected end")
        return self.text[self.position]

    def _expect(self, char: str) -> None:
        self.skip_space()
        if self._peek() != char:
            raise NotFlowYamlError(f"expected {char!r}")
        self.position += 1

    def _sequence(self) -> list[YamlValue]:
        self._expect("[")
        items: list[YamlValue] = []
        while True:
            self.skip_space()
            if self._peek() == "]":
                self.position += 1
                return items
            items.append(self.node())
            self.skip_space()
            if self._peek() == ",":
                self.position += 1
            elif self._peek() != "]":
                raise NotFlowYamlError("expected ',' or ']'")

    def _mapping(self) -> dict[str, YamlValue]:
        self._expect("{")
        entries: dict[str, YamlValue] = {}
        while True:
            self.skip_space()
            if self._peek() == "}":
                self.position += 1
                return entries
            key = self._key()
            value: YamlValue = None
            self.skip_space()
            if self._peek() == ":":
                self.position += 1
                self.skip_space()
                value = None if self._peek() in ",}" else self.node()
            if key in entries:
                raise NotFlowYamlError(f"duplicate key {key!r}")
            entries[key] = value
            self.skip_space()
            if self._peek() == ",":
                self.position += 1
            elif self._peek() != "}":
                raise NotFlowYamlError("expected ',' or '}'")

    def _key(self) -> str:
        if self._peek() in ("'", '"'):
            return self._quoted()
        if self._peek() in "[{":
            raise NotFlowYamlError("complex keys are not read here")
        return to_option_string(resolve_scalar(self._plain(stop_at_colon=True)))

    def _plain(self, *, stop_at_colon: bool) -> str:
        start = self.position
        if self._peek() in _FLOW_INDICATORS or self._peek() in "#&*!|>%@`":
            raise NotFlowYamlError("not a plain scalar")
        while self.position < len(self.text):
            char = self.text[self.position]
            following = self.text[self.position + 1 : self.position + 2]
            if char in _FLOW_INDICATORS:
                break
            if char == ":" and (following in ("", " ", "\t") or following in _FLOW_INDICATORS):
                if stop_at_colon:
                    break
                raise NotFlowYamlError("implicit mapping inside a sequence is not read here")
            if char == "#" and self.text[self.position - 1 : self.position] in (" ", "\t"):
                raise NotFlowYamlError("comments are not read here")
            self.position += 1
        return self.text[start : self.position].rstrip(" \t")

    def _quoted(self) -> str:
        quote = self._peek()
        self.position += 1
        collected: list[str] = []
        while self.position < len(self.text):
            char = self.text[self.position]
            if char == quote:
                if quote == "'" and self.text[self.position + 1 : self.position + 2] == "'":
                    collected.append("'")
                    self.position += 2
                    continue
                self.position += 1
                return "".join(collected)
            if char == "\\" and quote == '"':
                raise NotFlowYamlError("escapes are not read here")
            collected.append(char)
            self.position += 1
        raise NotFlowYamlError("unclosed quote")
