"""Managed memory consumer weights: how Flink shares a slot's managed memory between its consumers.

A TaskManager slot's managed memory is split between the operators' use cases (batch OPERATOR
algorithms, the RocksDB/ForSt STATE_BACKEND, PYTHON workers) by the weights in
``taskmanager.memory.managed.consumer-weights``. This module reproduces Flink 1.17 … 2.3 exactly as
``ManagedMemoryUtils.convertToFractionOfSlot`` does it (and as the flink-oracle's weights mode calls it):

1. decide whether the state backend uses managed memory (the application's flag, else the configured
   ``state.backend.type`` as a TaskManager with only flink-dist on its class path resolves it; from 1.19
   on the cluster configuration overlaid with the job's),
2. read the weights from the cluster configuration,
3. per used use case, its weight's share of the used weights rounded down to 16 decimals (Java ``int``
   sum, ``BigDecimal.ROUND_DOWN``), times the use case's own fraction.

That order decides which error Flink reports. Errors are returned as ``Problem`` values, never raised.
``split_managed_memory`` then turns fractions into bytes per slot as ``MemoryManager`` does.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flink_tm_memory.memory.configuration import ConfigValue
from flink_tm_memory.memory.explain import Note, NoteCode, NoteLevel
from flink_tm_memory.memory.failures import (
    ILLEGAL_ARGUMENT,
    UNSUPPORTED_OPERATION,
    JavaError,
    Problem,
    Reason,
    internal_problem,
    problem_from,
)
from flink_tm_memory.memory.javanum import INT_MAX, java_double_to_string
from flink_tm_memory.memory.oracle_format import error_output, json_number
from flink_tm_memory.memory.versions import FlinkVersion, parse_flink_version
from flink_tm_memory.memory.weights_parsing import (
    DEPRECATED_CONSUMER_NAME,
    WEIGHTS_KEY,
    ConfiguredWeights,
    ManagedMemoryUseCase,
    consumer_names,
    effective_weights,
    read_weights_option,
)

__all__ = [
    "ConsumerShare",
    "ManagedMemorySplit",
    "ManagedMemoryUseCase",
    "ManagedMemoryWeights",
    "derive_managed_memory_weights",
    "split_managed_memory",
    "state_backend_uses_managed_memory_from",
    "weights_output",
]

ALL_USE_CASES: tuple[ManagedMemoryUseCase, ...] = tuple(ManagedMemoryUseCase)
_FRACTION_SCALE = 10**16


@dataclass(frozen=True, slots=True)
class ManagedMemoryWeights:
    """Flink's answer for one configuration: weights, the state backend decision and fractions, or problems.

    ``weights`` holds the configured use cases only (Flink's map, in use-case order); ``fractions`` holds
    every used use case, in the order given. When ``problems`` is not empty, Flink fails and the first
    problem is its exact error; values computed before the failure are kept for explanation.
    """

    version: FlinkVersion
    weights: Mapping[ManagedMemoryUseCase, int]
    state_backend_uses_managed_memory: bool | None
    fractions: Mapping[ManagedMemoryUseCase, float]
    problems: tuple[Problem, ...]
    notes: tuple[Note, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def primary_problem(self) -> Problem | None:
        return self.problems[0] if self.problems else None


def derive_managed_memory_weights(
    config: Mapping[str, ConfigValue],
    flink_version: str | FlinkVersion | None = None,
    *,
    use_cases: Iterable[ManagedMemoryUseCase | str] = ALL_USE_CASES,
    state_backend_uses_managed_memory: bool | None = None,
    fraction_of_use_case: float = 1.0,
    job_config: Mapping[str, ConfigValue] | None = None,
    legacy_conf_file: bool = False,
) -> ManagedMemoryWeights:
    """The managed-memory weights and slot fractions the given Flink release computes.

    ``config`` is the TaskManager (cluster) configuration, ``job_config`` the job's (Flink 1.19+; older
    releases refuse one). ``state_backend_uses_managed_memory`` is the application's own state backend
    flag; ``None`` lets Flink decide from the configuration. ``legacy_conf_file`` says the cluster reads
    a ``flink-conf.yaml`` rather than ``config.yaml``, which on 1.19/1.20 turns off YAML map values.
    Raises only ``UnsupportedVersionError`` and ``ValueError`` for an unknown use case name.
    """
    version = flink_version if isinstance(flink_version, FlinkVersion) else parse_flink_version(flink_version)
    progress = _Progress(_unique_use_cases(use_cases), dict(job_config or {}))
    problems: tuple[Problem, ...] = ()
    try:
        progress.run(
            config,
            version,
            application_flag=state_backend_uses_managed_memory,
            fraction_of_use_case=fraction_of_use_case,
            standard_yaml=version.uses_standard_yaml
            and not (legacy_conf_file and version.reads_flink_conf_yaml),
        )
    except JavaError as error:
        problems = (problem_from(error),)
    except Exception as bug:
        problems = (internal_problem(bug),)
    notes = _notes(
        version,
        used=progress.used,
        configured=progress.configured,
        weights=progress.weights,
        sb_uses=progress.sb_uses,
        job=progress.job,
    )
    return ManagedMemoryWeights(
        version, progress.weights, progress.sb_uses, progress.fractions, problems, tuple(notes)
    )


@dataclass(slots=True)
class _Progress:
    """What Flink has worked out so far; a failure keeps the earlier steps for the explanation."""

    used: tuple[ManagedMemoryUseCase, ...]
    job: dict[str, ConfigValue]
    sb_uses: bool | None = None
    configured: ConfiguredWeights | None = None
    weights: dict[ManagedMemoryUseCase, int] = field(default_factory=dict)
    fractions: dict[ManagedMemoryUseCase, float] = field(default_factory=dict)

    def run(
        self,
        config: Mapping[str, ConfigValue],
        version: FlinkVersion,
        *,
        application_flag: bool | None,
        fraction_of_use_case: float,
        standard_yaml: bool,
    ) -> None:
        """The steps in Flink's order (which decides the error reported): state backend, weights, fractions."""
        if self.job and not version.weights_know_job_config:
            raise JavaError(
                UNSUPPORTED_OPERATION,
                "this Flink version has no separate job configuration in convertToFractionOfSlot",
                reason=Reason.UNSUPPORTED,
            )
        decision_config = {**config, **self.job} if version.weights_know_job_config else config
        self.sb_uses = (
            application_flag
            if application_flag is not None
            else state_backend_uses_managed_memory_from(decision_config, version)
        )
        self.configured = read_weights_option(config, version, standard_yaml=standard_yaml)
        self.weights = effective_weights(self.configured, version)
        self.fractions = {
            use_case: _fraction_of_slot(use_case, fraction_of_use_case, self.used, self.weights, self.sb_uses)
            for use_case in self.used
        }


def _unique_use_cases(use_cases: Iterable[ManagedMemoryUseCase | str]) -> tuple[ManagedMemoryUseCase, ...]:
    """The used use cases as Flink's ``LinkedHashSet`` holds them: first occurrence wins."""
    unique: list[ManagedMemoryUseCase] = []
    for use_case in use_cases:
        member = ManagedMemoryUseCase(use_case)
        if member not in unique:
            unique.append(member)
    return tuple(unique)


def _fraction_of_slot(
    use_case: ManagedMemoryUseCase,
    fraction_of_use_case: float,
    used: tuple[ManagedMemoryUseCase, ...],
    weights: Mapping[ManagedMemoryUseCase, int],
    sb_uses: bool,
) -> float:
    """``convertToFractionOfSlot`` once the state backend decision and the weights are known."""
    if use_case is ManagedMemoryUseCase.STATE_BACKEND and not sb_uses:
        return 0.0
    counted = (uc for uc in used if uc is not ManagedMemoryUseCase.STATE_BACKEND or sb_uses)
    total = _java_int_sum(weights.get(uc, 0) for uc in counted)
    share = _fraction_rounded_down(weights.get(use_case, 0), total) if total > 0 else 0.0
    return fraction_of_use_case * share


def _java_int_sum(values: Iterable[int]) -> int:
    """``IntStream.sum``: wraps around on overflow."""
    return (sum(values) + INT_MAX + 1) % 2**32 - INT_MAX - 1


def _fraction_rounded_down(dividend: int, divisor: int) -> float:
    """``BigDecimal.divide(divisor, 16, ROUND_DOWN).doubleValue()``, exactly (both operands are >= 0)."""
    scaled = dividend * _FRACTION_SCALE // divisor
    whole, fraction = divmod(scaled, _FRACTION_SCALE)
    return float(f"{whole}.{fraction:016d}")


# ---------------------------------------------------------------------------------- state backend

_HEAP, _MEMORY, _FILESYSTEM, _EMBEDDED = "heap", "memory", "filesystem", "embedded"
_LEGACY_SHORTCUTS = {"jobmanager": _MEMORY, "filesystem": _HEAP, "hashmap": _HEAP, "rocksdb": _EMBEDDED}
_SHORTCUTS = {"hashmap": _HEAP, "rocksdb": _EMBEDDED, "forst": _EMBEDDED}
# The StateBackendFactory implementations flink-dist ships (other backends need separate jars).
_LEGACY_FACTORIES = {
    "org.apache.flink.runtime.state.memory.MemoryStateBackendFactory": _MEMORY,
    "org.apache.flink.runtime.state.filesystem.FsStateBackendFactory": _FILESYSTEM,
    "org.apache.flink.runtime.state.hashmap.HashMapStateBackendFactory": _HEAP,
    "org.apache.flink.contrib.streaming.state.RocksDBStateBackendFactory": _EMBEDDED,
    "org.apache.flink.contrib.streaming.state.EmbeddedRocksDBStateBackendFactory": _EMBEDDED,
}
_FACTORIES = {
    "org.apache.flink.runtime.state.hashmap.HashMapStateBackendFactory": _HEAP,
    "org.apache.flink.contrib.streaming.state.EmbeddedRocksDBStateBackendFactory": _EMBEDDED,
    "org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackendFactory": _EMBEDDED,
    "org.apache.flink.state.forst.ForStStateBackendFactory": _EMBEDDED,
}
_STATE_BACKEND_KEYS = ("state.backend.type", "state.backend")
_CHECKPOINT_DIR_KEYS = ("state.checkpoints.dir", "state.backend.fs.checkpointdir")


def state_backend_uses_managed_memory_from(config: Mapping[str, ConfigValue], version: FlinkVersion) -> bool:
    """``StateBackendLoader.stateBackendFromApplicationOrConfigOrDefaultUseManagedMemory`` without a flag.

    The backend is named by ``state.backend.type`` (or the deprecated ``state.backend``): a shortcut,
    compared lower-cased, or a factory class name. Unset means no backend on 1.17/1.18 (false) and the
    ``hashmap`` default from 1.19 on. A factory that cannot be loaded, or fails with a configuration
    error, makes Flink "reserve managed memory by default" (true).
    """
    raw = next((config[key] for key in _STATE_BACKEND_KEYS if key in config), None)
    if raw is None:
        if not version.state_backend_defaults_to_hashmap:
            return False
        raw = "hashmap"
    if not isinstance(raw, str):
        return True  # no shortcut or flink-dist class is spelled like a number or a boolean
    legacy = version.legacy_state_backend_names_skip_managed
    shortcuts = _LEGACY_SHORTCUTS if legacy else _SHORTCUTS
    factories = _LEGACY_FACTORIES if legacy else _FACTORIES
    kind = shortcuts.get(raw.lower()) or factories.get(raw)
    if kind is None or kind == _EMBEDDED:
        return True
    if kind == _FILESYSTEM:
        return not _checkpoint_directory(config, version)
    return False


def _checkpoint_directory(config: Mapping[str, ConfigValue], version: FlinkVersion) -> str:
    renamed = ("execution.checkpointing.dir",) if version.has_checkpointing_dir_option else ()
    value = next((config[key] for key in (*renamed, *_CHECKPOINT_DIR_KEYS) if key in config), None)
    return "" if value is None else str(value)


# ------------------------------------------------------------------------------------------ notes


def _notes(
    version: FlinkVersion,
    *,
    used: tuple[ManagedMemoryUseCase, ...],
    configured: ConfiguredWeights | None,
    weights: Mapping[ManagedMemoryUseCase, int],
    sb_uses: bool | None,
    job: Mapping[str, ConfigValue],
) -> list[Note]:
    notes: list[Note] = []
    if version.weights_know_job_config and any(key.startswith(WEIGHTS_KEY) for key in job):
        notes.append(
            Note(
                NoteLevel.WARNING,
                NoteCode.IGNORED_KEY,
                f"'{WEIGHTS_KEY}' in the job configuration has no effect: Flink {version} reads the consumer "
                "weights from the TaskManager configuration only.",
                (WEIGHTS_KEY,),
            )
        )
    if configured is None:
        return notes
    notes.extend(_name_notes(version, configured))
    notes.extend(_weight_notes(version, used, configured, weights, sb_uses))
    return notes


def _weight_notes(
    version: FlinkVersion,
    used: tuple[ManagedMemoryUseCase, ...],
    configured: ConfiguredWeights,
    weights: Mapping[ManagedMemoryUseCase, int],
    sb_uses: bool | None,
) -> list[Note]:
    notes = []
    for use_case in used:
        if use_case is ManagedMemoryUseCase.STATE_BACKEND and not sb_uses:
            continue
        names = " or ".join(consumer_names(use_case, version))
        if use_case not in weights:
            notes.append(
                Note(
                    NoteLevel.WARNING,
                    NoteCode.CONSUMER_WEIGHT_MISSING,
                    f"No weight for {use_case.value} is configured in '{WEIGHTS_KEY}' (as {names}): {use_case.value} "
                    "consumers get no managed memory, which can lead to memory allocation failures.",
                    configured.keys or (WEIGHTS_KEY,),
                )
            )
        elif weights[use_case] == 0:
            notes.append(
                Note(
                    NoteLevel.WARNING,
                    NoteCode.CONSUMER_WEIGHT_ZERO,
                    f"The weight for {use_case.value} in '{WEIGHTS_KEY}' is 0: {use_case.value} consumers get no "
                    "managed memory, which can lead to memory allocation failures.",
                    configured.keys or (WEIGHTS_KEY,),
                )
            )
    return notes


def _name_notes(version: FlinkVersion, configured: ConfiguredWeights) -> list[Note]:
    """Names Flink reads without a word: the deprecated DATAPROC, and names it silently ignores."""
    notes = []
    known = {use_case.value for use_case in ManagedMemoryUseCase}
    keys = configured.keys or (WEIGHTS_KEY,)
    for name in configured.entries:
        if name in known:
            continue
        if name == DEPRECATED_CONSUMER_NAME and version.has_dataproc_weight:
            notes.append(
                Note(
                    NoteLevel.WARNING,
                    NoteCode.DEPRECATED_KEY,
                    f"The consumer name {DEPRECATED_CONSUMER_NAME} is deprecated: it stands for OPERATOR and "
                    "STATE_BACKEND where those are not configured, and Flink 2.0 no longer reads it.",
                    keys,
                )
            )
        elif name == DEPRECATED_CONSUMER_NAME:
            notes.append(
                Note(
                    NoteLevel.WARNING,
                    NoteCode.IGNORED_KEY,
                    f"The consumer name {DEPRECATED_CONSUMER_NAME} was removed in Flink 2.0 and is ignored by "
                    f"Flink {version}; configure OPERATOR and STATE_BACKEND instead.",
                    keys,
                )
            )
        else:
            hint = f" Did you mean '{name.upper()}'?" if name.upper() in known else ""
            notes.append(
                Note(
                    NoteLevel.WARNING,
                    NoteCode.UNKNOWN_KEY,
                    f"'{name}' is not a managed memory consumer name (OPERATOR, STATE_BACKEND, PYTHON; "
                    f"case-sensitive); Flink ignores it.{hint}",
                    keys,
                )
            )
    return notes


# ----------------------------------------------------------------------------------- bytes per slot


@dataclass(frozen=True, slots=True)
class ConsumerShare:
    """The managed memory one consumer of one slot gets, or the problem Flink fails with."""

    use_case: ManagedMemoryUseCase
    fraction: float
    bytes: int | None
    problem: Problem | None


@dataclass(frozen=True, slots=True)
class ManagedMemorySplit:
    """A slot's managed memory (total managed // slots) and each used consumer's share of it."""

    slot_managed_bytes: int
    shares: tuple[ConsumerShare, ...]
    problems: tuple[Problem, ...]


def split_managed_memory(
    result: ManagedMemoryWeights, managed_bytes: int, num_slots: int
) -> ManagedMemorySplit:
    """Bytes per consumer as ``MemoryManager.computeMemorySize`` reserves them in a default slot.

    A state backend that does not use managed memory reserves nothing (and is not checked); every other
    used consumer's fraction must lie in (0, 1], with Flink's messages otherwise. Raises ``ValueError``
    for a negative size or fewer than one slot (values a derived TaskManager layout never has).
    """
    if managed_bytes < 0 or num_slots < 1:
        raise ValueError(f"need managed_bytes >= 0 and num_slots >= 1, got {managed_bytes} and {num_slots}")
    slot_bytes = managed_bytes // num_slots
    if not result.ok:
        return ManagedMemorySplit(slot_bytes, (), result.problems)
    shares = tuple(
        _share(use_case, fraction, slot_bytes, reserves=result.state_backend_uses_managed_memory is not False)
        for use_case, fraction in result.fractions.items()
    )
    problems = tuple(share.problem for share in shares if share.problem is not None)
    return ManagedMemorySplit(slot_bytes, shares, problems)


def _share(
    use_case: ManagedMemoryUseCase, fraction: float, slot_bytes: int, *, reserves: bool
) -> ConsumerShare:
    if use_case is ManagedMemoryUseCase.STATE_BACKEND and not reserves:
        return ConsumerShare(use_case, fraction, 0, None)
    error = _fraction_error(fraction)
    if error is not None:
        return ConsumerShare(use_case, fraction, None, problem_from(error))
    return ConsumerShare(use_case, fraction, math.floor(float(slot_bytes) * fraction), None)


def _fraction_error(fraction: float) -> JavaError | None:
    """``MemoryManager.validateFraction``."""
    if fraction == 0:
        message = (
            "The fraction of memory to allocate should not be 0. Please make sure that all types of managed "
            "memory consumers contained in the job are configured with a non-negative weight via "
            f"`{WEIGHTS_KEY}`."
        )
    elif not 0 < fraction <= 1:
        message = (
            f"The fraction of memory to allocate must within (0, 1], was: {java_double_to_string(fraction)}."
        )
    else:
        return None
    return JavaError(ILLEGAL_ARGUMENT, message, reason=Reason.INVALID_FRACTION_OF_SLOT, keys=(WEIGHTS_KEY,))


# ------------------------------------------------------------------------------------ oracle output


def weights_output(result: ManagedMemoryWeights) -> dict[str, Any]:
    """One weights-mode result line of the flink-oracle (without ``id``)."""
    if result.primary_problem is not None:
        return error_output(result.primary_problem)
    return {
        "ok": True,
        "weights": {uc.value: result.weights[uc] for uc in ManagedMemoryUseCase if uc in result.weights},
        "stateBackendUsesManagedMemory": result.state_backend_uses_managed_memory,
        "fractions": {uc.value: json_number(fraction) for uc, fraction in result.fractions.items()},
    }
