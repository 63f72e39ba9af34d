"""Turns events into one node graph, with anchors and aliases resolved and scalars given their tags.

Flink loads exactly one document per value; the composer enforces that and refuses recursive aliases
(which this port does not reproduce). Mirrors snakeyaml-engine's ``Composer`` (``getSingleNode``),
including its guard against "billion laughs" documents: more than ``MAX_ALIASES_FOR_COLLECTIONS``
aliases of sequences or mappings fail the load (``LoadSettings.maxAliasesForCollections``, 50 by default
and left so by Flink), so Flink falls back to its legacy reading of such a value.
"""

from __future__ import annotations

from flink_tm_memory.memory.flink_yaml.nodes import MAP, SEQ, Node
from flink_tm_memory.memory.flink_yaml.parser import Parser
from flink_tm_memory.memory.flink_yaml.resolver import resolve_scalar
from flink_tm_memory.memory.flink_yaml.values import YamlError

MAX_ALIASES_FOR_COLLECTIONS = 50


class Composer:
    """``Composer.getSingleNode``: exactly one document, anchors and aliases resolved."""

    def __init__(self, parser: Parser) -> None:
        self.parser = parser
        self.anchors: dict[str, Node] = {}
        self.open_nodes: set[int] = set()
        self.collection_aliases = 0

    def single_node(self) -> Node | None:
        self.parser.next()
        node: Node | None = None
        if not self.parser.check("StreamEnd"):
            self.parser.next()
            node = self._compose_node()
            self.parser.next()
            self.anchors = {}
        if not self.parser.check("StreamEnd"):
            raise YamlError("expected a single document in the stream")
        self.parser.next()
        return node

    def _compose_node(self) -> Node:
        event = self.parser.peek()
        if event.kind == "Alias":
            self.parser.next()
            assert event.anchor is not None
            if event.anchor not in self.anchors:
                raise YamlError("found undefined alias")
            node = self.anchors[event.anchor]
            if node.kind != "scalar":
                self.collection_aliases += 1
                if self.collection_aliases > MAX_ALIASES_FOR_COLLECTIONS:
                    raise YamlError("Number of aliases for non-scalar nodes exceeds the specified max=50")
            if id(node) in self.open_nodes:
                raise YamlError("recursive structures are not reproduced")
            return node
        if event.kind == "Scalar":
            return self._compose_scalar()
        if event.kind == "SequenceStart":
            return self._compose_sequence()
        return self._compose_mapping()

    def _register(self, anchor: str | None, node: Node) -> None:
        if anchor is not None:
            self.anchors[anchor] = node

    def _compose_scalar(self) -> Node:
        event = self.parser.next()
        if event.tag is None or event.tag == "!":
            tag = resolve_scalar(event.value, implicit=event.implicit[0])
        else:
            tag = event.tag
        node = Node("scalar", tag, value=event.value)
        self._register(event.anchor, node)
        return node

    def _compose_sequence(self) -> Node:
        start = self.parser.next()
        node = Node("sequence", SEQ if start.tag in (None, "!") else str(start.tag))
        self._register(start.anchor, node)
        self.open_nodes.add(id(node))
        while not self.parser.check("SequenceEnd"):
            node.items.append(self._compose_node())
        self.parser.next()
        self.open_nodes.discard(id(node))
        return node

    def _compose_mapping(self) -> Node:
        start = self.parser.next()
        node = Node("mapping", MAP if start.tag in (None, "!") else str(start.tag))
        self._register(start.anchor, node)
        self.open_nodes.add(id(node))
        while not self.parser.check("MappingEnd"):
            key = self._compose_node()
            node.pairs.append((key, self._compose_node()))
        self.parser.next()
        self.open_nodes.discard(id(node))
        return node
