"""Specs and plans the render tests share."""

from __future__ import annotations

from typing import Any

import pytest

from flink_tm_memory.render.metadata import MemoryRef
from flink_tm_memory.render.plan import MemoryPlan, derive_memory_plan

MEMORY = MemoryRef(name="orders", namespace="flink", uid="3f1c-uid", generation=4)
PROCESS_SIZE = "taskmanager.memory.process.size"


def plan_of(spec: dict[str, Any]) -> MemoryPlan:
    return derive_memory_plan(spec)


@pytest.fixture
def valid_plan() -> MemoryPlan:
    return plan_of(
        {
            "flinkVersion": "2.2",
            "flinkConfiguration": {PROCESS_SIZE: "4g", "taskmanager.numberOfTaskSlots": 2},
        }
    )
