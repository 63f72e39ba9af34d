"""Recommendations from observed peaks: needs per component, the solver's layout, bounds, and properties.

The properties (hypothesis) are the issue's promises: every recommended layout is one the engine
(and the reconciler) accepts, meets every observed peak plus the margin, never lowers metaspace
below what was observed, and stays within minProcess and maxProcess.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from flink_tm_memory.api.v1alpha1 import Recommendations, UsagePeaks
from flink_tm_memory.memory.engine import derive_task_manager_memory
from flink_tm_memory.memory.sizes import GIB, MIB
from flink_tm_memory.memory.versions import SUPPORTED_VERSIONS
from flink_tm_memory.render.plan import derive_memory_plan
from flink_tm_memory.render.recommendation import (
    NO_USAGE,
    RECOMMENDED,
    UNMEETABLE,
    WINDOW_TOO_SHORT,
    UsageSettings,
    effective_raw_spec,
    in_effect,
    recommend,
    with_options,
)

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
PROCESS = "taskmanager.memory.process.size"


def spec_of(process: str = "4g", version: str = "2.2", **recommendations: Any) -> dict[str, Any]:
    return {
        "flinkVersion": version,
        "flinkConfiguration": {PROCESS: process},
        "recommendations": {"jobManager": {"url": "http://127.0.0.1:1"}, "window": "1h", **recommendations},
    }


def settings_of(spec: dict[str, Any]) -> UsageSettings:
    return UsageSettings.of(Recommendations.model_validate(spec["recommendations"]))


def peaks(
    heap: int = 600 * MIB, metaspace: int = 90 * MIB, managed: int = 300 * MIB, direct: int = 0
) -> UsagePeaks:
    return UsagePeaks(heap=heap, metaspace=metaspace, managed=managed, network=10 * MIB, direct=direct)


def recommended(spec: dict[str, Any], observed: UsagePeaks, hours: float = 2.0) -> Any:
    current = in_effect(spec, None)
    return recommend(
        spec, current, observed, settings_of(spec), observed_since=NOW - timedelta(hours=hours), now=NOW
    )


def test_an_oversized_taskmanager_is_brought_down_to_its_peaks_plus_the_margin() -> None:
    spec = spec_of("4g")
    answer = recommended(spec, peaks())
    status = answer.status
    assert status.state == RECOMMENDED
    assert status.target is not None
    assert status.target.process_bytes < 4 * GIB
    layout = derive_memory_plan(with_options(spec, status.target.set_options)).layout
    assert layout is not None
    assert layout.jvm_heap_bytes >= 600 * MIB * Decimal("1.15")
    assert layout.managed_bytes >= 300 * MIB * Decimal("1.15")
    moves = {move.component: move for move in status.components}
    assert moves["taskHeap"].why.startswith("lowered to")
    assert "network buffers follow the job's topology" in moves["network"].why
    assert moves["jvmMetaspace"].target_bytes == 256 * MIB  # never lowered
    assert status.lower_bound is not None
    assert status.upper_bound is not None
    assert status.lower_bound.process_bytes <= status.target.process_bytes <= status.upper_bound.process_bytes


def test_network_is_kept_and_direct_memory_beyond_it_becomes_task_off_heap() -> None:
    spec = spec_of("4g")
    network = in_effect(spec, None)
    assert network is not None
    direct = network.network_bytes + network.framework_off_heap_bytes + 200 * MIB
    answer = recommended(spec, peaks(direct=direct))
    assert answer.target is not None
    layout = answer.target.layout
    assert layout.network_bytes == network.network_bytes
    off_heap = layout.framework_off_heap_bytes + layout.task_off_heap_bytes
    assert off_heap >= (direct - network.network_bytes) * Decimal("1.15")


def test_metaspace_above_the_option_is_raised() -> None:
    answer = recommended(spec_of("2g"), peaks(metaspace=300 * MIB))
    assert answer.target is not None
    assert answer.target.layout.jvm_metaspace_bytes >= 300 * MIB * Decimal("1.15")
    moves = {move.component: move for move in answer.status.components}
    assert moves["jvmMetaspace"].why.startswith("raised to")


def test_too_short_a_window_says_so_instead_of_recommending() -> None:
    answer = recommended(spec_of("4g"), peaks(), hours=0.25)
    assert answer.status.state == WINDOW_TOO_SHORT
    assert answer.target is None
    assert "observed for 15m of the 1h needed: recommending in 45m" in answer.status.message


def test_no_sample_says_so() -> None:
    spec = spec_of("4g")
    answer = recommend(spec, in_effect(spec, None), None, settings_of(spec), observed_since=None, now=NOW)
    assert answer.status.state == NO_USAGE
    assert answer.target is None


def test_needs_beyond_any_layout_are_unmeetable_not_guessed() -> None:
    answer = recommended(spec_of("4g"), peaks(heap=(1 << 63) - 1))
    assert answer.status.state == UNMEETABLE
    assert answer.target is None


def test_bounds_raise_to_min_process_and_refuse_above_max_process() -> None:
    raised = recommended(spec_of("4g", minProcess="3Gi"), peaks())
    assert raised.target is not None
    assert raised.target.layout.total_process_bytes == 3 * GIB
    assert "raised to minProcess" in raised.status.message
    capped = recommended(spec_of("4g", maxProcess="1Gi"), peaks())
    assert capped.target is None
    assert capped.status.uncapped_target is not None
    assert "above maxProcess" in capped.status.message


def test_the_applied_recommendation_replaces_every_size_of_the_spec() -> None:
    spec = {
        "flinkConfiguration": {"taskmanager.memory.flink.size": "3g", "taskmanager.numberOfTaskSlots": 2},
        "resources": {"memory": "4Gi", "cpu": 2},
        "sizing": {"needs": {"taskHeap": "1g"}},
        "updateMode": "Auto",
    }
    status = {
        "autoUpdates": {
            "current": {
                "time": "2026-12-07T10:00:00Z",
                "processBytes": 1,
                "reason": "r",
                "set": {PROCESS: "2g"},
            }
        }
    }
    effective = effective_raw_spec(spec, status)
    assert effective["flinkConfiguration"] == {"taskmanager.numberOfTaskSlots": 2, PROCESS: "2g"}
    assert effective["resources"] == {"cpu": 2}
    assert "sizing" not in effective
    assert effective_raw_spec({**spec, "updateMode": "Apply"}, status) == {**spec, "updateMode": "Apply"}


_VERSIONS = [version.name for version in SUPPORTED_VERSIONS]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    version=st.sampled_from(_VERSIONS),
    process_mib=st.integers(1024, 16384),
    slots=st.integers(1, 8),
    heap=st.integers(16 * MIB, 8 * GIB),
    metaspace=st.integers(8 * MIB, 700 * MIB),
    managed=st.integers(0, 6 * GIB),
    extra_direct=st.integers(0, 2 * GIB),
    margin=st.integers(0, 60),
    min_mib=st.none() | st.integers(512, 8192),
    span_mib=st.none() | st.integers(0, 16384),
)
@example(  # found by CI: no minProcess and a span of 0 once made a maxProcess of 0
    version="1.17",
    process_mib=1024,
    slots=1,
    heap=16 * MIB,
    metaspace=8 * MIB,
    managed=0,
    extra_direct=0,
    margin=0,
    min_mib=None,
    span_mib=0,
)
@example(  # found by CI: the bound checked must be the maxProcess the spec sets (512Mi + span), not the span
    version="1.17",
    process_mib=1024,
    slots=1,
    heap=16 * MIB,
    metaspace=8 * MIB,
    managed=0,
    extra_direct=0,
    margin=0,
    min_mib=None,
    span_mib=256,
)
def test_recommended_layouts_are_accepted_meet_every_peak_plus_margin_and_stay_within_bounds(  # noqa: PLR0917 (hypothesis passes keywords)
    version: str,
    process_mib: int,
    slots: int,
    heap: int,
    metaspace: int,
    managed: int,
    extra_direct: int,
    margin: int,
    min_mib: int | None,
    span_mib: int | None,
) -> None:
    bounds: dict[str, Any] = {"margin": f"{margin}%"}
    if min_mib is not None:
        bounds["minProcess"] = f"{min_mib}Mi"
    if span_mib is not None:
        bounds["maxProcess"] = f"{(min_mib or 512) + span_mib}Mi"  # a bound of 0 is refused, rightly
    spec = spec_of(f"{process_mib}m", version, **bounds)
    spec["flinkConfiguration"]["taskmanager.numberOfTaskSlots"] = slots
    current = in_effect(spec, None)
    assert current is not None
    direct = current.network_bytes + extra_direct
    observed = UsagePeaks(heap=heap, metaspace=metaspace, managed=managed, network=0, direct=direct)
    answer = recommended(spec, observed)
    if answer.status.state == UNMEETABLE:
        return
    assert answer.status.state == RECOMMENDED
    uncapped = answer.status.uncapped_target
    assert uncapped is not None
    factor = 1 + Decimal(margin) / 100
    for layout_status in (uncapped, answer.status.target):
        if layout_status is None:
            continue
        plan = derive_memory_plan(with_options(spec, layout_status.set_options))
        assert plan.conflicts == ()
        layout = plan.layout
        assert layout is not None
        assert plan.resolved is not None
        # the engine accepts the written configuration itself, to the byte
        engine = derive_task_manager_memory(plan.resolved.configuration, version)
        assert engine.layout is not None
        assert engine.layout.components() == layout.components()
        assert layout.total_process_bytes == layout_status.process_bytes
        assert layout.jvm_heap_bytes >= heap * factor
        assert layout.managed_bytes >= managed * factor
        assert layout.jvm_metaspace_bytes >= metaspace * factor
        assert layout.jvm_metaspace_bytes >= metaspace
        assert layout.framework_off_heap_bytes + layout.task_off_heap_bytes >= extra_direct * factor
        assert layout.network_bytes == current.network_bytes
    target = answer.status.target
    maximum = (min_mib or 512) + span_mib if span_mib is not None else None  # maxProcess as set above
    if target is not None:
        if min_mib is not None:
            assert target.process_bytes >= min_mib * MIB
        if maximum is not None:
            assert target.process_bytes <= maximum * MIB
    else:
        assert maximum is not None
        assert uncapped.process_bytes > maximum * MIB or (
            min_mib is not None and "minProcess" in answer.status.message
        )


@pytest.mark.parametrize("version", _VERSIONS)
def test_every_version_recommends(version: str) -> None:
    answer = recommended(spec_of("4g", version), peaks(direct=600 * MIB))
    assert answer.status.state == RECOMMENDED, answer.status.message
