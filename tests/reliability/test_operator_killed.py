"""The operator is SIGKILLed at seeded random moments while resources are created and edited.

The operator as shipped (``flink-tm-memory run``, reading a kubeconfig) is killed with SIGKILL
(no clean-up: kopf's progress annotations, a ConfigMap written but its status not, a status written
but the last-applied annotation not, all can be left half-done) several times while a fleet of
resources is created and edited, some edits made while it is down, and restarted each time. Then
the same guarantees as under API faults must hold (``fleet.fleet_problems``): nothing lost, nothing
duplicated, no orphan.
"""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path

from tests.integration.emulator import FaultyApiEmulator
from tests.integration.kubectl import MEMORIES
from tests.reliability.conftest import COUNT
from tests.reliability.fleet import (
    Fleet,
    all_observed,
    broken,
    config_map_count,
    converged,
    create_fleet,
    edit_fleet,
    stored,
)
from tests.reliability.operator_process import OperatorProcess, shipped

RESOURCES = max(50, COUNT // 5)
KILLS = 5
CONVERGENCE_TIMEOUT = 180.0


async def test_every_resource_converges_to_its_last_spec_although_the_operator_is_killed_repeatedly(
    emulator: FaultyApiEmulator, seed: int, tmp_path: Path
) -> None:
    fleet = Fleet(RESOURCES, seed)
    moments = random.Random(seed)
    operator = OperatorProcess(
        shipped(str(emulator.url), tmp_path, "--drift-interval", "10"), emulator, tmp_path / "operator.log"
    )
    in_flight: list[int] = []
    await operator.start()
    try:
        started = time.monotonic()
        creating = asyncio.create_task(create_fleet(emulator, fleet))
        for kill in range(KILLS):
            await asyncio.sleep(moments.uniform(0.05, 1.0))  # while it reconciles what it was given
            await operator.kill()
            in_flight.append(sum(not _observed(body) for body in stored(emulator, MEMORIES)))
            if kill % 2:
                await edit_fleet(emulator, fleet, share=0.3)  # edits while the operator is down
            await operator.start()
            if creating.done():
                await edit_fleet(emulator, fleet, share=0.5)
        await creating
        problems = await converged(emulator, CONVERGENCE_TIMEOUT)
        seconds = time.monotonic() - started
    finally:
        await operator.stop()
    report = (
        f"seed {seed}: {RESOURCES} resources, {fleet.edits} edits {fleet.edit_kinds}; {operator.kills} kills "
        f"with {in_flight} resources not yet reconciled at each; {config_map_count(emulator)} ConfigMaps; "
        f"{seconds:.0f} s"
    )
    print(report)
    assert operator.kills == KILLS
    assert all_observed(emulator), f"not every resource was reconciled ({report})"
    assert not problems, broken(problems, report, emulator) + f"\noperator log:\n{operator.tail()}"


def _observed(body: dict[str, object]) -> bool:
    status = body.get("status") or {}
    metadata = body.get("metadata") or {}
    assert isinstance(status, dict)
    assert isinstance(metadata, dict)
    return status.get("observedGeneration") == metadata.get("generation")
