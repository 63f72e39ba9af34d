"""Fixes for a configuration Flink rejects: the smallest changes of the user's options Flink accepts.

A fix is a set of keys to set and keys to remove, with a one-line summary in the user's terms. The
search uses nothing but this engine's own derivation (``thorough=False``, Flink's answer only) as the
judge, so every fix proposed is one the engine, and hence Flink, accepts (``tests/conformance``
asks real Flink about every fix for every rejected public vector).

How: first every value Flink cannot read is replaced by what the user most likely meant
(``memory/meant.py``) or removed; if that is not enough, one more option is changed: a size the
problem names is raised or lowered, by a binary search over whole MiB, to the value closest to the
user's that Flink accepts (so the same fix 1 MiB closer is still rejected), or an option is removed,
or a missing total is set. Only if no single change works are two tried (a removal, then a size),
and as a last resort every size but the total is removed. Fixes are ranked by how many keys they
change, then by how far they move the user's values; at most ``limit`` are returned.
"""

from __future__ import annotations

from flink_tm_memory.memory import options as opt
from flink_tm_memory.memory.configuration import java_string
from flink_tm_memory.memory.engine import TaskManagerMemory, derive_task_manager_memory
from flink_tm_memory.memory.failures import JavaError, Problem, Reason
from flink_tm_memory.memory.javanum import java_float_to_string
from flink_tm_memory.memory.meant import (
    format_size,
    meant_decimal,
    meant_integer,
    meant_size,
    plain_character,
)
from flink_tm_memory.memory.options import ConfigOption, OptionType
from flink_tm_memory.memory.records import FrozenRecord
from flink_tm_memory.memory.sizes import MAX_BYTES, MIB, parse_memory_size
from flink_tm_memory.memory.versions import FlinkVersion, parse_flink_version

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see memory/records.py)
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping
    from typing import Final

    from flink_tm_memory.memory.configuration import ConfigValue

    Config = dict[str, ConfigValue]

SHIPPED_PROCESS_SIZE = "1728m"
"""The process size in the configuration file every Flink distribution ships."""

_UNREADABLE = frozenset(
    {
        Reason.INVALID_MEMORY_SIZE,
        Reason.INVALID_NUMBER,
        Reason.INVALID_FRACTION,
        Reason.NON_POSITIVE_CPU,
        Reason.INVALID_CPU,
        Reason.NEGATIVE_SIZE,
        Reason.INVALID_SEGMENT_SIZE,
        Reason.INVALID_LEGACY_HEAP,
        Reason.INVALID_WEIGHTS,
        Reason.INVALID_EXTERNAL_RESOURCE,
    }
)
_LARGEST_MIB = MAX_BYTES // MIB


class Fix(FrozenRecord):
    """Keys to set (in Flink's syntax) and keys to remove, after which Flink accepts the configuration."""

    __slots__ = ("set", "summary", "unset")

    def __init__(self, set: tuple[tuple[str, str], ...], unset: tuple[str, ...], summary: str) -> None:
        self.set: Final = set
        self.unset: Final = unset
        self.summary: Final = summary

    def applied_to(self, config: Mapping[str, ConfigValue]) -> dict[str, ConfigValue]:
        """The user's configuration with this fix applied."""
        fixed = {key: value for key, value in config.items() if key not in self.unset}
        fixed.update(self.set)
        return fixed


class Change(FrozenRecord):
    """One option changed: ``value`` None removes it. ``user_bytes`` is the user's size it moves from.

    ``renamed_from``: a misspelled key whose value moves to ``key``; counted as one changed option.
    """

    __slots__ = ("cost", "key", "renamed_from", "summary", "user_bytes", "value")

    def __init__(
        self,
        key: str,
        value: str | None,
        summary: str,
        cost: float,
        *,
        user_bytes: int | None = None,
        renamed_from: str | None = None,
    ) -> None:
        self.key: Final = key
        self.value: Final = value
        self.summary: Final = summary
        self.cost: Final = cost
        self.user_bytes: Final = user_bytes
        self.renamed_from: Final = renamed_from

    def effects(self) -> tuple[tuple[str, str | None], ...]:
        """(key, value or None to remove it), in the order they apply."""
        moved: tuple[tuple[str, str | None], ...] = (
            () if self.renamed_from is None else ((self.renamed_from, None),)
        )
        return (*moved, (self.key, self.value))


def apply_changes(config: Mapping[str, ConfigValue], changes: Iterable[Change]) -> Config:
    fixed = dict(config)
    for change in changes:
        for key, value in change.effects():
            if value is None:
                fixed.pop(key, None)
            else:
                fixed[key] = value
    return fixed


def final_effects(changes: Iterable[Change]) -> dict[str, str | None]:
    """What a series of changes does to each key: a later change of a key replaces an earlier one."""
    return {key: value for change in changes for key, value in change.effects()}


def closer_by_one_mib(change: Change) -> Change | None:
    """The same size change 1 MiB closer to the user's value (the user's value when that is nearer)."""
    if change.user_bytes is None or change.value is None:
        return None
    fixed = parse_memory_size(change.value)
    step = MIB if fixed > change.user_bytes else -MIB
    closer = fixed - step
    if (closer - change.user_bytes) * step <= 0:
        return None  # 1 MiB closer is the user's own value, which Flink rejects
    return change.replace(value=format_size(closer))


def propose_fixes(
    config: Mapping[str, ConfigValue],
    flink_version: str | FlinkVersion | None = None,
    *,
    standard_yaml: bool | None = None,
    legacy_heap_env: str | None = None,
    limit: int = 5,
) -> tuple[Fix, ...]:
    """Fixes for ``config``, best first; none when Flink accepts it already. Never raises for bad input."""
    return tuple(
        _as_fix(changes)
        for changes in search_changes(
            config, flink_version, standard_yaml=standard_yaml, legacy_heap_env=legacy_heap_env, limit=limit
        )
    )


def search_changes(
    config: Mapping[str, ConfigValue],
    flink_version: str | FlinkVersion | None = None,
    *,
    standard_yaml: bool | None = None,
    legacy_heap_env: str | None = None,
    limit: int = 5,
) -> list[tuple[Change, ...]]:
    """The changes behind ``propose_fixes``, each with the user's size it moves from (for checking)."""
    version = flink_version if isinstance(flink_version, FlinkVersion) else parse_flink_version(flink_version)
    search = _Search(version, standard_yaml, legacy_heap_env)
    if search.accepts(config):
        return []
    repairs = search.repairs(config)
    base = apply_changes(config, repairs)
    found: list[tuple[Change, ...]] = []
    if repairs and search.accepts(base):
        found.append(tuple(repairs))
        removals = tuple(_removal(change.key, config, version, "") for change in repairs)
        if any(change.value is not None for change in repairs) and search.accepts(
            apply_changes(config, removals)
        ):
            found.append(removals)
    else:
        found.extend(
            _after(repairs, (change,), config) for change in search.single_changes(base, narrow=True)
        )
        if not found:
            found.extend(
                _after(repairs, (change,), config) for change in search.single_changes(base, narrow=False)
            )
        if not found:
            found.extend(_after(repairs, pair, config) for pair in search.pairs(base))
        if not found:
            found.extend(_after(repairs, rest, config) for rest in search.last_resort(base))
    return _ranked(found)[:limit]


def _after(
    repairs: list[Change], changes: tuple[Change, ...], config: Mapping[str, ConfigValue]
) -> tuple[Change, ...]:
    """Repairs then more changes; an unreadable value removed and then set again is said as one change."""
    rest = list(changes)
    kept: list[Change] = []
    for repair in repairs:
        setting = [index for index, change in enumerate(rest) if change.key == repair.key and change.value]
        if repair.value is None and setting:
            unreadable = java_string(config[repair.key])
            index = setting[-1]
            rest[index] = rest[index].replace(
                summary=f"{rest[index].summary} instead of '{unreadable}': {_why_unreadable(unreadable)}"
            )
            continue
        kept.append(repair)
    return (*kept, *rest)


def _ranked(found: list[tuple[Change, ...]]) -> list[tuple[Change, ...]]:
    unique: dict[tuple[tuple[str, str | None], ...], tuple[Change, ...]] = {}
    for changes in found:
        unique.setdefault(tuple(sorted((change.key, change.value or "") for change in changes)), changes)
    return sorted(
        unique.values(),
        key=lambda changes: (len({change.key for change in changes}), sum(change.cost for change in changes)),
    )


def _as_fix(changes: tuple[Change, ...]) -> Fix:
    final = final_effects(changes)
    return Fix(
        tuple((key, value) for key, value in final.items() if value is not None),
        tuple(key for key, value in final.items() if value is None),
        "; ".join(change.summary for change in changes),
    )


class _Search:
    """One rejected configuration's search, with every derivation's verdict remembered."""

    def __init__(
        self, version: FlinkVersion, standard_yaml: bool | None, legacy_heap_env: str | None
    ) -> None:
        self.version = version
        self.standard_yaml = standard_yaml
        self.legacy_heap_env = legacy_heap_env
        self.options = {key: option for option in opt.options_for(version) for key in option.all_keys}
        self.verdicts: dict[frozenset[tuple[str, ConfigValue]], bool] = {}
        self.reasons: dict[frozenset[tuple[str, ConfigValue]], tuple[Problem, ...]] = {}

    def accepts(self, config: Mapping[str, ConfigValue]) -> bool:
        key = frozenset(config.items())
        if key not in self.verdicts:
            self.verdicts[key] = self._derive(config, thorough=False).layout is not None
        return self.verdicts[key]

    def problems(self, config: Mapping[str, ConfigValue]) -> tuple[Problem, ...]:
        key = frozenset(config.items())
        if key not in self.reasons:
            self.reasons[key] = self._derive(config, thorough=True).problems
        return self.reasons[key]

    def _derive(self, config: Mapping[str, ConfigValue], *, thorough: bool) -> TaskManagerMemory:
        return derive_task_manager_memory(
            config,
            self.version,
            standard_yaml=self.standard_yaml,
            legacy_heap_env=self.legacy_heap_env,
            thorough=thorough,
        )

    # ------------------------------------------------------------------ values Flink cannot read

    def repairs(self, config: Mapping[str, ConfigValue]) -> list[Change]:
        """For each unreadable value: what the user meant, if Flink reads it, else its removal."""
        problems = self.problems(config)
        repairs = []
        for key in _unreadable_keys(problems, config):
            meant = self._meant(key, config[key])
            change = _removal(key, config, self.version, _refusal(key, config[key], problems))
            if meant is not None:
                candidate = Change(key, meant, _rewrite_summary(key, config[key], meant), 0.0)
                if key not in _unreadable_keys(self.problems(apply_changes(config, [candidate])), config):
                    change = candidate
            repairs.append(change)
        return repairs

    def _meant(self, key: str, value: ConfigValue) -> str | None:
        option = self.options.get(key)
        text = java_string(value)
        meant: str | None = None
        if option is None or option.type is OptionType.MEMORY:
            size = meant_size(text)
            meant = None if size is None else format_size(size)
        elif option.type in (OptionType.INTEGER, OptionType.LONG):
            meant = meant_integer(text)
        elif option.type in (OptionType.FLOAT, OptionType.DOUBLE):
            meant = meant_decimal(text)
        return None if meant == text else meant

    # ------------------------------------------------------------------ sizing conflicts

    def single_changes(self, config: Config, *, narrow: bool) -> list[Change]:
        """Every one-option change Flink accepts; ``narrow`` tries only the options the problems name."""
        problems = self.problems(config)
        named = {key for problem in problems for key in problem.keys}
        keys = [key for key in config if key in self.options and (not narrow or key in named)]
        changes: list[Change] = []
        for key in keys:
            changes.extend(self._size_changes(config, key))
            removal = _removal(key, config, self.version, "")
            if self.accepts(apply_changes(config, [removal])):
                changes.append(removal)
        if narrow and any(problem.reason is Reason.TOTAL_MEMORY_MISSING for problem in problems):
            changes.extend(self._new_total(config))
        changes.extend(
            rename for rename in self._renames(config) if self.accepts(apply_changes(config, [rename]))
        )
        return changes

    def _renames(self, config: Config) -> list[Change]:
        """A misspelled key moved to the option it is nearest, when the user did not set that one too."""
        renames = []
        for key in config:
            if key in self.options or not key.lower().startswith("task"):
                continue
            target = _nearest(key, [option for option in self.options if option not in config])
            if target is not None:
                summary = f"rename {key} to {target}: Flink knows no option {key}"
                renames.append(Change(target, java_string(config[key]), summary, 0.0, renamed_from=key))
        return renames

    def _size_changes(self, config: Config, key: str) -> list[Change]:
        option = self.options[key]
        if option.type is not OptionType.MEMORY:
            return []
        try:
            user_bytes = parse_memory_size(java_string(config[key]))
        except JavaError:
            return []
        changes = []
        for upward in (True, False):
            found = _boundary(
                lambda mib: self.accepts({**config, key: format_size(mib * MIB)}), user_bytes, upward
            )
            if found is not None:
                verb = "raise" if upward else "lower"
                value = format_size(found * MIB)
                summary = f"{verb} {key} from {java_string(config[key])} to {value}"
                cost = abs(found * MIB - user_bytes) / max(user_bytes, MIB)
                changes.append(Change(key, value, summary, cost, user_bytes=user_bytes))
        return changes

    def _new_total(self, config: Config) -> list[Change]:
        """No total and no task heap with managed memory: Flink's shipped process size, or the least above it."""
        key = opt.PROCESS_SIZE.key
        shipped = parse_memory_size(SHIPPED_PROCESS_SIZE) // MIB
        fits = self.accepts({**config, key: SHIPPED_PROCESS_SIZE})
        found = (
            shipped
            if fits
            else _boundary(lambda mib: self.accepts({**config, key: f"{mib}m"}), shipped * MIB, True)
        )
        if found is None:
            return []
        value = format_size(found * MIB)
        why = (
            "the size Flink's shipped configuration sets"
            if fits
            else "the least Flink accepts with your other sizes"
        )
        return [Change(key, value, f"set {key} to {value} ({why})", 1.0)]

    def pairs(self, config: Config) -> list[tuple[Change, ...]]:
        """A removal, then one more change: for conflicts between two options the user set."""
        named = {key for problem in self.problems(config) for key in problem.keys}
        pairs: list[tuple[Change, ...]] = []
        for key in [key for key in config if key in self.options and key in named]:
            removal = _removal(key, config, self.version, "")
            rest = apply_changes(config, [removal])
            pairs.extend((removal, change) for change in self.single_changes(rest, narrow=True))
        return pairs

    def last_resort(self, config: Config) -> list[tuple[Change, ...]]:
        """Every option but the total (and slots and CPU cores) removed; then the total changed if need be.

        A total the user set is moved to the nearest whole MiB Flink accepts (so it stays minimal);
        without one, Flink's shipped size is set.
        """
        total = opt.PROCESS_SIZE.key
        for kept_keys in ((total, opt.NUM_TASK_SLOTS.key, opt.CPU_CORES.key), (total,)):
            removals = [
                _removal(key, config, self.version, "")
                for key in config
                if key in self.options and key not in kept_keys
            ]
            kept = apply_changes(config, removals)
            if total in kept and self.accepts(kept):
                return [tuple(removals)]
            sized = self._size_changes(kept, total) if total in kept else self._new_total(kept)
            if sized:
                return [(*removals, min(sized, key=lambda change: change.cost))]
        return []


def _nearest(key: str, options: list[str]) -> str | None:
    import difflib  # noqa: PLC0415 - only for misspelled keys of rejected configurations

    matches = difflib.get_close_matches(key, sorted(options), n=1, cutoff=0.85)
    return matches[0] if matches else None


def _unreadable_keys(problems: tuple[Problem, ...], config: Mapping[str, ConfigValue]) -> list[str]:
    keys: list[str] = []
    for problem in problems:
        if problem.reason in _UNREADABLE:
            keys.extend(key for key in problem.keys if key in config and key not in keys)
    return keys


def _refusal(key: str, value: ConfigValue, problems: tuple[Problem, ...]) -> str:
    """Why Flink refuses a value, in words: it cannot read it, or it reads it and it is out of range."""
    reason = next(
        problem.reason for problem in problems if problem.reason in _UNREADABLE and key in problem.keys
    )
    text = java_string(value)
    if reason is Reason.NON_POSITIVE_CPU:
        return f"Flink needs a positive number of CPU cores, not {text}"
    if reason is Reason.INVALID_FRACTION and _is_plain_number(text):
        return f"Flink needs a fraction from 0 to 1, not {text}"
    if reason is Reason.NEGATIVE_SIZE:
        return f"Flink needs a size of at least 0, not {text}"
    return f"Flink cannot read '{text}'"


def _is_plain_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return text.strip().lower().lstrip("+-") not in ("nan", "inf", "infinity")


def _removal(key: str, config: Mapping[str, ConfigValue], version: FlinkVersion, why: str) -> Change:
    option = next((option for option in opt.options_for(version) if key in option.all_keys), None)
    outcome = _without_it(option, config)
    reason = f"{why}; {outcome}" if why else outcome
    return Change(key, None, f"remove {key}: {reason}", 1.0)


def _without_it(option: ConfigOption | None, config: Mapping[str, ConfigValue]) -> str:
    fine_grained = opt.TASK_HEAP.key in config and opt.MANAGED_SIZE.key in config
    if option in (opt.PROCESS_SIZE, opt.FLINK_SIZE) and fine_grained:
        return "task heap and managed memory already fix it"
    if option is opt.FLINK_SIZE and opt.PROCESS_SIZE.key in config:
        return f"{opt.PROCESS_SIZE.key} alone then fixes it"
    if option is opt.PROCESS_SIZE and opt.FLINK_SIZE.key in config:
        return f"{opt.FLINK_SIZE.key} alone then fixes it"
    if option is opt.CPU_CORES:
        return "Flink then gives each task slot one CPU core"
    if option is None or option.default is None:
        return "Flink then derives it"
    if option.type is OptionType.MEMORY:
        default = "no limit" if option.default == MAX_BYTES else format_size(int(option.default))
        return f"Flink then uses its default ({default})"
    if option.type is OptionType.FLOAT:
        return f"Flink then uses its default ({java_float_to_string(float(option.default))})"
    return f"Flink then uses its default ({option.default})"


def _rewrite_summary(key: str, value: ConfigValue, meant: str) -> str:
    text = java_string(value)
    return f"write {meant} for {key}: {_why_unreadable(text)}"


def _why_unreadable(text: str) -> str:
    """Why Flink cannot read ``text`` as a size, as precisely as the text shows it."""
    stripped = text.strip()
    foreign = next((character for character in stripped if not character.isascii()), None)
    if foreign is not None:
        return _not_ascii(foreign)
    if stripped.startswith("-"):
        return f"Flink reads no negative sizes ('{text}')"
    if stripped.lower().lstrip("+") in ("nan", "inf", "infinity"):
        return f"'{text}' is not a number Flink reads"
    digits = len(stripped) - len(stripped.lstrip("0123456789"))
    unit = stripped[digits:].strip()
    if any(separator in stripped for separator in ",_'"):
        return f"Flink reads '{text}' with no digit separators"
    if unit[:1] in (".", "e", "E"):
        return "Flink reads whole numbers only"
    if unit and digits and unit.isalpha() and unit.isascii():
        return f"Flink reads {unit} as no unit it knows"
    return f"Flink cannot read '{text}'"


def _not_ascii(character: str) -> str:
    """A look-alike character named: Flink reads ASCII digits and unit letters only."""
    import unicodedata  # noqa: PLC0415 - only for rejected values; keeps the one-shot CLI start fast

    name = unicodedata.name(character, "an unnamed character")
    plain = plain_character(character)
    looks = f", not '{plain}'" if plain is not None else ""
    return f"Flink reads ASCII digits and units only: '{character}' is U+{ord(character):04X} {name}{looks}"


def _boundary(accepted: Callable[[int], bool], user_bytes: int, upward: bool) -> int | None:
    """The whole MiB nearest ``user_bytes`` in one direction that is accepted with its neighbour rejected.

    Probes at doubling distances until one is accepted, then bisects between it and the last rejected
    probe (the user's own value stands for the start, which is rejected). The answer ``m`` is accepted
    and ``m`` 1 MiB closer to the user (or the user's value) is not, whatever the shape in between.
    """
    if upward:
        anchor = user_bytes // MIB  # the grid's last value at or below the user's
        limit = _LARGEST_MIB - anchor
    else:
        anchor = -(-user_bytes // MIB)  # the grid's first value at or above the user's
        limit = anchor
    sign = 1 if upward else -1
    rejected, distance = 0, 1
    while distance <= limit:
        if accepted(anchor + sign * distance):
            return _bisect(accepted, anchor, sign, rejected, distance)
        rejected, distance = distance, distance * 2
    if rejected < limit and accepted(anchor + sign * limit):
        return _bisect(accepted, anchor, sign, rejected, limit)
    return None


def _bisect(accepted: Callable[[int], bool], anchor: int, sign: int, rejected: int, accepted_at: int) -> int:
    while accepted_at - rejected > 1:
        middle = (rejected + accepted_at) // 2
        if accepted(anchor + sign * middle):
            accepted_at = middle
        else:
            rejected = middle
    return anchor + sign * accepted_at
