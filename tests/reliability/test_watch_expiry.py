"""Watch streams end or expire (410 Gone) at seeded random moments while resources are edited.

The emulator ends the operator's watch streams now and then, as a dropped connection does (kopf
resumes from the last ``resourceVersion`` it saw), and expires them with the ``ERROR`` event of
code 410 (``Expired``: "too old resource version", after which a resume from that version is
refused too). kopf 1.45.2 (``kopf/_cogs/clients/watching.py``, ``continuous_watch``) answers a 410
by leaving the stream and listing again; the objects listed are compared with the last spec kopf
handled (its diff base), so an edit made while the stream was down is still seen as a change.
Edits land just before, during and after those moments; every one must be reconciled.

What a relist cannot show: a spec edited and edited back while the stream was down (A, B, A) lists
as A, the spec kopf last handled, so kopf sees no change and the status keeps the generation of the
first A (the layout, A's, is right). The drift check reconciles a resource whose status is still
behind its generation one interval later, so ``observedGeneration`` catches up within two drift
intervals (5 s here, 60 s by default).
"""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path

import kmock

from tests.integration.emulator import FaultyApiEmulator
from tests.integration.kubectl import MEMORIES
from tests.reliability.conftest import COUNT
from tests.reliability.fleet import (
    Fleet,
    broken,
    config_map_count,
    converged,
    create_fleet,
    edit_fleet,
)
from tests.reliability.operator_process import running, tuned

RESOURCES = max(50, COUNT // 10)
ROUNDS = 12
OPTIONS = {
    "retry_delay": 0.5,
    "consistency_timeout": 1.0,
    "watch_reconnect_backoff": 0.1,
    "drift_interval": 5.0,
}
CONVERGENCE_TIMEOUT = 45.0


async def test_edits_around_dropped_and_expired_watch_streams_are_all_reconciled(
    emulator: FaultyApiEmulator, seed: int, tmp_path: Path
) -> None:
    fleet = Fleet(RESOURCES, seed)
    moments = random.Random(seed)
    expired = dropped = 0
    async with running(tuned(str(emulator.url), **OPTIONS), emulator, tmp_path / "operator.log") as operator:
        started = time.monotonic()
        await create_fleet(emulator, fleet)
        for _ in range(ROUNDS):
            edits = asyncio.create_task(edit_fleet(emulator, fleet, share=0.15))
            await asyncio.sleep(moments.uniform(0.0, 0.3))
            if moments.random() < 0.5:
                await emulator.expire_watches()
                expired += 1
            else:
                await emulator.drop_watches()
                dropped += 1
            await edits
            await asyncio.sleep(moments.uniform(0.0, 0.5))
        problems = await converged(emulator, CONVERGENCE_TIMEOUT)
        seconds = time.monotonic() - started
        alive = operator.alive()
    memories = kmock.resource(MEMORIES)
    listings = sum(
        1 for request in emulator if request.resource == memories and request.action == kmock.action.LIST
    )
    answered = emulator.expired.count(memories)
    report = (
        f"seed {seed}: {RESOURCES} resources, {fleet.edits} edits {fleet.edit_kinds}; {expired} expiries, "
        f"{dropped} dropped streams; the operator's watch of them answered 410 {answered} times, "
        f"{listings} listings; {config_map_count(emulator)} ConfigMaps; {seconds:.0f} s"
    )
    print(report)
    assert alive, f"the operator died ({report}):\n{operator.tail()}"
    assert not problems, broken(problems, report, emulator)
    assert answered > 0, f"no watch was expired ({report})"
    assert listings == answered + 1, f"kopf did not list again after each 410, and only then ({report})"
