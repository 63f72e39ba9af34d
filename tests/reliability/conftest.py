"""Knobs of the reliability scenarios, from the environment (``make reliability`` passes them).

- ``RELIABILITY_SEED``: the seed of every random choice (faults, edits, kill moments); a fresh one
  per run by default, printed in every failure so that the run can be replayed.
- ``RELIABILITY_COUNT``: resources in the API-fault scenario (default 1 000); the other scenarios
  scale from it.
- ``RELIABILITY_EDIT_ROUNDS``: rounds of edits under faults (default 2 in CI; more for longer runs).
"""

from __future__ import annotations

import os
import random
from collections.abc import AsyncIterator

import kmock
import pytest

from tests.integration.emulator import FaultyApiEmulator, declare_cluster

SEED = int(os.environ.get("RELIABILITY_SEED") or random.SystemRandom().randrange(1 << 32))
COUNT = int(os.environ.get("RELIABILITY_COUNT") or 1000)
EDIT_ROUNDS = int(os.environ.get("RELIABILITY_EDIT_ROUNDS") or 2)


@pytest.fixture
def seed() -> int:
    return SEED


@pytest.fixture
async def emulator(seed: int) -> AsyncIterator[FaultyApiEmulator]:
    """The API server, faultless until a test sets its ``rate``."""
    async with FaultyApiEmulator(seed=seed) as server, kmock.Server(server):
        declare_cluster(server)
        yield server
