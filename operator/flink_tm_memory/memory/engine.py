"""The engine's public entry point: configuration in, layout or problems out, never an exception.

``derive_task_manager_memory`` does what ``BashJavaUtils GET_TM_RESOURCE_PARAMS`` does for the chosen
Flink release (including the 1.x mapping of legacy heap options), and adds what Flink does not: every
independent problem instead of only the first, the notes Flink only logs, advice about risky but
accepted configurations, and a per-component explain trace.
"""

from __future__ import annotations

from flink_tm_memory.memory import options as opt
from flink_tm_memory.memory.configuration import ConfigValue, FlinkConfiguration
from flink_tm_memory.memory.derive import Derivation
from flink_tm_memory.memory.explain import ComponentTrace, Note, NoteCode, NoteLevel
from flink_tm_memory.memory.failures import (
    JavaError,
    Problem,
    Reason,
    configuration_error,
    internal_problem,
    problem_from,
)
from flink_tm_memory.memory.layout import COMPONENT_NAMES, MemoryLayout
from flink_tm_memory.memory.options import ConfigOption, OptionType
from flink_tm_memory.memory.records import FrozenRecord
from flink_tm_memory.memory.sizes import format_human, parse_memory_size
from flink_tm_memory.memory.versions import FlinkVersion, parse_flink_version

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see memory/records.py)
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Final

# Real Flink options under taskmanager.memory.* that do not take part in the sizing.
_OTHER_MEMORY_KEYS = frozenset(
    {
        "taskmanager.memory.framework.off-heap.batch-shuffle.size",
        "taskmanager.memory.min-segment-size",
        "taskmanager.memory.starting-segment-size",
    }
)
_DEFAULTED_OPTIONS = frozenset(
    option.key for option in opt.options_for(parse_flink_version("1.20")) if option.default is not None
)


class TaskManagerMemory(FrozenRecord):
    """The outcome of one derivation: a layout, or the problems that prevent one; notes and trace either way."""

    __slots__ = ("layout", "notes", "problems", "trace", "version")

    def __init__(
        self,
        version: FlinkVersion,
        layout: MemoryLayout | None,
        problems: tuple[Problem, ...],
        notes: tuple[Note, ...],
        trace: tuple[ComponentTrace, ...],
    ) -> None:
        self.version: Final = version
        self.layout: Final = layout
        self.problems: Final = problems
        self.notes: Final = notes
        self.trace: Final = trace

    @property
    def ok(self) -> bool:
        return self.layout is not None

    @property
    def primary_problem(self) -> Problem | None:
        """The problem Flink itself reports (its exact message and chain)."""
        return self.problems[0] if self.problems else None


def derive_task_manager_memory(
    config: Mapping[str, ConfigValue],
    flink_version: str | FlinkVersion | None = None,
    *,
    legacy_heap_env: str | None = None,
    standard_yaml: bool | None = None,
    thorough: bool = True,
) -> TaskManagerMemory:
    """Derives the TaskManager memory layout exactly as the given Flink release would.

    ``config`` maps Flink option keys to values as written in a configuration file or ``-D`` flag.
    ``legacy_heap_env`` is the ``FLINK_TM_HEAP`` environment variable (Flink 1.x only).
    ``standard_yaml`` says whether Flink reads the values in standard-YAML mode; by default it does from
    1.19 on (``config.yaml``), but 1.19 and 1.20 still read a ``flink-conf.yaml`` in legacy mode.
    ``thorough=False`` answers only what Flink answers (the layout, or its one problem), without the
    independent problems, advice and trace: for fleet-sized batches diffed against Flink.
    Raises only ``UnsupportedVersionError`` for an unknown version name.
    """
    version = flink_version if isinstance(flink_version, FlinkVersion) else parse_flink_version(flink_version)
    yaml_mode = (
        version.uses_standard_yaml if standard_yaml is None else standard_yaml and version.uses_standard_yaml
    )
    configuration = FlinkConfiguration(dict(config), standard_yaml=yaml_mode)
    notes: list[Note] = []
    derivation = Derivation(configuration, version, traced=thorough)
    try:
        if version.has_legacy_heap_options:
            derivation.config = _map_legacy_heap(configuration, legacy_heap_env, notes)
        layout: MemoryLayout | None = derivation.run()
        problems: tuple[Problem, ...] = ()
    except JavaError as error:
        layout = None
        primary = _naming_sizes_if_anonymous(problem_from(error), configuration, version)
        others = _independent_problems(configuration, version, primary) if thorough else []
        problems = (primary, *others)
    except Exception as bug:
        layout, problems = None, (internal_problem(bug),)
    notes.extend(derivation.notes)
    if thorough:
        notes.extend(_advice(configuration, version))
        if layout is not None and layout.total_process_bytes > IMPLAUSIBLE_PROCESS_BYTES:
            notes.append(_implausible(layout.total_process_bytes, configuration))
    trace = tuple(derivation.trace[name] for name in COMPONENT_NAMES if name in derivation.trace)
    return TaskManagerMemory(version, layout, problems, tuple(_unique(notes)), trace if layout else ())


def _map_legacy_heap(
    config: FlinkConfiguration, env_value: str | None, notes: list[Note]
) -> FlinkConfiguration:
    """Flink 1.x: ``taskmanager.heap.size``/``.mb`` or ``FLINK_TM_HEAP`` stand for total Flink memory."""
    if config.contains(opt.FLINK_SIZE):
        return config
    try:
        legacy_bytes = _legacy_heap_bytes(config, env_value)
    except JavaError as error:
        if not error.is_configuration_error:
            raise
        raise configuration_error(
            f"TaskManager failed to map legacy JVM heap option to the new one: {error.message}", error
        ) from None
    if legacy_bytes is None:
        return config
    notes.append(
        Note(
            NoteLevel.INFO,
            NoteCode.LEGACY_HEAP_MAPPED,
            f"'{opt.FLINK_SIZE.key}' is not specified, use the configured deprecated task manager heap value "
            f"({format_human(legacy_bytes)}) for it.",
            tuple(key for key in (opt.LEGACY_HEAP_SIZE.key, opt.LEGACY_HEAP_MB.key) if key in config.entries),
        )
    )
    return config.with_entry(opt.FLINK_SIZE.key, f"{legacy_bytes}b")


def _legacy_heap_bytes(config: FlinkConfiguration, env_value: str | None) -> int | None:
    if env_value is not None:
        try:
            return parse_memory_size(env_value)
        except JavaError as error:
            raise configuration_error(
                f"Cannot read total process memory size from environment variable value {env_value}.",
                error,
                reason=Reason.INVALID_LEGACY_HEAP,
                keys=(opt.LEGACY_HEAP_ENV,),
            ) from None
    if config.contains(opt.LEGACY_HEAP_SIZE):
        return config.read_memory(opt.LEGACY_HEAP_SIZE)
    if config.contains(opt.LEGACY_HEAP_MB):
        megabytes = config.get_int(opt.LEGACY_HEAP_MB)
        assert megabytes is not None
        if megabytes < 0:
            raise configuration_error(
                f"Configured total process memory size ({megabytes}MB) must not be less than 0.",
                reason=Reason.INVALID_LEGACY_HEAP,
                keys=(opt.LEGACY_HEAP_MB.key,),
            )
        return megabytes << 20
    return None


def _naming_sizes_if_anonymous(
    problem: Problem, config: FlinkConfiguration, version: FlinkVersion
) -> Problem:
    """A sum past 2^63-1 names no option in Flink; point at every configured size instead."""
    if problem.keys:
        return problem
    sizes = tuple(
        key
        for option in opt.options_for(version)
        if option.type is OptionType.MEMORY
        for key in option.all_keys
        if key in config.entries
    )
    return problem.replace(keys=sizes)


# ---------------------------------------------------------------------- every independent problem


def _independent_problems(
    config: FlinkConfiguration, version: FlinkVersion, primary: Problem
) -> list[Problem]:
    """Problems Flink would report one by one, after each earlier one was fixed.

    Every configured option is checked on its own (its value, its range), then the derivation is run
    again with the unreadable optional values left at their defaults, to find a sizing conflict hidden
    behind a parse error.
    """
    found: list[Problem] = []
    unreadable: set[str] = set()
    for option in opt.options_for(version):
        error = _check_option(config, version, option)
        if error is not None:
            found.append(problem_from(error, primary=False))
            unreadable.update(key for key in option.all_keys if key in config.entries)
    for error in _check_ranges(config, version):
        found.append(problem_from(error, primary=False))
    if unreadable and unreadable <= _DEFAULTED_OPTIONS | {opt.MANAGED_FRACTION.key}:
        retry = Derivation(config.without(unreadable), version)
        try:
            retry.run()
        except JavaError as error:
            found.append(problem_from(error, primary=False))
    # The retry's overflow, like Flink's own, names no option (found by fuzzing).
    return _distinct(primary, [_naming_sizes_if_anonymous(problem, config, version) for problem in found])


def _check_option(
    config: FlinkConfiguration, version: FlinkVersion, option: ConfigOption
) -> JavaError | None:
    if not config.contains(option) or option.type in (OptionType.MAP, OptionType.STRING):
        return None
    probe = Derivation(config, version)
    try:
        if option.type is OptionType.MEMORY:
            config.read_memory(option)
        elif option.type is OptionType.FLOAT:
            config.get_float(option)
        elif option is opt.CPU_CORES or (option is opt.NUM_TASK_SLOTS and not config.contains(opt.CPU_CORES)):
            probe._cpu_cores()
        else:
            config.get_int(option)
    except JavaError as error:
        return _as_flink_reports(error)
    return None


def _check_ranges(config: FlinkConfiguration, version: FlinkVersion) -> list[JavaError]:
    errors = []
    probe = Derivation(config, version)
    checks = (probe._network_range, probe._overhead_range, probe._managed_range)
    for check in checks:
        try:
            check()
        except JavaError as error:
            if error.reason in (Reason.MIN_ABOVE_MAX, Reason.INVALID_FRACTION):
                errors.append(_as_flink_reports(error))
    return errors


def _as_flink_reports(error: JavaError) -> JavaError:
    if error.is_configuration_error:
        return configuration_error(f"TaskManager memory configuration failed: {error.message}", error)
    return error


def _distinct(primary: Problem, candidates: list[Problem]) -> list[Problem]:
    seen = {(primary.reason, primary.message)}
    distinct = []
    for problem in candidates:
        if (problem.reason, problem.message) not in seen:
            seen.add((problem.reason, problem.message))
            distinct.append(problem)
    return distinct


# ---------------------------------------------------------------------- advice Flink does not give


def _advice(config: FlinkConfiguration, version: FlinkVersion) -> list[Note]:
    notes = [
        Note(
            NoteLevel.WARNING,
            NoteCode.DEPRECATED_KEY,
            f"Config uses deprecated configuration key '{use.deprecated_key}' instead of proper key '{use.key}'",
            (use.deprecated_key,),
        )
        for use in config.deprecated_uses
    ]
    explicit = [key for key in (opt.TASK_HEAP.key, opt.MANAGED_SIZE.key) if config.contains(_option(key))]
    totals = [option.key for option in (opt.FLINK_SIZE, opt.PROCESS_SIZE) if config.contains(option)]
    if explicit and totals:
        notes.append(
            Note(
                NoteLevel.WARNING,
                NoteCode.EXPLICIT_AND_TOTAL,
                f"{' and '.join(explicit)} {'is' if len(explicit) == 1 else 'are'} configured together with "
                f"{' and '.join(totals)}, which may easily lead to memory configuration conflicts. "
                + _explicit_advice(explicit),
                (*explicit, *totals),
            )
        )
    elif len(totals) == 2:
        notes.append(
            Note(
                NoteLevel.WARNING,
                NoteCode.EXPLICIT_AND_TOTAL,
                "Both total process memory and total Flink memory are configured: Flink does not recommend it, "
                "it may lead to deployment failures due to memory configuration conflicts.",
                tuple(totals),
            )
        )
    notes.extend(_ignored_and_unknown_keys(config, version))
    return notes


def _explicit_advice(explicit: list[str]) -> str:
    if len(explicit) == 2:
        return "Flink recommends setting neither total when task heap and managed memory are explicit."
    named = "task heap" if explicit == [opt.TASK_HEAP.key] else "managed memory"
    return f"With {named} explicit, Flink fits the other components around it within the total."


IMPLAUSIBLE_PROCESS_BYTES = 64 << 40
"""64 TiB: more memory than any machine a TaskManager runs on has (the largest servers hold 24-32 TiB)."""


def _implausible(total: int, config: FlinkConfiguration) -> Note:
    """A layout Flink accepts but no machine can hold: most likely a unit typed wrong (t for g)."""
    keys = tuple(key for key in (opt.PROCESS_SIZE.key, opt.FLINK_SIZE.key) if key in config.entries)
    return Note(
        NoteLevel.WARNING,
        NoteCode.IMPLAUSIBLE_SIZE,
        f"The total process memory ({format_human(total)}) is more than any machine has "
        f"({format_human(IMPLAUSIBLE_PROCESS_BYTES)}): Flink accepts it, but no node can run it. "
        "Check the unit (k, m, g, t).",
        keys,
    )


def _option(key: str) -> ConfigOption:
    return opt.TASK_HEAP if key == opt.TASK_HEAP.key else opt.MANAGED_SIZE


def _ignored_and_unknown_keys(config: FlinkConfiguration, version: FlinkVersion) -> list[Note]:
    notes = []
    known = opt.known_keys(version)
    removed = opt.known_keys(parse_flink_version("1.20")) - known
    for key in config.entries:
        if key in removed:
            notes.append(
                Note(
                    NoteLevel.WARNING,
                    NoteCode.IGNORED_KEY,
                    f"'{key}' was removed in Flink 2.0 and is ignored by Flink {version}.",
                    (key,),
                )
            )
        elif (
            key.startswith("taskmanager.memory.")
            and key not in known
            and key not in _OTHER_MEMORY_KEYS
            and not key.startswith(opt.CONSUMER_WEIGHTS.key + ".")
        ):
            import difflib  # noqa: PLC0415 - only for misspelled keys; keeps the one-shot CLI start fast

            close = difflib.get_close_matches(key, sorted(known | _OTHER_MEMORY_KEYS), n=1, cutoff=0.85)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            notes.append(
                Note(
                    NoteLevel.WARNING,
                    NoteCode.UNKNOWN_KEY,
                    f"'{key}' is not a Flink {version} TaskManager memory option; Flink ignores it.{hint}",
                    (key,),
                )
            )
        elif key not in known and _looks_like_task_manager_key(key):
            # A key the engine reads is one of the release's TaskManager options (test_unknown_keys.py
            # checks it), so the table of those options is loaded only for other keys.
            note = _misspelled_task_manager_key(key, version)
            if note is not None:
                notes.append(note)
    return notes


def _looks_like_task_manager_key(key: str) -> bool:
    head = key.split(".", 1)[0].lower()
    return head == "taskmanager" or (len(head) > 7 and _close(head, ("taskmanager",), 0.8) is not None)


def _misspelled_task_manager_key(key: str, version: FlinkVersion) -> Note | None:
    """A key near one of the release's TaskManager options (any of them, not only memory ones)."""
    from flink_tm_memory.memory.taskmanager_keys import TASK_MANAGER_KEYS  # noqa: PLC0415 - unknown keys only

    options = TASK_MANAGER_KEYS.get(version.name, frozenset())
    if key in options:
        return None
    close = _close(key, sorted(options), 0.9)
    if close is None:
        return None
    case = " (Flink's keys are case-sensitive)" if close.lower() == key.lower() else ""
    return Note(
        NoteLevel.WARNING,
        NoteCode.UNKNOWN_KEY,
        f"'{key}' is not one of Flink {version}'s TaskManager options. Did you mean '{close}'?{case}",
        (key,),
    )


def _close(word: str, candidates: tuple[str, ...] | list[str], cutoff: float) -> str | None:
    import difflib  # noqa: PLC0415 - only for unknown keys; keeps the one-shot CLI start fast

    matches = difflib.get_close_matches(word, candidates, n=1, cutoff=cutoff)
    return matches[0] if matches else None


def _unique(notes: list[Note]) -> list[Note]:
    unique: list[Note] = []
    for note in notes:
        if note not in unique:
            unique.append(note)
    return unique
