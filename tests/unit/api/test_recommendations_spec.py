"""``spec.recommendations`` and ``updateMode`` Initial/Auto: what is accepted, and every refusal names its field."""

from __future__ import annotations

from typing import Any

import pytest

from flink_tm_memory.api.durations import format_duration, parse_duration, parse_percent
from flink_tm_memory.render.admission import admission_verdict
from flink_tm_memory.render.plan import derive_memory_plan

JOB_MANAGER = {"url": "http://127.0.0.1:8081"}


def verdict(spec: dict[str, Any]) -> tuple[bool, str]:
    answer = admission_verdict(
        {"apiVersion": "flinkmemory.io/v1alpha1", "kind": "FlinkTaskManagerMemory", "spec": spec}
    )
    return answer.allowed, answer.message


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("24h", 86400), ("1h30m", 5400), ("90s", 90), ("7d", 604800), ("1d2h3m4s", 93784)],
)
def test_durations_read_as_go_writes_them_plus_days(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds
    assert parse_duration(format_duration(seconds)) == seconds


@pytest.mark.parametrize("text", ["", "24", "1h1h", "5m1h", "-1h", "1.5h", "400d", "h"])
def test_bad_durations_say_what_to_write(text: str) -> None:
    with pytest.raises(ValueError, match=r"duration|longer than a year"):
        parse_duration(text)


def test_percentages() -> None:
    assert parse_percent("15%") == parse_percent("+15%") == parse_percent("15.0%")
    assert str(parse_percent("2.5%")) == "0.025"
    with pytest.raises(ValueError, match="percentage"):
        parse_percent("15")


def test_a_full_recommendations_spec_is_accepted() -> None:
    allowed, message = verdict(
        {
            "flinkConfiguration": {"taskmanager.memory.process.size": "2g"},
            "updateMode": "Auto",
            "recommendations": {
                "jobManager": {"service": "job-rest", "port": 8081},
                "window": "24h",
                "minObservation": "1h",
                "pollInterval": "30s",
                "margin": "+15%",
                "minProcess": "1Gi",
                "maxProcess": "8Gi",
                "minChangeInterval": "1h",
                "changeThreshold": "10%",
            },
        }
    )
    assert allowed, message


@pytest.mark.parametrize(
    ("recommendations", "field", "words"),
    [
        ({}, "spec.recommendations.jobManager", "Field required"),
        ({"jobManager": {}}, "spec.recommendations.jobManager", "exactly one of url and service"),
        (
            {"jobManager": {"url": "http://a:1", "service": "b"}},
            "spec.recommendations.jobManager",
            "exactly one",
        ),
        ({"jobManager": {"url": "http://a:1", "port": 1}}, "spec.recommendations.jobManager", "port goes"),
        ({"jobManager": {"url": "ftp://a"}}, "spec.recommendations.jobManager.url", "pattern"),
        ({"jobManager": {"service": "Bad_Name"}}, "spec.recommendations.jobManager.service", "pattern"),
        ({"jobManager": {"service": "a", "port": 70000}}, "spec.recommendations.jobManager.port", "65535"),
        ({"jobManager": JOB_MANAGER, "window": "24x"}, "spec.recommendations.window", "not a duration"),
        ({"jobManager": JOB_MANAGER, "margin": "15"}, "spec.recommendations.margin", "not a percentage"),
        ({"jobManager": JOB_MANAGER, "margin": "2000%"}, "spec.recommendations", "margin: 2000%"),
        ({"jobManager": JOB_MANAGER, "pollInterval": "1s"}, "spec.recommendations", "pollInterval: 1s"),
        ({"jobManager": JOB_MANAGER, "window": "30s"}, "spec.recommendations", "window: 30s"),
        (
            {"jobManager": JOB_MANAGER, "window": "1h", "minObservation": "2h"},
            "spec.recommendations",
            "minObservation: 2h",
        ),
        (
            {"jobManager": JOB_MANAGER, "minProcess": "8Gi", "maxProcess": "4Gi"},
            "spec.recommendations",
            "minProcess: 8Gi",
        ),
        ({"jobManager": JOB_MANAGER, "minProcess": "lots"}, "spec.recommendations.minProcess", ""),
        ({"jobManager": JOB_MANAGER, "changeThreshold": "150%"}, "spec.recommendations", "changeThreshold"),
        ({"jobManager": JOB_MANAGER, "typo": 1}, "spec.recommendations.typo", "Extra inputs"),
    ],
)
def test_every_invalid_value_is_refused_naming_its_field(
    recommendations: dict[str, Any], field: str, words: str
) -> None:
    spec = {
        "flinkConfiguration": {"taskmanager.memory.process.size": "2g"},
        "recommendations": recommendations,
    }
    allowed, message = verdict(spec)
    assert not allowed
    assert message.startswith(field + ":") or f"{field}:" in message, message
    assert words in message
    # the status says the same: a conflict naming the field
    conflicts = derive_memory_plan(spec).conflicts
    assert conflicts
    assert any(field in conflict.fields[0] for conflict in conflicts)


@pytest.mark.parametrize("mode", ["Initial", "Auto"])
def test_initial_and_auto_need_somewhere_to_read_usage(mode: str) -> None:
    allowed, message = verdict(
        {"flinkConfiguration": {"taskmanager.memory.process.size": "2g"}, "updateMode": mode}
    )
    assert not allowed
    assert "spec.recommendations" in message
    assert f"updateMode {mode}" in message


def test_apply_and_off_may_recommend_too() -> None:
    for mode in ("Apply", "Off"):
        allowed, message = verdict(
            {
                "flinkConfiguration": {"taskmanager.memory.process.size": "2g"},
                "updateMode": mode,
                "recommendations": {"jobManager": JOB_MANAGER},
            }
        )
        assert allowed, message
