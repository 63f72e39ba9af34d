"""Turns tokens into events: document boundaries, collection starts and ends, scalars, aliases.

The composer needs events, not tokens; this is the grammar of YAML, including the tag handles that
``%TAG`` directives declare. Mirrors snakeyaml-engine's ``ParserImpl`` state machine (one method per
production, a stack of states), producing only the events the composer needs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flink_tm_memory.memory.flink_yaml.nodes import TAG_PREFIX
from flink_tm_memory.memory.flink_yaml.scanner import Scanner
from flink_tm_memory.memory.flink_yaml.tokens import Token
from flink_tm_memory.memory.flink_yaml.values import YamlError


@dataclass(slots=True)
class _Event:
    kind: str
    anchor: str | None = None
    tag: str | None = None
    implicit: tuple[bool, bool] = (True, False)
    value: str = ""
    style: str = ""


class Parser:
    """``ParserImpl``'s state machine, producing the events the composer needs."""

    def __init__(self, scanner: Scanner) -> None:
        self.scanner = scanner
        self.current: _Event | None = None
        self.state: Callable[[], _Event] | None = self._parse_stream_start
        self.states: list[Callable[[], _Event]] = []
        self.tag_handles: dict[str, str] = {"!": "!", "!!": TAG_PREFIX}

    def check(self, kind: str) -> bool:
        return self.peek().kind == kind

    def peek(self) -> _Event:
        if self.current is None:
            if self.state is None:
                raise YamlError("no more events")
            self.current = self.state()
        return self.current

    def next(self) -> _Event:
        event = self.peek()
        self.current = None
        return event

    def _pop_state(self) -> None:
        self.state = self.states.pop()

    def _parse_stream_start(self) -> _Event:
        self.scanner.next()
        self.state = self._parse_implicit_document_start
        return _Event("StreamStart")

    def _parse_implicit_document_start(self) -> _Event:
        if self.scanner.check("Directive", "DocumentStart", "StreamEnd"):
            return self._parse_document_start()
        self.states.append(self._parse_document_end)
        self.state = self._parse_block_node
        return _Event("DocumentStart")

    def _parse_document_start(self) -> _Event:
        while self.scanner.check("DocumentEnd"):
            self.scanner.next()
        if self.scanner.check("StreamEnd"):
            self.scanner.next()
            if self.states:
                raise YamlError("unexpected end of stream")
            self.state = None
            return _Event("StreamEnd")
        self._process_directives()
        if not self.scanner.check("DocumentStart"):
            raise YamlError("expected '<document start>'")
        self.scanner.next()
        self.states.append(self._parse_document_end)
        self.state = self._parse_document_content
        return _Event("DocumentStart")

    def _process_directives(self) -> None:
        handles: dict[str, str] = {}
        seen_version = False
        while self.scanner.check("Directive"):
            token = self.scanner.next()
            if token.value == "YAML":
                if seen_version:
                    raise YamlError("found duplicate YAML directive")
                seen_version = True
                if token.directive[0] != "1":
                    raise YamlError("unsupported YAML version")
            elif token.value == "TAG":
                handle, prefix = token.directive
                if handle in handles:
                    raise YamlError("duplicate tag handle")
                handles[handle] = prefix
        self.tag_handles = {"!": "!", "!!": TAG_PREFIX, **handles}

    def _parse_document_end(self) -> _Event:
        if self.scanner.check("DocumentEnd"):
            self.scanner.next()
        elif self.scanner.check("Directive"):
            raise YamlError("expected '<document end>' before directives")
        self.tag_handles = {}
        self.state = self._parse_document_start
        return _Event("DocumentEnd")

    def _parse_document_content(self) -> _Event:
        if self.scanner.check("Directive", "DocumentStart", "DocumentEnd", "StreamEnd"):
            self._pop_state()
            return _Event("Scalar")
        return self._parse_block_node()

    def _parse_block_node(self) -> _Event:
        return self._parse_node(block=True, indentless_sequence=False)

    def _parse_flow_node(self) -> _Event:
        return self._parse_node(block=False, indentless_sequence=False)

    def _parse_node(self, *, block: bool, indentless_sequence: bool) -> _Event:
        scanner = self.scanner
        if scanner.check("Alias"):
            self._pop_state()
            return _Event("Alias", anchor=scanner.next().value)
        anchor, tag = self._parse_properties()
        implicit = tag is None
        if indentless_sequence and scanner.check("BlockEntry"):
            self.state = self._parse_indentless_sequence_entry_key
            return _Event("SequenceStart", anchor, tag, (implicit, False))
        if scanner.check("Scalar"):
            token = scanner.next()
            if token.plain and tag is None:
                flags = (True, False)
            elif tag is None:
                flags = (False, True)
            else:
                flags = (False, False)
            self._pop_state()
            return _Event("Scalar", anchor, tag, flags, token.value, token.style)
        starts = {
            "FlowSequenceStart": ("SequenceStart", self._parse_flow_sequence_first_entry),
            "FlowMappingStart": ("MappingStart", self._parse_flow_mapping_first_key),
        }
        if block:
            starts["BlockSequenceStart"] = ("SequenceStart", self._parse_block_sequence_first_entry)
            starts["BlockMappingStart"] = ("MappingStart", self._parse_block_mapping_first_key)
        for token_kind, (event_kind, state) in starts.items():
            if scanner.check(token_kind):
                self.state = state
                return _Event(event_kind, anchor, tag, (implicit, False))
        if anchor is not None or tag is not None:
            self._pop_state()
            return _Event("Scalar", anchor, tag, (implicit, False))
        raise YamlError("expected the node content")

    def _parse_properties(self) -> tuple[str | None, str | None]:
        scanner = self.scanner
        anchor: str | None = None
        tag_token: Token | None = None
        if scanner.check("Anchor"):
            anchor = scanner.next().value
            if scanner.check("Tag"):
                tag_token = scanner.next()
        elif scanner.check("Tag"):
            tag_token = scanner.next()
            if scanner.check("Anchor"):
                anchor = scanner.next().value
        if tag_token is None:
            return anchor, None
        if tag_token.handle is None:
            return anchor, tag_token.value
        if tag_token.handle not in self.tag_handles:
            raise YamlError("found undefined tag handle")
        return anchor, self.tag_handles[tag_token.handle] + tag_token.value

    def _parse_block_sequence_first_entry(self) -> _Event:
        self.scanner.next()
        return self._parse_block_sequence_entry_key()

    def _parse_block_sequence_entry_key(self) -> _Event:
        if self.scanner.check("BlockEntry"):
            self.scanner.next()
            if not self.scanner.check("BlockEntry", "BlockEnd"):
                self.states.append(self._parse_block_sequence_entry_key)
                return self._parse_block_node()
            self.state = self._parse_block_sequence_entry_key
            return _Event("Scalar")
        if not self.scanner.check("BlockEnd"):
            raise YamlError("while parsing a block collection expected <block end>")
        self.scanner.next()
        self._pop_state()
        return _Event("SequenceEnd")

    def _parse_indentless_sequence_entry_key(self) -> _Event:
        if self.scanner.check("BlockEntry"):
            self.scanner.next()
            if not self.scanner.check("BlockEntry", "Key", "Value", "BlockEnd"):
                self.states.append(self._parse_indentless_sequence_entry_key)
                return self._parse_block_node()
            self.state = self._parse_indentless_sequence_entry_key
            return _Event("Scalar")
        self._pop_state()
        return _Event("SequenceEnd")

    def _parse_block_mapping_first_key(self) -> _Event:
        self.scanner.next()
        return self._parse_block_mapping_key()

    def _parse_block_mapping_key(self) -> _Event:
        scanner = self.scanner
        if scanner.check("Key"):
            scanner.next()
            if not scanner.check("Key", "Value", "BlockEnd"):
                self.states.append(self._parse_block_mapping_value)
                return self._parse_node(block=True, indentless_sequence=True)
            self.state = self._parse_block_mapping_value
            return _Event("Scalar")
        if not scanner.check("BlockEnd"):
            raise YamlError("while parsing a block mapping expected <block end>")
        scanner.next()
        self._pop_state()
        return _Event("MappingEnd")

    def _parse_block_mapping_value(self) -> _Event:
        scanner = self.scanner
        if scanner.check("Value"):
            scanner.next()
            if not scanner.check("Key", "Value", "BlockEnd"):
                self.states.append(self._parse_block_mapping_key)
                return self._parse_node(block=True, indentless_sequence=True)
            self.state = self._parse_block_mapping_key
            return _Event("Scalar")
        if scanner.check("Scalar"):
            self.states.append(self._parse_block_mapping_key)
            return self._parse_node(block=True, indentless_sequence=True)
        self.state = self._parse_block_mapping_key
        return _Event("Scalar")

    def _parse_flow_sequence_first_entry(self) -> _Event:
        self.scanner.next()
        return self._parse_flow_sequence_entry(first=True)

    def _parse_flow_sequence_entry(self, *, first: bool = False) -> _Event:
        scanner = self.scanner
        if not scanner.check("FlowSequenceEnd"):
            if not first:
                if not scanner.check("FlowEntry"):
                    raise YamlError("while parsing a flow sequence expected ',' or ']'")
                scanner.next()
            if scanner.check("Key"):
                self.state = self._parse_flow_sequence_entry_mapping_key
                return _Event("MappingStart", implicit=(True, False))
            if not scanner.check("FlowSequenceEnd"):
                self.states.append(self._parse_flow_sequence_entry)
                return self._parse_flow_node()
        scanner.next()
        self._pop_state()
        return _Event("SequenceEnd")

    def _parse_flow_sequence_entry_mapping_key(self) -> _Event:
        self.scanner.next()
        if not self.scanner.check("Value", "FlowEntry", "FlowSequenceEnd"):
            self.states.append(self._parse_flow_sequence_entry_mapping_value)
            return self._parse_flow_node()
        self.state = self._parse_flow_sequence_entry_mapping_value
        return _Event("Scalar")

    def _parse_flow_sequence_entry_mapping_value(self) -> _Event:
        if self.scanner.check("Value"):
            self.scanner.next()
            if not self.scanner.check("FlowEntry", "FlowSequenceEnd"):
                self.states.append(self._parse_flow_sequence_entry_mapping_end)
                return self._parse_flow_node()
        self.state = self._parse_flow_sequence_entry_mapping_end
        return _Event("Scalar")

    def _parse_flow_sequence_entry_mapping_end(self) -> _Event:
        self.state = self._parse_flow_sequence_entry
        return _Event("MappingEnd")

    def _parse_flow_mapping_first_key(self) -> _Event:
        self.scanner.next()
        return self._parse_flow_mapping_key(first=True)

    def _parse_flow_mapping_key(self, *, first: bool = False) -> _Event:
        scanner = self.scanner
        if not scanner.check("FlowMappingEnd"):
            if not first:
                if not scanner.check("FlowEntry"):
                    raise YamlError("while parsing a flow mapping expected ',' or '}'")
                scanner.next()
            if scanner.check("Key"):
                scanner.next()
                if not scanner.check("Value", "FlowEntry", "FlowMappingEnd"):
                    self.states.append(self._parse_flow_mapping_value)
                    return self._parse_flow_node()
                self.state = self._parse_flow_mapping_value
                return _Event("Scalar")
            if not scanner.check("FlowMappingEnd"):
                self.states.append(self._parse_flow_mapping_empty_value)
                return self._parse_flow_node()
        scanner.next()
        self._pop_state()
        return _Event("MappingEnd")

    def _parse_flow_mapping_value(self) -> _Event:
        if self.scanner.check("Value"):
            self.scanner.next()
            if not self.scanner.check("FlowEntry", "FlowMappingEnd"):
                self.states.append(self._parse_flow_mapping_key)
                return self._parse_flow_node()
        self.state = self._parse_flow_mapping_key
        return _Event("Scalar")

    def _parse_flow_mapping_empty_value(self) -> _Event:
        self.state = self._parse_flow_mapping_key
        return _Event("Scalar")
