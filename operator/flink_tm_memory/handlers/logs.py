"""What a reconciliation did, in log lines the Kubernetes way: capitalised, past tense, key=value.

kopf's per-object logger prefixes each line with the resource (``[namespace/name]``) and, with
``--log-format json``, carries it as fields. Only what happened is logged: a write, a failure, a
target that could not be written, a newly rejected spec; a drift check that found nothing is silent.
"""

from __future__ import annotations

import kopf

from flink_tm_memory.render.events import WARNING, EventSpec
from flink_tm_memory.render.outcomes import ApplyOutcome, TargetOutcome, WriteState
from flink_tm_memory.render.plan import MemoryPlan


def log_reconciliation(
    logger: kopf.Logger, current: MemoryPlan, outcome: ApplyOutcome | None, events: list[EventSpec]
) -> None:
    _log_rejection(logger, current, events)
    if outcome is None:
        return
    _log_config_map(logger, outcome)
    for target in outcome.targets:
        _log_target(logger, target, outcome.generation)


def _log_rejection(logger: kopf.Logger, current: MemoryPlan, events: list[EventSpec]) -> None:
    if not current.conflicts:
        return
    first = current.conflicts[0]
    if any(event.type == WARNING and event.reason == first.reason for event in events):
        logger.warning(f"Rejected spec reason={first.reason} conflicts={len(current.conflicts)}")


def _log_config_map(logger: kopf.Logger, outcome: ApplyOutcome) -> None:
    config_map = outcome.config_map
    if config_map.state.written:
        logger.info(f"{config_map.state} ConfigMap name={config_map.name} generation={outcome.generation}")
    elif config_map.state is WriteState.FAILED:
        logger.warning(f"Failed to write ConfigMap name={config_map.name} error={config_map.message!r}")


def _log_target(logger: kopf.Logger, target: TargetOutcome, generation: int) -> None:
    if target.state.written:
        logger.info(
            f"Updated {target.kind} name={target.name} container={target.container} generation={generation}"
        )
    elif target.state is WriteState.FAILED:
        logger.warning(f"Failed to write {target.kind} name={target.name} error={target.message!r}")
    elif not target.state.in_place:
        logger.info(f"Skipped {target.kind} name={target.name} state={target.state.target_state}")
