"""The TaskManager container's resources: requests from the layout, limits from the limit factors.

The memory request is the total process memory, in bytes, as a canonical Kubernetes quantity that
is never rounded: ``4Gi`` when the size is a whole number of GiB, ``1073741825`` when it is not (Flink's
own Kubernetes integration truncates to whole MiB, which can put the container below the JVM's
budget). The CPU request is the cores Flink pins (``taskmanager.cpu.cores``, else the slots), rounded
*up* to a millicore. Limits are the requests times the factors (Flink's
``kubernetes.taskmanager.{memory,cpu}.limit-factor``), computed exactly from the factors' decimal
digits and rounded up: 0.1 cores times 3 is 300m, not the 301m a binary float would give.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction
from typing import Any

from flink_tm_memory.api.quantity import QuantityError, format_memory_quantity, parse_quantity
from flink_tm_memory.api.v1alpha1 import PodResources, ResourceAmounts
from flink_tm_memory.memory.layout import MemoryLayout


def render_pod_resources(
    layout: MemoryLayout, memory_limit_factor: float, cpu_limit_factor: float
) -> PodResources:
    """Requests and limits for a container running ``layout``."""
    memory = layout.total_process_bytes
    cores = _exact(layout.cpu_cores)
    return PodResources(
        requests=_amounts(memory, cores),
        limits=_amounts(math.ceil(memory * _exact(memory_limit_factor)), cores * _exact(cpu_limit_factor)),
    )


def container_resources(resources: PodResources) -> dict[str, dict[str, str]]:
    """The ``resources`` stanza of a container, memory and CPU only."""
    return {
        "requests": {"memory": resources.requests.memory, "cpu": resources.requests.cpu},
        "limits": {"memory": resources.limits.memory, "cpu": resources.limits.cpu},
    }


def same_quantity(current: Any, wanted: str) -> bool:
    """Whether a stored quantity means ``wanted`` (``4096Mi`` is ``4Gi``; the API server may rewrite it)."""
    if current is None:
        return False
    try:
        return parse_quantity(current).value == parse_quantity(wanted).value
    except QuantityError:
        return False


def missing_resources(current: Mapping[str, Any] | None, wanted: dict[str, dict[str, str]]) -> bool:
    """Whether a container's ``resources`` lacks or differs in any of the wanted amounts."""
    current = current or {}
    return any(
        not same_quantity((current.get(section) or {}).get(name), value)
        for section, amounts in wanted.items()
        for name, value in amounts.items()
    )


def _amounts(memory_bytes: int, cores: Fraction) -> ResourceAmounts:
    return ResourceAmounts(memory=format_memory_quantity(memory_bytes), cpu=_cpu(cores))


def _cpu(cores: Fraction) -> str:
    millicores = math.ceil(cores * 1000)
    return str(millicores // 1000) if millicores % 1000 == 0 else f"{millicores}m"


def _exact(value: float) -> Fraction:
    """The decimal a float was written as (``repr`` is the shortest round-tripping form), exactly."""
    return Fraction(Decimal(repr(value)))
