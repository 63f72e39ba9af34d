"""The memory package's names: every one in ``__all__`` resolves, the lazy ones to their own module's object."""

from __future__ import annotations

import importlib

import pytest

from flink_tm_memory import memory


@pytest.mark.parametrize("name", memory.__all__)
def test_every_exported_name_resolves(name: str) -> None:
    assert getattr(memory, name) is not None


@pytest.mark.parametrize(
    ("name", "module"), [("propose_fixes", "fixes"), ("derive_local_execution", "local")]
)
def test_a_lazy_name_is_its_modules_object(name: str, module: str) -> None:
    assert getattr(memory, name) is getattr(importlib.import_module(f"flink_tm_memory.memory.{module}"), name)


def test_an_unknown_name_is_an_attribute_error_naming_it() -> None:
    with pytest.raises(AttributeError, match=r"'flink_tm_memory\.memory' has no attribute 'no_such_name'"):
        memory.no_such_name  # noqa: B018 - the access is the test
