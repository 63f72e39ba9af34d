"""Value records without ``dataclasses``: equality, hashing, ``repr`` and ``replace`` for slotted classes.

Why not ``@dataclass``: the one-shot ``flink-tm-memory derive`` must answer at least 10x faster than
Flink's ``BashJavaUtils GET_TM_RESOURCE_PARAMS`` (a product requirement, measured side by side by
``benchmarks/run.py``). ``import dataclasses`` imports ``inspect`` (and with it ``ast``, ``dis``,
``tokenize``, ``linecache``), and every ``@dataclass`` compiles its generated methods while its module
loads: measured with hyperfine, that was about half of the answer's time (``benchmarks/README.md``,
"Command line"). These two small bases
give the records of the derive path the same value semantics at no start-up cost. Please do not turn
them back into dataclasses: ``tests/meta/test_cli_startup_imports.py`` fails when ``flink-tm-memory
derive`` imports ``dataclasses``, ``inspect`` or ``typing`` again. For the same reason the modules of
that path spell ``TYPE_CHECKING = False`` instead of importing it: mypy treats any variable named
``TYPE_CHECKING`` as true, so their ``typing`` imports exist for the type checker only.

How to write a record: an explicit, typed ``__init__`` names the fields as its parameters (keyword-only
when there are many) and stores each in the slot of the same name; ``__slots__`` may hold more, such
as a cache, which is not part of the value. The value is the fields in parameter order.

- ``Record``: ``==`` compares class and value, ``repr`` prints like a dataclass, ``replace`` builds a
  copy with changes as ``dataclasses.replace`` does; unhashable, like a mutable dataclass.
- ``FrozenRecord``: also hashable by value, hence immutable: ``__init__`` assigns each field as
  ``self.field: Final = field``, so that mypy (``--strict``, part of ``make test``) rejects any later
  assignment. Immutability is checked statically only, on purpose: a ``__setattr__`` guard made every
  field assignment a Python call, which cost ``derive --jsonl`` much of its throughput
  (``benchmarks/README.md``, "Command line").
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see above)
if TYPE_CHECKING:
    from collections.abc import Callable
    from types import CodeType
    from typing import Any, ClassVar, Self


def _own_slots(klass: type) -> tuple[str, ...]:
    slots = klass.__dict__.get("__slots__", ())
    return (slots,) if isinstance(slots, str) else tuple(slots)


def _parameter_names(init: Callable[..., None]) -> tuple[str, ...]:
    """The parameters of an ``__init__`` after ``self``, read from its code object (not ``inspect``)."""
    code: CodeType | None = getattr(init, "__code__", None)
    if code is None:  # object.__init__: no fields
        return ()
    return code.co_varnames[1 : code.co_argcount + code.co_kwonlyargcount]


class Record:  # noqa: PLW1641 - unhashable on purpose (__eq__ alone sets __hash__ to None)
    """A record compared and printed by value; see the module docstring for how to write one."""

    __slots__ = ()
    _fields: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        slots = {name for klass in cls.__mro__ for name in _own_slots(klass)}
        cls._fields = _parameter_names(cls.__init__)
        unstored = [name for name in cls._fields if name not in slots]
        if "__slots__" not in cls.__dict__ or unstored:
            raise TypeError(f"{cls.__qualname__} must declare __slots__ that hold its fields {cls._fields}")

    def _values(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self._fields)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Record) and other.__class__ is self.__class__:
            return self._values() == other._values()
        return NotImplemented

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{self.__class__.__qualname__}({fields})"

    def replace(self, **changes: object) -> Self:
        """A new record with ``changes`` applied, built by ``__init__`` (as ``dataclasses.replace``)."""
        values = {name: getattr(self, name) for name in self._fields}
        values.update(changes)
        build: Callable[..., Self] = self.__class__
        return build(**values)


class FrozenRecord(Record):
    """An immutable ``Record`` (its fields are ``Final``), hashable by value."""

    __slots__ = ()

    def __hash__(self) -> int:
        return hash(self._values())
