"""The configuration keeper's loop: after a failed certificate check it applies nothing that time;
a failed round is retried soon, with backoff; a transient failure is a WARNING, a permanent one an ERROR."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import Any, cast

import pytest

from flink_tm_memory.cluster.client import ClusterClient
from flink_tm_memory.cluster.errors import ApiError
from flink_tm_memory.runtime.certificates import ServingCertificates, generate_certificates
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


class RefusingClient:
    """An API client whose every GET fails as ``error`` says (the first start of a cluster, RBAC...)."""

    def __init__(self, error: ApiError) -> None:
        self.error = error
        self.times: list[float] = []

    async def get(self, *_: Any, **__: Any) -> Any:
        self.times.append(round(asyncio.get_running_loop().time(), 3))
        raise self.error


def keeper_with(client: RefusingClient, tmp_path: Path) -> WebhookConfigurationKeeper:
    files = generate_certificates(tmp_path, ["localhost"])
    return WebhookConfigurationKeeper(cast(ClusterClient, client), WebhookOptions(port=9443), files)


@pytest.mark.parametrize(
    ("error", "level"),
    [
        (
            ApiError(
                "the API server answered 429 Too Many Requests: storage is (re)initializing", transient=True
            ),
            "WARNING",
        ),
        (ApiError("the API server answered 503 Service Unavailable", transient=True), "WARNING"),
        (ApiError("the API server answered 403 Forbidden", transient=False), "ERROR"),
    ],
)
async def test_a_failed_write_is_a_warning_when_transient_an_error_otherwise(
    error: ApiError, level: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    keeper = keeper_with(RefusingClient(error), tmp_path)
    caplog.set_level(logging.INFO, logger="flink_tm_memory.runtime.webhook_configurations")
    assert await keeper.apply() is False
    failures = [record for record in caplog.records if record.getMessage().startswith("Failed to write")]
    assert [record.levelname for record in failures] == [level, level]  # both configurations
    assert "retrying" in failures[0].getMessage()


@pytest.mark.looptime  # the loop's clock is fake: the schedule is exact, whatever the machine's load
async def test_a_failed_round_is_retried_sooner_than_the_check_interval_with_backoff(tmp_path: Path) -> None:
    client = RefusingClient(ApiError("the API server answered 429 Too Many Requests", transient=True))
    keeper = keeper_with(client, tmp_path)
    task = asyncio.create_task(keeper.keep(60.0, retry_delay=1.0))
    await asyncio.sleep(100.0)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    rounds = client.times[::2]  # each round tries both configurations
    assert rounds == [0.0, 1.0, 3.0, 7.0, 15.0, 31.0, 63.0]  # then every 60 s, the check interval
