"""Reading a derived layout back: its pinned ``-D`` options and its JVM flags, as text."""

from __future__ import annotations

import struct

from hypothesis import assume

from flink_tm_memory.memory import MemoryLayout, derive_task_manager_memory
from flink_tm_memory.memory.sizes import parse_memory_size


def derived_layout(config: dict[str, str], version: str) -> MemoryLayout:
    """The layout Flink would start with; examples Flink rejects are not the subject of a layout law."""
    layout = derive_task_manager_memory(config, version).layout
    assume(layout is not None)
    assert layout is not None
    return layout


def pinned_options(dynamic_configs: str) -> dict[str, str]:
    """``-D key=value -D key=value`` back into a configuration (quotes around lists removed)."""
    assert dynamic_configs.startswith("-D ")
    pinned = {}
    for entry in dynamic_configs[len("-D ") :].split(" -D "):
        key, separator, value = entry.partition("=")
        assert separator, entry
        pinned[key] = value[1:-1] if len(value) >= 2 and value[0] == value[-1] == '"' else value
    return pinned


def pinned_bytes(pinned: dict[str, str], key: str) -> int:
    value = pinned[key]
    assert value.endswith("b"), f"{key}={value} is not pinned in bytes"
    assert value[:-1].isdigit(), f"{key}={value} is not pinned in bytes"
    return parse_memory_size(value)


def jvm_flags(jvm_parameters: str) -> dict[str, int]:
    """``-Xmx<n> -Xms<n> -XX:MaxDirectMemorySize=<n> -XX:MaxMetaspaceSize=<n>`` as numbers."""
    prefixes = {
        "-Xmx": "Xmx",
        "-Xms": "Xms",
        "-XX:MaxDirectMemorySize=": "direct",
        "-XX:MaxMetaspaceSize=": "metaspace",
    }
    flags = {}
    for flag in jvm_parameters.split(" "):
        for prefix, name in prefixes.items():
            if flag.startswith(prefix):
                flags[name] = int(flag[len(prefix) :])
    assert len(flags) == len(prefixes), jvm_parameters
    return flags


def binary32(text: str) -> float:
    """A short decimal fraction as Java's ``Float.parseFloat`` reads it, widened to double.

    For decimals of at most seven digits, rounding Python's double to binary32 gives Java's float.
    """
    return float(struct.unpack(">f", struct.pack(">f", float(text)))[0])
