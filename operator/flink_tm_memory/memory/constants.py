"""Named string constants without ``enum``: what the derive path's ``StrEnum`` classes were used for.

Why not ``enum``: ``import enum`` (with ``functools``, ``types`` and ``collections``, which it pulls
in) and building the enum classes were a sizeable share of a one-shot ``flink-tm-memory derive``
(``benchmarks/README.md``, "One-shot start-up"; ``tests/meta/test_cli_startup_imports.py`` keeps it
out). A ``Named`` subclass keeps what the code relies on: each member is one object, so ``is``
compares as with enum members (also after pickling: construction by value returns the member), it is
a ``str`` equal to its value (JSON, f-strings, pydantic), ``.value`` gives the plain string, and
construction from an unknown value raises ``ValueError``. Members are declared for the type checker
and defined once, after the class, all together (a declared member left undefined, or a defined one
not declared, fails at import)::

    class Level(Named):
        INFO: ClassVar[Level]
        WARNING: ClassVar[Level]

    Level.define_all(INFO="Info", WARNING="Warning")

Not provided, as nothing uses them: iterating the class, ``.name``, ``auto()``.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see memory/records.py)
if TYPE_CHECKING:
    from typing import ClassVar, Self


class Named(str):
    """A string constant of a closed set: one object per value, like a ``StrEnum`` member."""

    __slots__ = ()
    _members: ClassVar[dict[str, Named]] = {}

    def __init_subclass__(cls) -> None:
        super().__init_subclass__()
        cls._members = {}

    def __new__(cls, value: str) -> Self:
        """The member whose value is ``value`` (as ``SomeEnum(value)``); ``ValueError`` if there is none."""
        member = cls._members.get(value)
        if not isinstance(member, cls):
            raise ValueError(f"{value!r} is not a valid {cls.__name__}")
        return member

    @classmethod
    def define(cls, value: str) -> Self:
        """Creates the member for ``value``; once per value."""
        if value in cls._members:
            raise ValueError(f"{cls.__name__} already has {value!r}")
        member = str.__new__(cls, value)
        cls._members[value] = member
        return member

    @classmethod
    def define_all(cls, **values: str) -> None:
        """Creates every member the class declares (``NAME: ClassVar[...]``) from ``NAME=value``."""
        # The class's own annotations only (Python 3.10+ does not inherit them), and no inspect import.
        declared = sorted(name for name in cls.__annotations__ if not name.startswith("_"))
        if declared != sorted(values):
            raise TypeError(f"{cls.__name__} declares {declared} but defines {sorted(values)}")
        for name, value in values.items():
            setattr(cls, name, cls.define(value))

    @property
    def value(self) -> str:
        """The plain string, as an enum member's ``.value``."""
        return str.__str__(self)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str.__repr__(self)})"
