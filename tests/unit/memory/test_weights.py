"""Slot fractions, the state backend decision, the result values and the split into bytes.

Fractions and state backend decisions are Flink's answers, printed by ``flink-oracle --flink <version>
--weights`` (1.17.2, 1.19.3, 2.0.2) for the inputs below. The byte shares are what Flink 2.2.1's own
``MemoryManager.create(slotBytes, 4096).computeMemorySize(fraction)`` returned (a ten-line Java program
against ``flink-dist.jar``, run on JDK 17). Notes are this project's advice, not Flink's: only their
codes, keys and the substance of their wording are pinned.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from flink_tm_memory.memory.explain import NoteCode
from flink_tm_memory.memory.versions import parse_flink_version
from flink_tm_memory.memory.weights import (
    ManagedMemoryUseCase,
    derive_managed_memory_weights,
    split_managed_memory,
    state_backend_uses_managed_memory_from,
    weights_output,
)

KEY = "taskmanager.memory.managed.consumer-weights"
OPERATOR, STATE_BACKEND, PYTHON = ManagedMemoryUseCase
DEFAULTS = {"OPERATOR": 70, "STATE_BACKEND": 70, "PYTHON": 30}

# (configuration, options, Flink's fractions on 1.17, 1.19 and 2.0 alike)
FRACTIONS = {
    "default weights for every use case": (
        {},
        {"state_backend_uses_managed_memory": True},
        {"OPERATOR": 0.4117647058823529, "STATE_BACKEND": 0.4117647058823529, "PYTHON": 0.1764705882352941},
    ),
    "a heap backend leaving the state backend out": (
        {},
        {"state_backend_uses_managed_memory": False},
        {"OPERATOR": 0.7, "STATE_BACKEND": 0.0, "PYTHON": 0.3},
    ),
    "use cases kept at their first position": (
        {},
        {"use_cases": ["PYTHON", "OPERATOR", "PYTHON"], "state_backend_uses_managed_memory": True},
        {"PYTHON": 0.3, "OPERATOR": 0.7},
    ),
    "shares rounded down to 16 decimals": (
        {KEY: "OPERATOR:1,PYTHON:2"},
        {"use_cases": ["OPERATOR", "PYTHON"]},
        {"OPERATOR": 0.3333333333333333, "PYTHON": 0.6666666666666666},
    ),
    "a weight sum wrapping to a negative int": (
        {KEY: "OPERATOR:2147483647,PYTHON:1"},
        {"use_cases": ["OPERATOR", "PYTHON"]},
        {"OPERATOR": 0.0, "PYTHON": 0.0},
    ),
    "a weight sum wrapping to a small positive int": (
        {KEY: "OPERATOR:2147483647,PYTHON:2147483647,STATE_BACKEND:3"},
        {"state_backend_uses_managed_memory": True},
        {"OPERATOR": 2147483647.0, "STATE_BACKEND": 3.0, "PYTHON": 2147483647.0},
    ),
    "the fraction of the use case as a factor": (
        {},
        {"fraction_of_use_case": 0.1, "state_backend_uses_managed_memory": True},
        {
            "OPERATOR": 0.041176470588235294,
            "STATE_BACKEND": 0.041176470588235294,
            "PYTHON": 0.01764705882352941,
        },
    ),
}


@pytest.mark.parametrize("version", ["1.17", "1.19", "2.0"])
@pytest.mark.parametrize(("config", "options", "fractions"), FRACTIONS.values(), ids=FRACTIONS.keys())
def test_fractions_are_the_weight_shares_flink_computes(
    config: dict[str, str], options: dict[str, Any], fractions: dict[str, float], version: str
) -> None:
    assert weights_output(derive_managed_memory_weights(config, version, **options))["fractions"] == fractions


# (state backend setting, Flink's decision on 1.17, 1.19 and 2.0)
BACKENDS = {
    "nothing configured": ({}, (False, False, False)),
    "hashmap": ({"state.backend.type": "hashmap"}, (False, False, False)),
    "ROCKSDB in capitals": ({"state.backend.type": "ROCKSDB"}, (True, True, True)),
    "the legacy jobmanager name": ({"state.backend.type": "jobmanager"}, (False, False, True)),
    "the legacy filesystem name": ({"state.backend.type": "filesystem"}, (False, False, True)),
    "forst": ({"state.backend.type": "forst"}, (True, True, True)),
    "an empty name": ({"state.backend.type": ""}, (True, True, True)),
    "the memory backend factory class": (
        {"state.backend.type": "org.apache.flink.runtime.state.memory.MemoryStateBackendFactory"},
        (False, False, True),
    ),
    "the deprecated key": ({"state.backend": "rocksdb"}, (True, True, True)),
    "the new key over the deprecated one": (
        {"state.backend": "rocksdb", "state.backend.type": "hashmap"},
        (False, False, False),
    ),
}


@pytest.mark.parametrize(("config", "decisions"), BACKENDS.values(), ids=BACKENDS.keys())
def test_the_configured_state_backend_decides_as_each_release_loads_it(
    config: dict[str, str], decisions: tuple[bool, bool, bool]
) -> None:
    answers = tuple(
        derive_managed_memory_weights(
            config, version, use_cases=[STATE_BACKEND]
        ).state_backend_uses_managed_memory
        for version in ("1.17", "1.19", "2.0")
    )
    assert answers == decisions
    assert (
        tuple(
            state_backend_uses_managed_memory_from(config, parse_flink_version(version))
            for version in ("1.17", "1.19", "2.0")
        )
        == decisions
    )


def test_from_1_19_the_job_configuration_decides_the_state_backend_but_not_the_weights() -> None:
    for version in ("1.19", "2.0"):
        decided = derive_managed_memory_weights(
            {"state.backend.type": "hashmap"},
            version,
            use_cases=[STATE_BACKEND],
            job_config={"state.backend.type": "rocksdb"},
        )
        ignored = derive_managed_memory_weights(
            {}, version, use_cases=[OPERATOR], job_config={KEY: "OPERATOR:abc"}
        )
        assert weights_output(decided)["fractions"] == {"STATE_BACKEND": 1.0}
        assert weights_output(ignored) == {
            "ok": True,
            "weights": DEFAULTS,
            "stateBackendUsesManagedMemory": False,
            "fractions": {"OPERATOR": 1.0},
        }
        assert [note.code for note in ignored.notes] == [NoteCode.IGNORED_KEY]


def test_releases_before_1_19_refuse_a_job_configuration() -> None:
    result = derive_managed_memory_weights({}, "1.17", job_config={"state.backend.type": "rocksdb"})
    assert weights_output(result)["error"] == {
        "class": "java.lang.UnsupportedOperationException",
        "message": "this Flink version has no separate job configuration in convertToFractionOfSlot",
        "chain": ["this Flink version has no separate job configuration in convertToFractionOfSlot"],
        "classes": ["java.lang.UnsupportedOperationException"],
    }
    assert derive_managed_memory_weights({}, "1.17", job_config={}).ok


def test_the_weights_fail_after_the_state_backend_is_decided() -> None:
    result = derive_managed_memory_weights({KEY: "OPERATOR:-1", "state.backend.type": "rocksdb"}, "2.0")
    assert result.state_backend_uses_managed_memory is True
    assert result.primary_problem is not None
    assert (
        result.primary_problem.message
        == "Managed memory weight should not be negative. Configured weight for OPERATOR is -1."
    )
    assert result.primary_problem.keys == (KEY,)
    assert result.fractions == {}


def test_weights_are_read_even_when_no_use_case_is_used() -> None:
    result = derive_managed_memory_weights({KEY: "OPERATOR:abc"}, "2.2", use_cases=[])
    assert weights_output(result)["error"]["chain"] == ['For input string: "abc"']


def test_an_unknown_use_case_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="FOO"):
        derive_managed_memory_weights({}, "2.2", use_cases=["FOO"])


def test_the_result_keeps_configured_weights_in_use_case_order() -> None:
    result = derive_managed_memory_weights({KEY: "PYTHON:3,OPERATOR:5"}, "2.2", use_cases=[PYTHON])
    assert list(result.weights) == [OPERATOR, PYTHON]
    assert result.ok
    assert result.primary_problem is None


# ------------------------------------------------------------------------------------------- notes


def test_a_used_consumer_without_weight_gets_a_warning() -> None:
    result = derive_managed_memory_weights(
        {KEY: "OPERATOR:70"}, "2.2", state_backend_uses_managed_memory=True
    )
    missing = [note for note in result.notes if note.code is NoteCode.CONSUMER_WEIGHT_MISSING]
    assert [note.message.split()[3] for note in missing] == ["STATE_BACKEND", "PYTHON"]
    assert all("can lead to memory allocation failures" in note.message for note in missing)
    assert all(note.keys == (KEY,) for note in missing)


def test_a_state_backend_without_managed_memory_needs_no_weight() -> None:
    result = derive_managed_memory_weights(
        {KEY: "OPERATOR:70,PYTHON:30"}, "2.2", state_backend_uses_managed_memory=False
    )
    assert not [note for note in result.notes if note.code is NoteCode.CONSUMER_WEIGHT_MISSING]


def test_a_zero_weight_gets_a_warning() -> None:
    result = derive_managed_memory_weights({KEY: "OPERATOR:0,PYTHON:30"}, "2.2", use_cases=[OPERATOR, PYTHON])
    assert [(note.code, note.message.split()[3]) for note in result.notes] == [
        (NoteCode.CONSUMER_WEIGHT_ZERO, "OPERATOR")
    ]


def test_dataproc_is_flagged_as_deprecated_on_1x_and_as_ignored_on_2x() -> None:
    config = {KEY: "DATAPROC:10,PYTHON:5"}
    assert NoteCode.DEPRECATED_KEY in {
        note.code for note in derive_managed_memory_weights(config, "1.20").notes
    }
    assert NoteCode.IGNORED_KEY in {note.code for note in derive_managed_memory_weights(config, "2.0").notes}


def test_a_lower_case_consumer_name_is_pointed_out() -> None:
    result = derive_managed_memory_weights({KEY: "operator:70,PYTHON:30"}, "2.2", use_cases=[PYTHON])
    unknown = [note for note in result.notes if note.code is NoteCode.UNKNOWN_KEY]
    assert len(unknown) == 1
    assert "Did you mean 'OPERATOR'?" in unknown[0].message


# --------------------------------------------------------------------------------- bytes per slot

# (slot managed bytes, fraction, what Flink's MemoryManager.computeMemorySize returned)
COMPUTED = [
    (536870920, 0.4117647058823529, 221064496),
    (536870920, 0.1764705882352941, 94741927),
    (536870920, 1.0, 536870920),
    (536870920, 0.041176470588235294, 22106449),
    (134217728, 0.3, 40265318),
    (3, 0.4117647058823529, 1),
    (3, 0.7, 2),
    (1, 0.5, 0),
    (0, 0.7, 0),
    (359703515, 0.5, 179851757),
    (26950920184, 0.4117647058823529, 11097437722),
    (26950920184, 0.3, 8085276055),
    (26950920184, 4.9e-324, 0),
]
ZERO = (
    "The fraction of memory to allocate should not be 0. Please make sure that all types of managed memory "
    "consumers contained in the job are configured with a non-negative weight via "
    "`taskmanager.memory.managed.consumer-weights`."
)
REFUSED = [
    (0.0, ZERO),
    (-0.0, ZERO),
    (1.0000000000000002, "The fraction of memory to allocate must within (0, 1], was: 1.0000000000000002."),
    (-0.5, "The fraction of memory to allocate must within (0, 1], was: -0.5."),
    (math.nan, "The fraction of memory to allocate must within (0, 1], was: NaN."),
]


def single_fraction(fraction: float) -> Any:
    """A result whose only fraction is ``fraction`` (OPERATOR at its full weight, scaled)."""
    return derive_managed_memory_weights({}, "2.2", use_cases=[OPERATOR], fraction_of_use_case=fraction)


@pytest.mark.parametrize(("slot_bytes", "fraction", "expected"), COMPUTED)
def test_a_share_is_the_floor_of_slot_bytes_times_the_fraction(
    slot_bytes: int, fraction: float, expected: int
) -> None:
    split = split_managed_memory(single_fraction(fraction), slot_bytes, 1)
    assert [(share.use_case, share.bytes, share.problem) for share in split.shares] == [
        (OPERATOR, expected, None)
    ]
    assert split.problems == ()


@pytest.mark.parametrize(("fraction", "message"), REFUSED)
def test_a_fraction_outside_zero_to_one_is_refused_as_memory_manager_refuses_it(
    fraction: float, message: str
) -> None:
    split = split_managed_memory(single_fraction(fraction), 536870920, 1)
    (share,) = split.shares
    assert share.bytes is None
    assert share.problem is not None
    assert (share.problem.message, share.problem.classes) == (
        message,
        ("java.lang.IllegalArgumentException",),
    )
    assert split.problems == (share.problem,)


def test_each_slot_gets_the_managed_memory_divided_by_the_slots() -> None:
    result = derive_managed_memory_weights({}, "2.2", state_backend_uses_managed_memory=True)
    split = split_managed_memory(result, 1438814063, 4)
    assert split.slot_managed_bytes == 359703515
    assert [(share.use_case, share.bytes) for share in split.shares] == [
        (OPERATOR, 148113212),
        (STATE_BACKEND, 148113212),
        (PYTHON, 63477090),
    ]


def test_a_state_backend_without_managed_memory_reserves_nothing_and_is_not_checked() -> None:
    result = derive_managed_memory_weights({}, "2.2", state_backend_uses_managed_memory=False)
    split = split_managed_memory(result, 536870920, 1)
    assert [(share.use_case, share.bytes) for share in split.shares] == [
        (OPERATOR, 375809644),
        (STATE_BACKEND, 0),
        (PYTHON, 161061276),
    ]
    assert split.problems == ()


def test_a_failed_derivation_splits_into_its_problems() -> None:
    result = derive_managed_memory_weights({KEY: "OPERATOR:-1"}, "2.2")
    split = split_managed_memory(result, 536870920, 2)
    assert (split.slot_managed_bytes, split.shares, split.problems) == (268435460, (), result.problems)


@pytest.mark.parametrize(("managed_bytes", "num_slots"), [(-1, 1), (100, 0)])
def test_impossible_sizes_are_programming_errors(managed_bytes: int, num_slots: int) -> None:
    with pytest.raises(ValueError, match="num_slots"):
        split_managed_memory(single_fraction(1.0), managed_bytes, num_slots)
