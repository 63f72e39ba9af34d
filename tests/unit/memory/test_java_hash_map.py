"""What the ``HashMap`` simulation must do that the Java golden file cannot show.

Iteration orders themselves are checked against a real JDK 17 ``HashMap`` in ``test_layout.py``. JSON cannot
carry a Python string that spells a non-BMP character as two surrogate code points, nor Java's own
rejections, so those are pinned here.
"""

from __future__ import annotations

import pytest

from flink_tm_memory.memory.java_hash_map import hash_map_order, hash_set_capacity, hash_set_order

EMOJI = "\U0001f600"
EMOJI_AS_SURROGATES = "\ud83d\ude00"


def test_two_python_spellings_of_one_java_string_are_one_key_and_the_first_is_kept() -> None:
    # Both are the UTF-16 units D83D DE00, so Java sees one String; put keeps the first key object.
    assert hash_map_order([EMOJI_AS_SURROGATES, "x", EMOJI]) == hash_map_order([EMOJI_AS_SURROGATES, "x"])
    assert EMOJI not in hash_set_order([EMOJI_AS_SURROGATES, EMOJI])


@pytest.mark.parametrize(
    ("size", "capacity"),
    [(0, 16), (11, 16), (12, 17), (13, 18), (24, 33), (96, 129), (1 << 24, 22369623)],
)
def test_a_hash_set_asks_for_its_list_size_over_three_quarters_in_float_plus_one(
    size: int, capacity: int
) -> None:
    # Values from JDK 17. 2^24 / .75f is the float 22369622, not 22369621.33 as in double.
    assert hash_set_capacity(size) == capacity


def test_a_negative_initial_capacity_is_rejected_as_java_rejects_it() -> None:
    with pytest.raises(ValueError, match="Illegal initial capacity: -1"):
        hash_map_order(["a"], -1)
