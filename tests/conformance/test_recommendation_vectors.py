"""Real Flink lays out every recommended configuration as the engine does, meeting every peak plus the margin.

``vectors-recommendations/<v>.jsonl`` (``recommendation_vectors.py``, made with the Flink oracle; no
Java needed here) holds, per seeded case, the configuration the operator would write for its
recommendation and real Flink's layout of it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from flink_tm_memory.api.durations import parse_percent
from flink_tm_memory.memory.engine import derive_task_manager_memory
from tests.conformance.recommendation_vectors import VERSIONS, generate_cases, read, recommended_config


@pytest.mark.parametrize("version", VERSIONS)
def test_the_recommendations_are_the_ones_flink_was_asked_about(version: str) -> None:
    lines = read(version)
    assert [line["id"] for line in lines] == [case["id"] for case in generate_cases()]
    stale = [line["id"] for line in lines if recommended_config(line, version) != line["recommended"]]
    assert not stale, (
        f"stale: {stale[:10]}: run python -m tests.conformance.recommendation_vectors --oracle ..."
    )


@pytest.mark.parametrize("version", VERSIONS)
def test_flink_accepts_every_recommendation_and_lays_it_out_as_the_engine_does(version: str) -> None:
    lines = [line for line in read(version) if line["recommended"] is not None]
    assert len(lines) == len(read(version))  # every case is meant to be recommendable
    for line in lines:
        assert line["flink"]["ok"], (line["id"], line["flink"])
        engine = derive_task_manager_memory(line["recommended"], version)
        assert engine.layout is not None
        assert engine.layout.components() == line["flink"]["bytes"], line["id"]


@pytest.mark.parametrize("version", VERSIONS)
def test_flinks_layout_meets_every_observed_peak_plus_the_margin(version: str) -> None:
    for line in read(version):
        flink: dict[str, Any] = line["flink"]["bytes"]
        peaks = line["peaks"]
        factor = 1 + parse_percent(line["margin"])
        heap = flink["frameworkHeap"] + flink["taskHeap"]
        assert heap >= peaks["heap"] * factor, line["id"]
        assert flink["managed"] >= peaks["managed"] * factor, line["id"]
        assert flink["jvmMetaspace"] >= peaks["metaspace"] * factor, line["id"]
        assert flink["jvmMetaspace"] >= peaks["metaspace"], line["id"]
        off_heap = flink["frameworkOffHeap"] + flink["taskOffHeap"]
        assert off_heap >= Decimal(peaks["direct"]) * factor, line["id"]
