"""The records of the derive path behave as the dataclasses they replace: equal, hashed and printed by value."""

from __future__ import annotations

import ast
import copy
import pickle
from pathlib import Path
from typing import Final

import pytest

from flink_tm_memory.memory.records import FrozenRecord, Record


class Point(FrozenRecord):
    __slots__ = ("label", "x", "y")

    def __init__(self, x: int, y: int, *, label: str = "") -> None:
        self.x: Final = x
        self.y: Final = y
        self.label: Final = label


class Other(FrozenRecord):
    __slots__ = ("x", "y")

    def __init__(self, x: int, y: int) -> None:
        self.x: Final = x
        self.y: Final = y


class Cached(FrozenRecord):
    __slots__ = ("key", "lower")

    def __init__(self, key: str) -> None:
        self.key: Final = key
        self.lower: Final = key.lower()  # a cache: not a parameter, so not part of the value


class Counter(Record):
    __slots__ = ("count",)

    def __init__(self, count: int = 0) -> None:
        self.count = count


def test_records_are_equal_by_class_and_value() -> None:
    assert Point(1, 2, label="a") == Point(1, 2, label="a")
    assert Point(1, 2) != Point(1, 3)
    assert Point(1, 2) != Point(1, 2, label="a")
    assert Point(1, 2) != Other(1, 2)
    assert Point(1, 2) != (1, 2, "")


def test_frozen_records_hash_by_value_and_serve_as_keys() -> None:
    assert hash(Point(1, 2)) == hash(Point(1, 2))
    assert {Point(1, 2): "first", Point(1, 2): "second"} == {Point(1, 2): "second"}
    assert len({Point(1, 2), Point(1, 2), Point(2, 1)}) == 2


def test_mutable_records_are_unhashable_like_mutable_dataclasses() -> None:
    with pytest.raises(TypeError, match="unhashable"):
        hash(Counter())


def test_the_repr_is_a_dataclass_repr_of_the_fields_in_parameter_order() -> None:
    assert repr(Point(1, 2, label="a")) == "Point(x=1, y=2, label='a')"
    assert repr(Cached("KEY")) == "Cached(key='KEY')"


def test_a_cache_slot_is_not_part_of_the_value() -> None:
    assert Cached("KEY").lower == "key"
    assert Cached("KEY") == Cached("KEY")
    assert Cached("KEY").replace(key="Other").lower == "other"


def test_replace_copies_with_changes_through_init() -> None:
    point = Point(1, 2, label="a")

    moved = point.replace(y=5)

    assert moved == Point(1, 5, label="a")
    assert type(moved) is Point
    assert point == Point(1, 2, label="a")
    assert Counter(3).replace() == Counter(3)


def test_replace_rejects_a_name_that_is_not_a_field() -> None:
    with pytest.raises(TypeError, match="z"):
        Point(1, 2).replace(z=3)


def test_records_hold_nothing_beyond_their_slots() -> None:
    with pytest.raises(AttributeError):
        Point(1, 2).z = 1  # type: ignore[attr-defined]


def test_mutable_records_may_change() -> None:
    counter = Counter()

    counter.count += 1

    assert counter == Counter(1)


def test_frozen_records_survive_copy_and_pickle() -> None:
    point = Point(1, 2, label="a")

    assert copy.copy(point) == copy.deepcopy(point) == pickle.loads(pickle.dumps(point)) == point


def test_a_record_must_store_its_fields_in_slots() -> None:
    with pytest.raises(TypeError, match="__slots__"):

        class Unslotted(FrozenRecord):
            def __init__(self, x: int) -> None:
                self.x: Final = x

    with pytest.raises(TypeError, match="__slots__"):

        class Unstored(FrozenRecord):
            __slots__ = ("x",)

            def __init__(self, x: int, y: int) -> None:
                self.x: Final = x + y


PACKAGE = Path(__file__).resolve().parents[3] / "operator" / "flink_tm_memory"


def _frozen_record_inits(path: Path) -> list[tuple[str, ast.FunctionDef]]:
    inits = []
    for record in ast.walk(ast.parse(path.read_text())):
        if isinstance(record, ast.ClassDef) and "FrozenRecord" in {
            ast.unparse(base) for base in record.bases
        }:
            inits += [
                (record.name, init)
                for init in record.body
                if isinstance(init, ast.FunctionDef) and init.name == "__init__"
            ]
    return inits


def _assigned_without_final(init: ast.FunctionDef) -> list[str]:
    """The attributes ``__init__`` assigns other than as ``self.field: Final = ...``."""
    assigned = []
    for statement in ast.walk(init):
        if isinstance(statement, ast.Assign | ast.AugAssign):
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            assigned += [ast.unparse(target) for target in targets if isinstance(target, ast.Attribute)]
        elif isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Attribute):
            final = ast.unparse(statement.annotation).startswith("Final")
            assigned += [] if final else [ast.unparse(statement.target)]
    return assigned


def test_every_frozen_record_declares_its_fields_final_for_mypy() -> None:
    # Immutability is mypy's to check (records.py says why there is no __setattr__ guard): a field
    # assigned without Final could be reassigned unnoticed.
    inits = [(name, init) for path in PACKAGE.rglob("*.py") for name, init in _frozen_record_inits(path)]

    assert len(inits) > 10  # the scan does see the records
    assert {
        name: _assigned_without_final(init) for name, init in inits if _assigned_without_final(init)
    } == {}
