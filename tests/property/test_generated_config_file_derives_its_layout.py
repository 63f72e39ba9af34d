"""Law: a TaskManager reading the operator's configuration file derives exactly the layout it was written from.

The file holds the user's options (the totals included) and every component pinned; Flink reads it
(``config.yaml`` as standard YAML from 1.19, ``flink-conf.yaml`` line by line before) and must come to
the same layout, so a TaskManager mounting the ConfigMap starts with what the status shows.
"""

from __future__ import annotations

import yaml
from hypothesis import assume, given

from flink_tm_memory.memory import derive_task_manager_memory, parse_flink_version
from flink_tm_memory.render.config_file import render_config_file
from tests.property.layouts import derived_layout
from tests.property.strategies import Config, configurations, examples, versions


@examples(75)
@given(configurations(), versions)
def test_the_configuration_file_derives_the_layout_it_pins(config: Config, version: str) -> None:
    layout = derived_layout(config, version)
    assume(layout.cpu_cores > 0)
    flink = parse_flink_version(version)
    text = render_config_file(flink, config, layout.pinned_options(), "a test")

    read = yaml.safe_load(text) if flink.uses_standard_yaml else _read_legacy(text)

    again = derive_task_manager_memory(read, version)
    assert again.problems == ()
    assert again.layout == layout


def _read_legacy(text: str) -> dict[str, str]:
    """``GlobalConfiguration`` before 1.19: ``#`` starts a comment, ``": "`` splits key and value."""
    entries = {}
    for line in text.splitlines():
        content = line.split("#", 1)[0].strip()
        key, separator, value = content.partition(": ")
        if separator:
            entries[key.strip()] = value.strip()
    return entries
