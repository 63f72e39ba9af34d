"""The representation graph: the nodes the composer builds and the tags that say what they hold.

Shared by the parser (the ``!!`` tag prefix), the composer, the resolver, the constructor and the
emitter. Mirrors snakeyaml-engine's ``nodes`` package: ``Tag`` (the core-schema tags) and the
``ScalarNode``, ``SequenceNode`` and ``MappingNode`` classes, folded into one ``Node`` told apart by ``kind``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

TAG_PREFIX = "tag:yaml.org,2002:"
STR, INT, FLOAT, BOOL, NULL = (TAG_PREFIX + name for name in ("str", "int", "float", "bool", "null"))
MAP, SEQ, SET, BINARY = (TAG_PREFIX + name for name in ("map", "seq", "set", "binary"))


@dataclass(eq=False, slots=True)
class Node:
    kind: str  # "scalar" | "sequence" | "mapping"
    tag: str
    value: str = ""
    items: list[Node] = field(default_factory=list)
    pairs: list[tuple[Node, Node]] = field(default_factory=list)
