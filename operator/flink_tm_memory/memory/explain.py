"""What the engine tells besides numbers: notes (Flink's logs and our advice) and the explain trace.

Flink applies several rules silently or only in an INFO log (a fraction capped to its minimum, a
deprecated key used, the legacy heap mapped to a total). Users deserve to see them, and to see for
every component whether it was configured, defaulted or derived, and by which rule.
"""

from __future__ import annotations

from flink_tm_memory.memory.constants import Named
from flink_tm_memory.memory.records import FrozenRecord

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see memory/records.py)
if TYPE_CHECKING:
    from typing import ClassVar, Final


class NoteLevel(Named):
    INFO: ClassVar[NoteLevel]
    WARNING: ClassVar[NoteLevel]


NoteLevel.define_all(INFO="Info", WARNING="Warning")


class NoteCode(Named):
    CAPPED_TO_MIN: ClassVar[NoteCode]
    CAPPED_TO_MAX: ClassVar[NoteCode]
    NETWORK_FRACTION_IGNORED: ClassVar[NoteCode]
    OVERHEAD_FRACTION_IGNORED: ClassVar[NoteCode]
    DEPRECATED_KEY: ClassVar[NoteCode]
    LEGACY_HEAP_MAPPED: ClassVar[NoteCode]
    LEGACY_NETWORK_BUFFERS: ClassVar[NoteCode]
    EXPLICIT_AND_TOTAL: ClassVar[NoteCode]
    IGNORED_KEY: ClassVar[NoteCode]
    UNKNOWN_KEY: ClassVar[NoteCode]
    BELOW_RUNNABLE: ClassVar[NoteCode]
    IMPLAUSIBLE_SIZE: ClassVar[NoteCode]
    CONSUMER_WEIGHT_MISSING: ClassVar[NoteCode]
    CONSUMER_WEIGHT_ZERO: ClassVar[NoteCode]
    LOCAL_EXECUTION: ClassVar[NoteCode]


NoteCode.define_all(
    CAPPED_TO_MIN="CappedToMin",
    CAPPED_TO_MAX="CappedToMax",
    NETWORK_FRACTION_IGNORED="NetworkFractionIgnored",
    OVERHEAD_FRACTION_IGNORED="OverheadFractionIgnored",
    DEPRECATED_KEY="DeprecatedKey",
    LEGACY_HEAP_MAPPED="LegacyHeapMapped",
    LEGACY_NETWORK_BUFFERS="LegacyNetworkBuffers",
    EXPLICIT_AND_TOTAL="ExplicitHeapManagedWithTotal",
    IGNORED_KEY="IgnoredKey",
    UNKNOWN_KEY="UnknownKey",
    BELOW_RUNNABLE="TooSmallToRun",
    IMPLAUSIBLE_SIZE="ImplausibleSize",
    CONSUMER_WEIGHT_MISSING="ConsumerWeightMissing",
    CONSUMER_WEIGHT_ZERO="ConsumerWeightZero",
    LOCAL_EXECUTION="LocalExecution",
)


class Note(FrozenRecord):
    """An informational rule Flink applied, or a warning about a risky but accepted configuration."""

    __slots__ = ("code", "keys", "level", "message")

    def __init__(self, level: NoteLevel, code: NoteCode, message: str, keys: tuple[str, ...] = ()) -> None:
        self.level: Final = level
        self.code: Final = code
        self.message: Final = message
        self.keys: Final = keys


class Origin(Named):
    CONFIGURED: ClassVar[Origin]
    DEFAULT: ClassVar[Origin]
    DERIVED: ClassVar[Origin]


Origin.define_all(CONFIGURED="Configured", DEFAULT="Default", DERIVED="Derived")


class ComponentTrace(FrozenRecord):
    """How one component got its value: its origin and the rule, in a sentence."""

    __slots__ = ("component", "keys", "origin", "rule")

    def __init__(self, component: str, origin: Origin, rule: str, keys: tuple[str, ...] = ()) -> None:
        self.component: Final = component
        self.origin: Final = origin
        self.rule: Final = rule
        self.keys: Final = keys
