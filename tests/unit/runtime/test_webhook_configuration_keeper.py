"""The configuration keeper's loop: after a failed certificate check it applies nothing that time."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any, cast

from flink_tm_memory.cluster.client import ClusterClient
from flink_tm_memory.runtime.certificates import ServingCertificates
from flink_tm_memory.runtime.options import WebhookOptions
from flink_tm_memory.runtime.webhook_configurations import WebhookConfigurationKeeper


async def test_a_failed_check_skips_that_rounds_apply() -> None:
    files = ServingCertificates(Path("tls.crt"), Path("tls.key"), Path("ca.crt"))
    keeper = WebhookConfigurationKeeper(cast(ClusterClient, None), WebhookOptions(port=9443), files)
    checks = iter([False, True, False, True])
    rounds: list[str] = []
    done = asyncio.Event()

    async def check() -> bool:
        passed = next(checks, False)  # after the script: failing checks, which apply nothing
        rounds.append(f"check {passed}")
        return passed

    async def apply(*_: Any) -> bool:
        rounds.append("apply")
        if len(rounds) >= 6:
            done.set()
        return True

    keeper.apply = apply  # type: ignore[method-assign]
    task = asyncio.create_task(keeper.keep(0.0, before=check))
    await asyncio.wait_for(done.wait(), timeout=10)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task

    assert rounds[:6] == ["check False", "check True", "apply", "check False", "check True", "apply"]
    assert "apply" not in rounds[6:]
