"""The validating-admission verdict on a FlinkTaskManagerMemory: allowed or not, why, and what to warn about.

``admission_verdict`` is the pure core of the validating webhook (CREATE and UPDATE): it takes the
object as the API server sends it in ``request.object`` (a dict), runs the operator's whole derivation
(``derive_memory_plan``, for the spec's Flink version) and answers as an AdmissionReview response
would: ``allowed``, the ``status.message`` of a denial and the ``warnings`` kubectl prints.

A denial lists **every** conflict, one per line, each prefixed with the spec fields it names (or the
Flink keys, or ``spec``). Flink's own first error comes first (the conflict Flink itself would report;
for an unreadable spec, the first schema error), then every other conflict in the plan's order. An
object of the wrong shape (not a mapping, another kind, no ``spec`` mapping) is denied with a line
naming the field; nothing here raises for what a client sent.

Warnings are non-fatal, one per finding, each prefixed with its field:

- an ambiguous size (``4G`` in ``spec.resources.memory``, ``2G`` in a Flink option), with the byte
  counts of both readings;
- explicit task heap / managed memory together with a total, and both totals together
  (``ExplicitHeapManagedWithTotal``);
- a used managed-memory consumer with no weight (``ConsumerWeightMissing``);
- a deprecated key (``DeprecatedKey``);
- a ``taskmanager.memory.*`` key Flink does not know, which it ignores (``UnknownKey``), with the key it
  most resembles: a misspelling, or a look-alike letter (a Cyrillic o, U+043E, for a Latin one);
- a layout Flink accepts but that cannot run (``TooSmallToRun``): a JVM heap (framework + task heap)
  below ``MIN_RUNNABLE_JVM_HEAP_BYTES`` = 256 MiB, Flink's default framework heap (128 MiB) plus as much
  again for the tasks, the least in which Flink's runtime and a job's user code start without an
  immediate ``OutOfMemoryError``; or a total process size below ``MIN_RUNNABLE_PROCESS_BYTES`` = 768 MiB,
  the sum of Flink's default fixed parts (metaspace 256 MiB + minimum JVM overhead 192 MiB + framework
  heap 128 MiB + framework off-heap 128 MiB + minimum network 64 MiB): a process below that has had
  those floors lowered, which Flink accepts but a TaskManager rarely survives.

Each warning fits in ``WARNING_LIMIT`` = 256 characters: the AdmissionResponse API asks webhooks to keep
warnings short ("warnings over 256 characters ... may be truncated"), and the API server does cut
them when a response's warnings add up to more than 4 KiB. So a warning names its first field only
(its text names the Flink keys), and an explanation that does not fit loses its last sentences first.

Limit factors below 1 are never warnings: the schema refuses ``spec.resources.*LimitFactor`` below 1 and
the spec resolution refuses ``kubernetes.taskmanager.*.limit-factor`` below 1, so both are conflicts
and the object is denied, naming the field.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from flink_tm_memory.api.interpretation import Convention
from flink_tm_memory.api.quantity import QuantityError, parse_quantity
from flink_tm_memory.api.resolve import flink_field
from flink_tm_memory.api.v1alpha1 import Conflict, Interpretation
from flink_tm_memory.memory.explain import NoteCode
from flink_tm_memory.memory.failures import JavaError
from flink_tm_memory.memory.layout import MemoryLayout
from flink_tm_memory.memory.sizes import format_human, parse_memory_size
from flink_tm_memory.render.plan import MemoryPlan, derive_memory_plan

KIND = "FlinkTaskManagerMemory"
MIN_RUNNABLE_JVM_HEAP_BYTES = 256 << 20
MIN_RUNNABLE_PROCESS_BYTES = 768 << 20
WARNING_LIMIT = 256

_WARNED_NOTES = (
    NoteCode.EXPLICIT_AND_TOTAL,
    NoteCode.CONSUMER_WEIGHT_MISSING,
    NoteCode.DEPRECATED_KEY,
    NoteCode.BELOW_RUNNABLE,
    NoteCode.IMPLAUSIBLE_SIZE,
    NoteCode.UNKNOWN_KEY,
)


@dataclass(frozen=True, slots=True)
class AdmissionVerdict:
    """The answer to one admission request: ``message`` is empty when ``allowed``."""

    allowed: bool
    message: str
    warnings: tuple[str, ...] = ()


def admission_verdict(resource: Mapping[str, Any]) -> AdmissionVerdict:
    """Judges a FlinkTaskManagerMemory as the API server sends it; never raises."""
    shape = _shape_problem(resource)
    if shape is not None:
        return AdmissionVerdict(allowed=False, message=shape)
    spec = resource["spec"]
    try:
        plan = derive_memory_plan(spec)
    except Exception as error:  # a webhook must answer; an engine bug must not become a 500
        return AdmissionVerdict(allowed=False, message=f"spec: cannot be derived: {type(error).__name__}")
    warnings = tuple(_warnings(plan))
    if plan.conflicts:
        return AdmissionVerdict(allowed=False, message=_conflict_message(plan.conflicts), warnings=warnings)
    return AdmissionVerdict(allowed=True, message="", warnings=warnings)


def _shape_problem(resource: object) -> str | None:
    if not isinstance(resource, Mapping):
        return f"object: expected a {KIND} object (a mapping), got {type(resource).__name__}"
    kind = resource.get("kind")
    if kind is not None and kind != KIND:
        return f"kind: expected {KIND}, got {str(kind)[:100]!r}"
    if "spec" not in resource:
        return "spec: required"
    if not isinstance(resource["spec"], Mapping):
        return f"spec: expected an object, got {type(resource['spec']).__name__}"
    return None


def _conflict_message(conflicts: tuple[Conflict, ...]) -> str:
    """One line per conflict, Flink's own (the primary one) first, ending with the fix that changes least."""
    ordered = sorted(conflicts, key=lambda conflict: not conflict.primary)  # stable: plan order otherwise
    return "\n".join(conflict_line(conflict) + _fix(conflict) for conflict in ordered)


def _fix(conflict: Conflict) -> str:
    # Only Flink's primary conflict carries fixes; the first changes least.
    return f" Fix: {one_line(conflict.fixes[0].summary)}" if conflict.fixes else ""


def conflict_line(conflict: Conflict) -> str:
    """One conflict on one line, opening with the spec fields (or Flink keys) it names."""
    prefix = one_line(_prefix(conflict.fields, conflict.keys))  # a key may hold a line break
    text = one_line(conflict.message)  # one conflict, one line
    if text.startswith(f"{prefix}:") or any(text.startswith(one_line(field)) for field in conflict.fields):
        return text  # the message already opens with its field
    return f"{prefix}: {text}"


def one_line(text: str) -> str:
    """``text`` on one line: each line break a space, every other character as it was.

    Flink's messages are quoted exactly, double spaces included ("JVM Metaspace size  (256.000mb"):
    a reader comparing our denial with Flink's log finds the same text.
    """
    return " ".join(text.splitlines())


def _prefix(fields: list[str], keys: list[str]) -> str:
    if fields:
        return ", ".join(fields)
    if keys:
        return ", ".join(flink_field(key) for key in keys)
    return "spec"


def _warnings(plan: MemoryPlan) -> Iterator[str]:
    for reading in plan.interpretations:
        if reading.ambiguous:
            yield fit(_ambiguity_warning(reading))
    for note in plan.notes:
        if note.code in _WARNED_NOTES:
            text = one_line(note.message)
            yield fit(f"{_warning_prefix(_prefix(note.fields[:1], note.keys[:1]), text)}: {text}")
    if plan.layout is not None:
        yield from map(fit, _tiny_layout_warnings(plan.layout))


def _warning_prefix(field: str, text: str) -> str:
    """``spec.flinkConfiguration`` for one of its keys that ``text`` names anyway, else ``field``."""
    parent, bracket, key = field.partition("[")
    return parent if bracket and key.rstrip("]") in text else field


def fit(warning: str, limit: int = WARNING_LIMIT) -> str:
    """``warning`` within ``limit`` characters: its last sentences dropped, else cut with an ellipsis."""
    while len(warning) > limit and ". " in warning.rstrip("."):
        warning = warning.rstrip(".").rsplit(". ", 1)[0] + "."
    return warning if len(warning) <= limit else warning[: limit - 1] + "\u2026"


def _ambiguity_warning(reading: Interpretation) -> str:
    read = f"{reading.value} is {reading.bytes} bytes as a {reading.convention.value} size"
    other_convention, other_bytes = _other_reading(reading)
    if other_bytes is None:
        other = f"{other_convention.value} users would not read it as a byte count"
    else:
        other = f"as a {other_convention.value} size it would be {other_bytes} bytes"
    advice = reading.message.rstrip(".").rsplit(". ", 1)[-1].rsplit("; ", 1)[-1]  # what to write instead
    advice = advice[:1].upper() + advice[1:]
    return f"{reading.field}: ambiguous size: {read}, {other}. {advice}."


def _other_reading(reading: Interpretation) -> tuple[Convention, int | None]:
    if reading.convention is Convention.KUBERNETES:
        try:
            return Convention.FLINK, parse_memory_size(reading.value)
        except JavaError:
            return Convention.FLINK, None
    try:
        return Convention.KUBERNETES, parse_quantity(reading.value).rounded_up
    except QuantityError:
        return Convention.KUBERNETES, None


def _tiny_layout_warnings(layout: MemoryLayout) -> Iterator[str]:
    if layout.jvm_heap_bytes < MIN_RUNNABLE_JVM_HEAP_BYTES:
        yield (
            f"spec: {NoteCode.BELOW_RUNNABLE.value}: the JVM heap (framework + task heap) is "
            f"{format_human(layout.jvm_heap_bytes)}, below {format_human(MIN_RUNNABLE_JVM_HEAP_BYTES)}: "
            "Flink accepts it, but a TaskManager this small fails with OutOfMemoryError as soon as it runs a task."
        )
    if layout.total_process_bytes < MIN_RUNNABLE_PROCESS_BYTES:
        yield (
            f"spec: {NoteCode.BELOW_RUNNABLE.value}: the total process memory is "
            f"{format_human(layout.total_process_bytes)}, below {format_human(MIN_RUNNABLE_PROCESS_BYTES)} "
            "(Flink's default metaspace, JVM overhead, framework and network floors): Flink accepts it, but "
            "the TaskManager is unlikely to run."
        )
