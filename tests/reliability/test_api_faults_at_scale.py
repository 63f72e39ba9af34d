"""10 % of the operator's writes fail while a fleet of resources is created and edited: nothing is lost.

The operator runs in a process of its own against ``FaultyApiEmulator``, which fails one in ten of
the operator's writes (kopf's status and annotation patches and the operator's Events included) with a
500, a 409 for a stale ``resourceVersion``, a timeout (sometimes after applying the write), or a
connection reset (before or after applying). Under those faults the fleet (``RELIABILITY_COUNT``
resources, 1 000 by default, every sample of ``manifests/samples/``) is created, then edited for
``RELIABILITY_EDIT_ROUNDS`` rounds (sizes, specs made conflicting and fixed again, ConfigMap
renames). Then the faults stop, and every guarantee of ``fleet.fleet_problems`` must hold: the last
spec wins everywhere, exactly one current ConfigMap per resource, no orphan.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

from tests.integration.emulator import Fault, FaultyApiEmulator
from tests.reliability.conftest import COUNT, EDIT_ROUNDS
from tests.reliability.fleet import (
    Fleet,
    all_observed,
    broken,
    config_map_count,
    converged,
    create_fleet,
    edit_fleet,
)
from tests.reliability.operator_process import running, tuned

RATE = 0.10
REQUEST_TIMEOUT = 3.0
OPTIONS = {
    "request_timeout": REQUEST_TIMEOUT,
    "retry_delay": 0.5,
    "api_backoffs": [0.1, 0.1, 0.2, 0.3, 0.5, 0.8, 1.3, 2.1],  # kopf's eight retries, ten times faster
    "consistency_timeout": 1.0,
    "watch_reconnect_backoff": 0.1,
    "drift_interval": 15.0,  # also the delay before a change kopf dropped is picked up
}
FAULTY_FOR = 120.0
CONVERGENCE_TIMEOUT = float(os.environ.get("RELIABILITY_TIMEOUT") or 240)


async def test_every_resource_converges_to_its_last_spec_while_a_tenth_of_the_writes_fail(
    emulator: FaultyApiEmulator, seed: int, tmp_path: Path
) -> None:
    fleet = Fleet(COUNT, seed)
    emulator.hang = REQUEST_TIMEOUT + 0.5
    async with running(tuned(str(emulator.url), **OPTIONS), emulator, tmp_path / "operator.log") as operator:
        emulator.rate = RATE
        started = time.monotonic()
        await create_fleet(emulator, fleet)
        for _ in range(EDIT_ROUNDS):
            await asyncio.sleep(1.0)
            await edit_fleet(emulator, fleet, share=0.6)
        await caught_up(emulator, FAULTY_FOR)  # faults go on while the operator works through it all
        emulator.rate = 0.0
        problems = await converged(emulator, CONVERGENCE_TIMEOUT)
        seconds = time.monotonic() - started
        alive = operator.alive()
    report = (
        f"seed {seed}: {COUNT} resources, {fleet.edits} edits {fleet.edit_kinds}; "
        f"{emulator.fault_report()}; {config_map_count(emulator)} ConfigMaps; {seconds:.0f} s"
    )
    print(report)
    assert alive, f"the operator died ({report}):\n{operator.tail()}"
    assert not problems, broken(problems, report, emulator)
    assert set(emulator.faults) == set(Fault), f"not every kind of fault was injected: {report}"


async def caught_up(emulator: FaultyApiEmulator, limit: float) -> None:
    """Until every status describes its generation (or ``limit`` seconds): the faults' working time."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and not all_observed(emulator):
        await asyncio.sleep(0.5)
