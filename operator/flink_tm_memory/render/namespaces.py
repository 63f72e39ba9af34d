"""Which namespaces ``--namespace`` serves: exact names, and kopf's patterns, matched as kopf matches them.

kopf serves every namespace a pattern matches, found by watching the namespaces; what else follows
the same namespaces (the OOM kills' pod watch) must match them the same way, or it would watch pods
of namespaces nobody reconciles, or miss some that are. kopf's rules (its ``--namespace``
documentation): a pattern is comma-separated globs (``*`` and ``?``), spaces ignored; a glob
starting with ``!`` excludes; a first glob that excludes implies a catch-all before it; the first
inclusive glob matches, a later inclusive glob only matches again what it had matched and an
exclusion removed. A text without ``!``, ``*``, ``?`` or ``,`` is one exact namespace.
"""

from __future__ import annotations

from collections.abc import Iterable
from fnmatch import fnmatch

_PATTERN = frozenset("!*?,")


def is_pattern(text: str) -> bool:
    """Whether ``text`` names namespaces by pattern rather than one namespace by name."""
    return bool(_PATTERN & set(text))


def matches(name: str, pattern: str) -> bool:
    """Whether the namespace ``name`` is one ``pattern`` serves (an exact name matches only itself)."""
    if not is_pattern(pattern):
        return name == pattern
    globs = [glob.strip() for glob in pattern.split(",")]
    if globs[0].startswith("!"):
        globs.insert(0, "*")
    first = matched = fnmatch(name, globs[0])
    for glob in globs[1:]:
        if glob.startswith("!"):
            matched = matched and not fnmatch(name, glob[1:])
        else:
            matched = matched or (first and fnmatch(name, glob))
    return matched


def served(name: str, patterns: Iterable[str]) -> bool:
    """Whether any of ``patterns`` serves the namespace ``name``."""
    return any(matches(name, pattern) for pattern in patterns)
