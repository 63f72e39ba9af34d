"""What a reconciliation did, in log lines the Kubernetes way: capitalised, past tense, key=value.

kopf's per-object logger prefixes each line with the resource (``[namespace/name]``) and, with
``--log-format json``, carries it as fields. Only what happened is logged: a write, a failure, a
target that could not be written, a newly rejected spec; a drift check that found nothing is silent.

``object_logger`` is that logger for work done outside kopf's handlers (the drift loop): the same
lines, through the same formatter, and never posted as Events (kopf would post a handler's log
lines only from inside its per-object context).
"""

from __future__ import annotations

import logging

import kopf

from flink_tm_memory.api.v1alpha1 import API_VERSION, KIND
from flink_tm_memory.render.events import WARNING, EventSpec
from flink_tm_memory.render.metadata import MemoryRef
from flink_tm_memory.render.outcomes import ApplyOutcome, TargetOutcome, WriteState
from flink_tm_memory.render.plan import MemoryPlan

KOPF_OBJECT_LOGGER = "kopf.objects"
"""The logger kopf's object formatter knows: ``k8s_ref`` names the resource, ``k8s_skip`` posts no Event."""


def object_logger(memory: MemoryRef) -> logging.LoggerAdapter[logging.Logger]:
    """A logger whose lines kopf's formatter attributes to ``memory``, as its handlers' loggers are."""
    reference = {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "name": memory.name,
        "uid": memory.uid,
        "namespace": memory.namespace,
    }
    return logging.LoggerAdapter(
        logging.getLogger(KOPF_OBJECT_LOGGER), {"k8s_ref": reference, "k8s_skip": True}
    )


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
