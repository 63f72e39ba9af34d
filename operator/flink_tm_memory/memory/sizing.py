"""Sizing from needs: the smallest TaskManager process size whose layout in Flink meets every need.

The inverse of the derivation. A job states what it needs of some components (task heap, managed
memory, network, ...), in bytes; the answer is the options to set, always including
``taskmanager.memory.process.size`` in whole MiB, such that Flink accepts the user's configuration
with those options and every component is at least its need, while the same answer with the process
size 1 MiB smaller is not (Flink rejects it, or a need is no longer met).

The answer changes only what it must; components without a need keep what the user's options (or
Flink's defaults) make of them:

- A component Flink sizes from an option alone (framework heap and off-heap, task off-heap, JVM
  metaspace), or one the user sized explicitly (task heap, managed memory), is raised to its need
  when it is below it, never lowered.
- A range whose maximum is below the need (network, JVM overhead) gets the need as its maximum.
- Everything else grows with the process size, which is searched over whole MiB: the smallest size
  whose layout meets the needs, found by probing upward and bisecting. Flink's rejections say on
  which side of the accepted sizes a probe fell (a sum that exceeds the total is too small, a derived
  network or overhead above its maximum is too large), so a band of accepted sizes (the network as the
  remainder of an explicit task heap) is found as reliably as an open range.
- Only if no process size works that way: a total Flink size the user fixed (or Flink 1.x's legacy
  heap) is raised to the smallest that meets the needs; failing that (a managed fraction of 0, say),
  components with a need are pinned to it (a size set, a range minimum raised), one at a time before
  any two, the total Flink size raised again if it is fixed, and the process size searched again.

The judge of every probe is this engine's derivation (``thorough=False``: Flink's answer only), and
``tests/conformance`` asks real Flink about the answers of generated needs for every release.
"""

from __future__ import annotations

import itertools
import re
from enum import Enum

from flink_tm_memory.memory import options as opt
from flink_tm_memory.memory.configuration import FlinkConfiguration, java_string
from flink_tm_memory.memory.engine import TaskManagerMemory, derive_task_manager_memory
from flink_tm_memory.memory.failures import JavaError, Problem, Reason
from flink_tm_memory.memory.meant import format_size
from flink_tm_memory.memory.records import FrozenRecord
from flink_tm_memory.memory.sizes import MAX_BYTES, MIB, parse_memory_size
from flink_tm_memory.memory.versions import FlinkVersion, parse_flink_version

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see memory/records.py)
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping
    from typing import Final

    from flink_tm_memory.memory.configuration import ConfigValue
    from flink_tm_memory.memory.layout import MemoryLayout

    Config = dict[str, ConfigValue]
    Changes = dict[str, str]

NEED_NAMES: tuple[str, ...] = (
    "frameworkHeap",
    "taskHeap",
    "frameworkOffHeap",
    "taskOffHeap",
    "network",
    "managed",
    "jvmMetaspace",
    "jvmOverhead",
)
"""What a job can need, named as the components of the layout (``MemoryLayout.components``)."""

_FIXED_BY_OPTION = {
    "frameworkHeap": opt.FRAMEWORK_HEAP,
    "frameworkOffHeap": opt.FRAMEWORK_OFF_HEAP,
    "taskOffHeap": opt.TASK_OFF_HEAP,
    "jvmMetaspace": opt.METASPACE,
}
_SIZED_WHEN_EXPLICIT = {"taskHeap": opt.TASK_HEAP, "managed": opt.MANAGED_SIZE}
_RANGES = {
    "network": (opt.NETWORK_MIN, opt.NETWORK_MAX),
    "jvmOverhead": (opt.OVERHEAD_MIN, opt.OVERHEAD_MAX),
}
_TOO_SMALL = frozenset(
    {
        Reason.FINE_GRAINED_EXCEED_TOTAL_FLINK,
        Reason.COMPONENTS_EXCEED_TOTAL_FLINK,
        Reason.METASPACE_AND_OVERHEAD_EXCEED_PROCESS,
        Reason.PROCESS_BELOW_FLINK_AND_METASPACE,
    }
)
_DERIVED_AGAINST_BOUNDS = frozenset(
    {Reason.NETWORK_OUT_OF_RANGE, Reason.OVERHEAD_OUT_OF_RANGE, Reason.NETWORK_MISMATCH}
)
_BYTES_IN_MESSAGE = re.compile(r"\((\d+) bytes\)")
_LARGEST_MIB = MAX_BYTES // MIB
_ROOM_LIMIT_MIB = 1 << 20
"""How far above a need a raised maximum may go (1 TiB) before pinning is tried instead."""


class UnmeetableNeedsError(Exception):
    """No configuration reachable from the user's meets the needs; the message says why."""


class Sizing(FrozenRecord):
    """The options to set (``process.size`` always among them) and Flink's layout with them."""

    __slots__ = ("changes", "layout", "result", "summaries")

    def __init__(
        self, changes: dict[str, str], summaries: tuple[str, ...], result: TaskManagerMemory
    ) -> None:
        self.changes: Final = changes
        self.summaries: Final = summaries
        self.result: Final = result
        assert result.layout is not None
        self.layout: Final[MemoryLayout] = result.layout

    @property
    def process_size(self) -> str:
        return self.changes[opt.PROCESS_SIZE.key]


def size_for_needs(
    config: Mapping[str, ConfigValue],
    needs: Mapping[str, int],
    flink_version: str | FlinkVersion | None = None,
    *,
    legacy_heap_env: str | None = None,
    standard_yaml: bool | None = None,
) -> Sizing:
    """The smallest process size (whole MiB) whose layout meets ``needs`` (bytes by component name).

    Raises ``ValueError`` for an unknown need or a size out of range, and ``UnmeetableNeedsError``
    when the user's configuration cannot be brought to meet the needs (a value Flink cannot read, say).
    """
    version = flink_version if isinstance(flink_version, FlinkVersion) else parse_flink_version(flink_version)
    _check_needs(needs)
    search = _Search(dict(config), dict(needs), version, legacy_heap_env, standard_yaml)
    return search.run()


def _check_needs(needs: Mapping[str, int]) -> None:
    for name, size in needs.items():
        if name not in NEED_NAMES:
            raise ValueError(f"unknown need {name!r}: expected one of {', '.join(NEED_NAMES)}")
        if not 0 <= size <= MAX_BYTES:
            raise ValueError(f"need {name}: {size} bytes is out of range (0 to {MAX_BYTES})")


class _Search:
    """One sizing: the user's configuration, the needs, and the derivations that judge each probe."""

    def __init__(
        self,
        config: Config,
        needs: dict[str, int],
        version: FlinkVersion,
        legacy_heap_env: str | None,
        standard_yaml: bool | None,
    ) -> None:
        self.config = config
        self.needs = needs
        self.version = version
        self.legacy_heap_env = legacy_heap_env
        self.standard_yaml = standard_yaml
        self.lower_mib = max(1, -(-sum(needs.values()) // MIB))
        """Every component is a disjoint part of the process: below the needs' sum none can be met."""

    def run(self) -> Sizing:
        musts, summaries = self._musts()
        for changes, why in self._attempts(musts, summaries):
            found = self._smallest_process(changes)
            if found is not None:
                process_mib, result = found
                answer = {**changes, opt.PROCESS_SIZE.key: format_size(process_mib * MIB)}
                summary = self._process_summary(process_mib * MIB, answer[opt.PROCESS_SIZE.key])
                return Sizing(answer, (*_unique(why), summary), result)
        raise UnmeetableNeedsError(self._why_unmeetable(self._pins(musts, self.needs)[0]))

    def _attempts(self, musts: Changes, summaries: list[str]) -> Iterator[tuple[Changes, list[str]]]:
        """Ever more changes, fewest first: the musts, a raised total Flink size, then pinned needs.

        Among the pins, every set of one component is tried before any set of two (and so on), and of
        those that work the one with the smallest process size wins.
        """
        yield musts, summaries
        total = self._smallest_total_flink(musts)
        if total[0]:
            yield musts | total[0], summaries + total[1]
        widened = self._widened(musts)
        if widened is not None:
            yield (
                widened,
                summaries
                + [f"raise {key} to {widened[key]}: room for the need" for key in self._maxima(musts)],
            )
        pinnable = [name for name in self.needs if name in _SIZED_WHEN_EXPLICIT or name in _RANGES]
        for count in range(1, len(pinnable) + 1):
            candidates = []
            for names in itertools.combinations(pinnable, count):
                pins, pin_summaries = self._pins(musts, {name: self.needs[name] for name in names})
                if pins == musts:
                    continue
                pinned_total = self._smallest_total_flink(pins)
                changes = pins | pinned_total[0]
                found = self._smallest_process(changes)
                if found is not None:
                    candidates.append((found[0], changes, summaries + pin_summaries + pinned_total[1]))
            if candidates:
                _, changes, why = min(candidates, key=lambda candidate: candidate[0])
                yield changes, why
                return

    def _process_summary(self, size: int, text: str) -> str:
        """``set`` the process size, or ``raise``/``lower`` it ``from`` the user's own."""
        key = opt.PROCESS_SIZE.key
        given = self._read(opt.PROCESS_SIZE) if key in self.config else None
        if given is None:
            return f"set {key} to {text}"
        if given == size:
            return f"keep {key} at {text}"
        return f"{'raise' if size > given else 'lower'} {key} from {java_string(self.config[key])} to {text}"

    # ------------------------------------------------------------------ what must change

    def _read(self, option: opt.ConfigOption) -> int | None:
        """The option's size as Flink reads it (its default when absent), or None if unreadable."""
        try:
            return FlinkConfiguration(self.config).read_memory(option)
        except JavaError:
            return None

    def _contains(self, option: opt.ConfigOption) -> bool:
        return FlinkConfiguration(self.config).contains(option)

    def _musts(self) -> tuple[Changes, list[str]]:
        """Options that no process size can make meet the needs: sizes and maximums below a need."""
        changes: Changes = {}
        summaries: list[str] = []
        for name, need in self.needs.items():
            option = _FIXED_BY_OPTION.get(name)
            if option is None and name in _SIZED_WHEN_EXPLICIT and self._contains(_SIZED_WHEN_EXPLICIT[name]):
                option = _SIZED_WHEN_EXPLICIT[name]
            if option is not None:
                self._raise_to(option, need, name, changes, summaries)
            elif name in _RANGES:
                maximum = _RANGES[name][1]
                self._raise_to(maximum, need, name, changes, summaries)
        return changes, summaries

    def _maxima(self, musts: Changes) -> list[str]:
        """The range maximums the musts raised to a need."""
        return [maximum.key for _, maximum in _RANGES.values() if maximum.key in musts]

    def _widened(self, musts: Changes) -> Changes | None:
        """The musts with each raised maximum the fewest whole MiB above its need that admit a size.

        A maximum raised exactly to its need leaves one size of the component in range: when that
        component is a remainder (network after an explicit task heap, overhead after fixed totals),
        the whole-MiB process sizes may all miss it. The room is searched by doubling, then bisected.
        """
        maxima = self._maxima(musts)
        if not maxima:
            return None

        def widened(room_mib: int) -> Changes:
            return musts | {
                key: format_size(parse_memory_size(str(musts[key])) + room_mib * MIB) for key in maxima
            }

        below, room = 0, 1
        while self._smallest_process(widened(room)) is None:
            if room >= _ROOM_LIMIT_MIB:
                return None
            below, room = room, room * 2
        while room - below > 1:
            middle = (below + room) // 2
            if self._smallest_process(widened(middle)) is None:
                below = middle
            else:
                room = middle
        return widened(room)

    def _pins(self, musts: Changes, needs: Mapping[str, int]) -> tuple[Changes, list[str]]:
        """The components of ``needs`` pinned to them: sizes set, range minimums raised."""
        changes: Changes = dict(musts)
        summaries: list[str] = []
        for name, need in needs.items():
            if name in _SIZED_WHEN_EXPLICIT:
                option = _SIZED_WHEN_EXPLICIT[name]
                current = self._read(option) if self._contains(option) else None
                if current is None or current < need:
                    changes[option.key] = _size_text(need)
                    summaries.append(f"set {option.key} to {changes[option.key]}: the {name} need")
            elif name in _RANGES:
                self._raise_to(_RANGES[name][0], need, name, changes, summaries)
        return changes, summaries

    def _raise_to(
        self, option: opt.ConfigOption, need: int, name: str, changes: Changes, summaries: list[str]
    ) -> None:
        current = self._read(option)
        if current is not None and current >= need:
            return
        changes[option.key] = _size_text(need)
        was = "" if current is None else f" from {format_size(current)}"
        summaries.append(f"raise {option.key}{was} to {changes[option.key]}: the {name} need")

    # ------------------------------------------------------------------ the searches

    def _smallest_process(self, changes: Changes) -> tuple[int, TaskManagerMemory] | None:
        """The smallest process size in MiB with ``changes`` whose layout meets the needs, and that layout."""
        base = {**self.config, **changes}

        def probe(mib: int) -> tuple[_Side, TaskManagerMemory]:
            return self._judge({**base, opt.PROCESS_SIZE.key: format_size(mib * MIB)}, self.needs)

        anchor = self._anchor_without_process(base)
        return _smallest_accepted(probe, self.lower_mib, anchor)

    def _smallest_total_flink(self, changes: Changes) -> tuple[Changes, list[str]]:
        """When the total Flink size is fixed (set, or Flink 1.x's legacy heap) and too small: raise it."""
        base = {
            key: value for key, value in {**self.config, **changes}.items() if key != opt.PROCESS_SIZE.key
        }
        if self._total_flink_is_derived(base):
            return {}, []
        needs = {name: need for name, need in self.needs.items() if name != "jvmOverhead"}

        def probe(mib: int) -> tuple[_Side, TaskManagerMemory]:
            return self._judge({**base, opt.FLINK_SIZE.key: format_size(mib * MIB)}, needs)

        current = self._derive(base)
        if current.ok and _meets(current, needs):
            return {}, []
        found = _smallest_accepted(probe, self.lower_mib, None)
        if found is None:
            return {}, []
        size = format_size(found[0] * MIB)
        return {opt.FLINK_SIZE.key: size}, [f"raise {opt.FLINK_SIZE.key} to {size}: the needs exceed it"]

    def _total_flink_is_derived(self, base: Config) -> bool:
        """True unless the total Flink size is fixed by the options (mode b, or the legacy heap)."""
        configuration = FlinkConfiguration(base)
        if configuration.contains(opt.TASK_HEAP) and configuration.contains(opt.MANAGED_SIZE):
            return True
        legacy = self.version.has_legacy_heap_options and (
            self.legacy_heap_env is not None
            or configuration.contains(opt.LEGACY_HEAP_SIZE)
            or configuration.contains(opt.LEGACY_HEAP_MB)
        )
        return not (configuration.contains(opt.FLINK_SIZE) or legacy)

    def _anchor_without_process(self, base: Config) -> int | None:
        """Where the process size is implied by other options (a total Flink size, fine-grained sizes)."""
        without = {key: value for key, value in base.items() if key != opt.PROCESS_SIZE.key}
        result = self._derive(without)
        if result.layout is None or not _meets(result, self.needs):
            return None
        return -(-result.layout.total_process_bytes // MIB)

    def _derive(self, config: Config) -> TaskManagerMemory:
        return derive_task_manager_memory(
            config,
            self.version,
            legacy_heap_env=self.legacy_heap_env,
            standard_yaml=self.standard_yaml,
            thorough=False,
        )

    def _judge(self, config: Config, needs: Mapping[str, int]) -> tuple[_Side, TaskManagerMemory]:
        result = self._derive(config)
        if result.ok:
            return (_Side.MEETS if _meets(result, needs) else _Side.BELOW), result
        assert result.primary_problem is not None
        return _side_of(result.primary_problem), result

    def _why_unmeetable(self, changes: Changes) -> str:
        largest: Config = {**self.config, **changes, opt.PROCESS_SIZE.key: format_size(_LARGEST_MIB * MIB)}
        result = self._derive(largest)
        problem = result.primary_problem
        if problem is not None and _side_of(problem) is _Side.REFUSED:
            return f"Flink refuses the configuration whatever its size: {problem.message}"
        unmet = [name for name in self.needs if result.ok and not _meets(result, {name: self.needs[name]})]
        named = ", ".join(unmet) if unmet else ", ".join(self.needs)
        return f"no process size meets the needs ({named}) with the other options as they are"


class _Side(Enum):
    """Where a probed size lies: meets the needs, below the sizes that do, above them, or refused."""

    MEETS = "meets"
    BELOW = "below"
    ABOVE = "above"
    REFUSED = "refused"


def _side_of(problem: Problem) -> _Side:
    if problem.reason in _TOO_SMALL:
        return _Side.BELOW
    if problem.reason in _DERIVED_AGAINST_BOUNDS:
        sizes = [int(found) for found in _BYTES_IN_MESSAGE.findall(problem.message or "")]
        if len(sizes) >= 2:  # the derived size first, then the bound(s) it failed
            derived, lowest = sizes[0], sizes[1]
            return _Side.BELOW if derived < lowest else _Side.ABOVE
    return _Side.REFUSED


def _meets(result: TaskManagerMemory, needs: Mapping[str, int]) -> bool:
    assert result.layout is not None
    components = result.layout.components()
    return all(components[name] >= need for name, need in needs.items())


def _smallest_accepted(
    probe: Callable[[int], tuple[_Side, TaskManagerMemory]], lower: int, anchor: int | None
) -> tuple[int, TaskManagerMemory] | None:
    """The smallest MiB at or above ``lower`` that meets, its neighbour below not meeting.

    Probes upward at doubling distances from ``lower`` (or bisects down from ``anchor``, a size known
    to meet); a probe above the meeting sizes is bisected back toward the last probe below them.
    Returns None when nothing up to the largest size meets, or Flink refuses for another reason.
    """
    below = lower - 1  # meets nothing: less than the sum of the needs
    meeting: tuple[int, TaskManagerMemory] | None = None
    if anchor is not None and lower <= anchor <= _LARGEST_MIB:
        side, result = probe(anchor)
        if side == _Side.MEETS:
            meeting = (anchor, result)
    distance = 1
    while meeting is None:
        size = min(below + distance, _LARGEST_MIB)
        side, result = probe(size)
        if side == _Side.MEETS:
            meeting = (size, result)
        elif side == _Side.ABOVE:
            meeting = _inside(probe, below, size)
            if meeting is None:
                return None
        elif side == _Side.REFUSED or size == _LARGEST_MIB:
            return None
        else:
            below, distance = size, distance * 2
    return _bisect_down(probe, below, meeting)


def _inside(
    probe: Callable[[int], tuple[_Side, TaskManagerMemory]], below: int, above: int
) -> tuple[int, TaskManagerMemory] | None:
    """A meeting size strictly between one below the meeting sizes and one above them, if any."""
    while above - below > 1:
        middle = (below + above) // 2
        side, result = probe(middle)
        if side == _Side.MEETS:
            return middle, result
        if side == _Side.ABOVE:
            above = middle
        elif side == _Side.BELOW:
            below = middle
        else:
            return None
    return None


def _bisect_down(
    probe: Callable[[int], tuple[_Side, TaskManagerMemory]],
    below: int,
    meeting: tuple[int, TaskManagerMemory],
) -> tuple[int, TaskManagerMemory]:
    """The lowest meeting size above ``below``: the meeting sizes between the two are contiguous."""
    while meeting[0] - below > 1:
        middle = (below + meeting[0]) // 2
        side, result = probe(middle)
        if side == _Side.MEETS:
            meeting = (middle, result)
        else:
            below = middle
    return meeting


def _size_text(size: int) -> str:
    """A need as an option value: whole MiB upward (Flink writes sizes so), exact bytes below 1 MiB."""
    return format_size(-(-size // MIB) * MIB) if size else "0b"


def _unique(summaries: list[str]) -> list[str]:
    return list(dict.fromkeys(summaries))
