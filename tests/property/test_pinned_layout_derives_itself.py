"""Law: a TaskManager started with the pinned ``-D`` options derives exactly the layout that pinned them.

Flink starts every TaskManager with the options ``dynamic_configs`` lists; deriving from them must be
a fixed point, in the same release and in every other one (the pinned options use no option whose
meaning changed between 1.17 and 2.3).

Flink truncates CPU cores to 8 decimals, so a value below 1e-8 is pinned as ``0.0``, which Flink then
rejects; such configurations are outside this law.
"""

from __future__ import annotations

from hypothesis import assume, given

from flink_tm_memory.memory import derive_task_manager_memory
from tests.property.layouts import derived_layout, pinned_options
from tests.property.strategies import Config, configurations, examples, versions


@examples(75)
@given(configurations(), versions)
def test_deriving_from_the_pinned_options_gives_the_same_layout(config: Config, version: str) -> None:
    layout = derived_layout(config, version)
    assume(layout.cpu_cores > 0)
    again = derive_task_manager_memory(pinned_options(layout.dynamic_configs()), version)
    assert again.problems == ()
    assert again.layout == layout


@examples(75)
@given(configurations(), versions, versions)
def test_pinned_options_mean_the_same_in_every_version(config: Config, version: str, other: str) -> None:
    layout = derived_layout(config, version)
    assume(layout.cpu_cores > 0)
    again = derive_task_manager_memory(pinned_options(layout.dynamic_configs()), other)
    assert again.layout == layout


@examples(75)
@given(configurations(), versions)
def test_pinned_options_render_the_same_strings_again(config: Config, version: str) -> None:
    layout = derived_layout(config, version)
    assume(layout.cpu_cores > 0)
    again = derive_task_manager_memory(pinned_options(layout.dynamic_configs()), version).layout
    assert again is not None
    assert (again.jvm_parameters(), again.dynamic_configs()) == (
        layout.jvm_parameters(),
        layout.dynamic_configs(),
    )
