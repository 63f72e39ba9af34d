"""The one-shot ``derive`` command line, read without ``argparse``: the common form only, else nothing.

``argparse`` (with ``re``, ``gettext`` and ``locale``, which it pulls in) is a sizeable share of a
one-shot answer's start-up, and the command line a script or ``taskmanager.sh``-like wrapper runs is
nearly always the same short form::

    flink-tm-memory derive [--format F] [--flink-version V] [--config FILE] [--flink-tm-heap SIZE] [-D KEY=VALUE]...

``parse_quick_derive`` reads exactly that form (every option as its own word followed by its value)
and returns what ``argparse`` would; anything else (``--help``, ``--opt=value``, abbreviations, values
that start with ``-``, an unknown format, a malformed ``-D``, any error) gives ``None``, and the
caller asks ``argparse`` (``cli/arguments.py``), which then answers, or fails, exactly as it always
did. ``tests/unit/cli/test_quick_arguments.py`` checks the two against each other on generated
command lines.
"""

from __future__ import annotations

from flink_tm_memory.cli.formats.registry import DERIVE_FORMATS

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see memory/records.py)
if TYPE_CHECKING:
    from collections.abc import Sequence


class DeriveArguments:
    """The namespace ``argparse`` makes for ``derive``: the same attributes, defaults and ``vars()``."""

    def __init__(self) -> None:
        self.command = "derive"
        self.flink_version: str | None = None
        self.dynamic: list[tuple[str, str]] = []
        self.config: str | None = None
        self.flink_tm_heap: str | None = None
        self.format: str | None = None
        self.compare_version: str | None = None
        self.jsonl = False
        self.mode: str | None = None
        self.no_fixes = False

    def __repr__(self) -> str:
        return f"DeriveArguments({vars(self)!r})"


def split_dynamic_property(text: str) -> tuple[str, str] | None:
    """``KEY=VALUE`` as ``(KEY, VALUE)``, exactly as typed; ``None`` without ``=`` or with a blank key."""
    key, separator, value = text.partition("=")
    if not separator or not key.strip():
        return None
    return key, value  # kept as typed: to Flink, " key" and "key" are different keys


_VALUED = {
    "--format": "format",
    "--flink-version": "flink_version",
    "--config": "config",
    "--flink-tm-heap": "flink_tm_heap",
}
"""The options of the simple form that take one value, and the attribute argparse stores it in."""


def parse_quick_derive(arguments: Sequence[str]) -> DeriveArguments | None:
    """``derive``'s arguments as ``argparse`` would parse them, or ``None`` when the form is not the simple one."""
    if not arguments or arguments[0] != "derive" or len(arguments) % 2 == 0:
        return None  # every option below takes exactly one value: an even count cannot be the simple form
    parsed = DeriveArguments()
    for index in range(1, len(arguments), 2):
        option, value = arguments[index], arguments[index + 1]
        if value[:1] == "-":
            return None  # argparse reads it as an option (or a negative number): its rules, not ours
        if option == "-D":
            entry = split_dynamic_property(value)
            if entry is None:
                return None
            parsed.dynamic.append(entry)
        elif option in _VALUED:
            if option == "--format" and value not in DERIVE_FORMATS:
                return None
            setattr(parsed, _VALUED[option], value)
        else:
            return None
    return parsed
