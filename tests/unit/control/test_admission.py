"""The validating webhook's steps: the verdict as an answer, and a step before it (an authorisation check)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from flink_tm_memory.control.admission import DENIAL_CODE, validate_memory, validating_steps
from flink_tm_memory.runtime.admission.review import AdmissionAnswer

Json = dict[str, Any]
SAMPLES = Path(__file__).resolve().parents[3] / "manifests" / "samples"


def request(name: str, *, user: str = "alice", operation: str = "CREATE") -> Json:
    obj = yaml.safe_load((SAMPLES / f"{name}.yaml").read_text())
    return {"operation": operation, "object": obj, "userInfo": {"username": user}}


async def test_a_conflicting_spec_is_denied_with_422_and_its_warnings() -> None:
    answer = await validate_memory(request("conflicting"))

    assert not answer.allowed
    assert answer.code == DENIAL_CODE
    assert answer.message.startswith("spec.resources.memory")
    assert answer.warnings


async def test_a_delete_is_not_judged() -> None:
    assert (await validate_memory(request("conflicting", operation="DELETE"))).allowed


async def test_a_step_before_the_verdict_sees_the_user_and_its_denial_answers_first() -> None:
    seen: list[str] = []

    async def authorised(review: Json) -> AdmissionAnswer:
        seen.append(review["userInfo"]["username"])
        if review["userInfo"]["username"] == "mallory":
            return AdmissionAnswer(False, "mallory may not patch Deployment orders", 403)
        return AdmissionAnswer(True, warnings=("may write every target",))

    webhook = validating_steps(before=(authorised,))

    refused = await webhook(request("process-size", user="mallory"))
    allowed = await webhook(request("process-size"))
    invalid = await webhook(request("conflicting"))

    assert seen == ["mallory", "alice", "alice"]
    assert (refused.allowed, refused.code, refused.message) == (
        False,
        403,
        "mallory may not patch Deployment orders",
    )
    assert allowed.allowed
    assert allowed.warnings[0] == "may write every target"
    assert not invalid.allowed
    assert invalid.code == DENIAL_CODE
    assert invalid.warnings[0] == "may write every target"
