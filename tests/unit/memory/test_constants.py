"""``memory.constants.Named``: the derive path's closed sets of strings behave as the StrEnums they replace."""

from __future__ import annotations

import copy
import json
import pickle
from typing import ClassVar

import pytest

from flink_tm_memory.memory.constants import Named
from flink_tm_memory.memory.explain import NoteLevel, Origin
from flink_tm_memory.memory.failures import Reason
from flink_tm_memory.memory.options import OptionType


class Colour(Named):
    RED: ClassVar[Colour]
    BLUE: ClassVar[Colour]


Colour.define_all(RED="red", BLUE="blue")


class Shade(Named):
    RED: ClassVar[Shade]


Shade.define_all(RED="red")


def test_a_member_is_a_string_equal_to_its_value() -> None:
    assert Colour.RED == "red"
    assert Colour.RED.value == "red"
    assert type(Colour.RED.value) is str
    assert f"{Colour.RED}" == "red"
    assert json.dumps({"colour": Colour.RED}) == '{"colour": "red"}'
    assert repr(Colour.RED) == "Colour('red')"


def test_construction_by_value_gives_the_one_member_or_fails() -> None:
    assert Colour("red") is Colour.RED
    with pytest.raises(ValueError, match="'green' is not a valid Colour"):
        Colour("green")


def test_each_class_has_its_own_members() -> None:
    assert Shade("red") is Shade.RED
    assert not isinstance(Shade.RED, Colour)
    with pytest.raises(ValueError, match="'blue' is not a valid Shade"):
        Shade("blue")


def test_a_value_is_defined_once() -> None:
    with pytest.raises(ValueError, match="already has 'red'"):
        Colour.define("red")


@pytest.mark.parametrize(
    "member", [Colour.BLUE, NoteLevel.WARNING, Origin.DERIVED, Reason.OVERFLOW, OptionType.MEMORY]
)
def test_identity_survives_pickling_and_copying(member: Named) -> None:
    for protocol in range(2, pickle.HIGHEST_PROTOCOL + 1):
        assert pickle.loads(pickle.dumps(member, protocol)) is member
    assert copy.deepcopy(member) is member
    assert copy.copy(member) is member


def test_every_declared_member_is_defined_and_no_other() -> None:
    class Size(Named):
        SMALL: ClassVar[Size]
        LARGE: ClassVar[Size]

    with pytest.raises(TypeError, match=r"Size declares \['LARGE', 'SMALL'\] but defines \['SMALL'\]"):
        Size.define_all(SMALL="s")
    with pytest.raises(TypeError, match="but defines"):
        Size.define_all(SMALL="s", LARGE="l", HUGE="h")
