"""Flink's failures as data: the Java exception chain, and the problem a user sees.

Inside the engine, Flink's control flow is mirrored with one private exception type, ``JavaError``,
because *which* error Flink reports first depends on the exact order in which it reads and checks
options, and on which layer wraps which exception. At the public boundary every ``JavaError`` is turned
into a ``Problem`` value: Flink's exact messages, outermost first, plus a machine-readable reason and
the option keys to point at. Nothing of this kind escapes the engine as an exception.
"""

from __future__ import annotations

from flink_tm_memory.memory.constants import Named
from flink_tm_memory.memory.records import FrozenRecord

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see memory/records.py)
if TYPE_CHECKING:
    from typing import ClassVar, Final

ILLEGAL_CONFIGURATION = "org.apache.flink.configuration.IllegalConfigurationException"
ILLEGAL_ARGUMENT = "java.lang.IllegalArgumentException"
NUMBER_FORMAT = "java.lang.NumberFormatException"
ARITHMETIC = "java.lang.ArithmeticException"
ILLEGAL_STATE = "java.lang.IllegalStateException"
UNSUPPORTED_OPERATION = "java.lang.UnsupportedOperationException"


class Reason(Named):
    """Why a configuration fails, in words a status condition or a dashboard can group by."""

    INVALID_MEMORY_SIZE: ClassVar[Reason]
    INVALID_NUMBER: ClassVar[Reason]
    INVALID_FRACTION: ClassVar[Reason]
    MIN_ABOVE_MAX: ClassVar[Reason]
    TOTAL_MEMORY_MISSING: ClassVar[Reason]
    FINE_GRAINED_EXCEED_TOTAL_FLINK: ClassVar[Reason]
    COMPONENTS_EXCEED_TOTAL_FLINK: ClassVar[Reason]
    NETWORK_OUT_OF_RANGE: ClassVar[Reason]
    NETWORK_MISMATCH: ClassVar[Reason]
    METASPACE_AND_OVERHEAD_EXCEED_PROCESS: ClassVar[Reason]
    PROCESS_BELOW_FLINK_AND_METASPACE: ClassVar[Reason]
    OVERHEAD_OUT_OF_RANGE: ClassVar[Reason]
    NON_POSITIVE_CPU: ClassVar[Reason]
    INVALID_CPU: ClassVar[Reason]
    OVERFLOW: ClassVar[Reason]
    NEGATIVE_SIZE: ClassVar[Reason]
    INVALID_SEGMENT_SIZE: ClassVar[Reason]
    INVALID_LEGACY_HEAP: ClassVar[Reason]
    INVALID_WEIGHTS: ClassVar[Reason]
    INVALID_EXTERNAL_RESOURCE: ClassVar[Reason]
    NEGATIVE_WEIGHT: ClassVar[Reason]
    INVALID_FRACTION_OF_SLOT: ClassVar[Reason]
    UNSUPPORTED: ClassVar[Reason]
    INTERNAL_ERROR: ClassVar[Reason]


Reason.define_all(
    INVALID_MEMORY_SIZE="InvalidMemorySize",
    INVALID_NUMBER="InvalidNumber",
    INVALID_FRACTION="InvalidFraction",
    MIN_ABOVE_MAX="MinAboveMax",
    TOTAL_MEMORY_MISSING="TotalMemoryMissing",
    FINE_GRAINED_EXCEED_TOTAL_FLINK="FineGrainedExceedTotalFlink",
    COMPONENTS_EXCEED_TOTAL_FLINK="ComponentsExceedTotalFlink",
    NETWORK_OUT_OF_RANGE="NetworkOutOfRange",
    NETWORK_MISMATCH="NetworkMismatch",
    METASPACE_AND_OVERHEAD_EXCEED_PROCESS="MetaspaceAndOverheadExceedProcess",
    PROCESS_BELOW_FLINK_AND_METASPACE="ProcessBelowFlinkAndMetaspace",
    OVERHEAD_OUT_OF_RANGE="OverheadOutOfRange",
    NON_POSITIVE_CPU="NonPositiveCpuCores",
    INVALID_CPU="InvalidCpuCores",
    OVERFLOW="Overflow",
    NEGATIVE_SIZE="NegativeSize",
    INVALID_SEGMENT_SIZE="InvalidSegmentSize",
    INVALID_LEGACY_HEAP="InvalidLegacyHeap",
    INVALID_WEIGHTS="InvalidConsumerWeights",
    INVALID_EXTERNAL_RESOURCE="InvalidExternalResource",
    NEGATIVE_WEIGHT="NegativeConsumerWeight",
    INVALID_FRACTION_OF_SLOT="InvalidFractionOfSlot",
    UNSUPPORTED="Unsupported",
    INTERNAL_ERROR="InternalError",
)


class JavaError(Exception):
    """One Java throwable of Flink's chain: its class, its message and its cause.

    ``reason`` and ``keys`` are ours, attached where Flink raises, so that a problem can name the
    fields a user has to change.
    """

    def __init__(
        self,
        java_class: str,
        message: str | None,
        cause: JavaError | None = None,
        *,
        reason: Reason | None = None,
        keys: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message)
        self.java_class = java_class
        self.message = message
        self.cause = cause
        self.reason = reason
        self.keys = keys

    @property
    def is_configuration_error(self) -> bool:
        return self.java_class == ILLEGAL_CONFIGURATION

    def links(self) -> list[JavaError]:
        """The chain from this throwable to its root cause."""
        chain: list[JavaError] = []
        error: JavaError | None = self
        while error is not None:
            chain.append(error)
            error = error.cause
        return chain


def configuration_error(
    message: str,
    cause: JavaError | None = None,
    *,
    reason: Reason | None = None,
    keys: tuple[str, ...] = (),
) -> JavaError:
    return JavaError(ILLEGAL_CONFIGURATION, message, cause, reason=reason, keys=keys)


class Problem(FrozenRecord):
    """One reason why Flink would refuse a configuration.

    ``chain`` holds the message of every throwable Flink prints, outermost first; ``message`` is the
    one that matters to a reader (the innermost configuration error, or the root cause when there is
    none), exactly as Flink words it. ``primary`` marks the problem Flink itself reports; the others
    are independent problems Flink would report once the first was fixed.
    """

    __slots__ = ("chain", "classes", "keys", "message", "primary", "reason")

    def __init__(
        self,
        *,
        reason: Reason,
        message: str | None,
        chain: tuple[str | None, ...],
        classes: tuple[str, ...],
        keys: tuple[str, ...],
        primary: bool = True,
    ) -> None:
        self.reason: Final = reason
        self.message: Final = message
        self.chain: Final = chain
        self.classes: Final = classes
        self.keys: Final = keys
        self.primary: Final = primary

    @property
    def java_class(self) -> str:
        """The class of ``message``'s throwable."""
        for java_class, message in zip(reversed(self.classes), reversed(self.chain), strict=True):
            if java_class == ILLEGAL_CONFIGURATION and message == self.message:
                return java_class
        return self.classes[-1]

    @property
    def headline(self) -> str:
        """What Flink prints first: the outermost message."""
        return self.chain[0] or ""


def problem_from(error: JavaError, *, primary: bool = True) -> Problem:
    """Turns a mirrored Java exception chain into a Problem value."""
    links = error.links()
    innermost_configuration = next(
        (link for link in reversed(links) if link.is_configuration_error), links[-1]
    )
    reasoned = next((link for link in reversed(links) if link.reason is not None), None)
    keys: list[str] = []
    for link in links:
        keys.extend(key for key in link.keys if key not in keys)
    return Problem(
        reason=reasoned.reason
        if reasoned is not None and reasoned.reason is not None
        else _default_reason(links),
        message=innermost_configuration.message,
        chain=tuple(link.message for link in links),
        classes=tuple(link.java_class for link in links),
        keys=tuple(keys),
        primary=primary,
    )


def _default_reason(links: list[JavaError]) -> Reason:
    root = links[-1]
    if root.java_class == ARITHMETIC:
        return Reason.OVERFLOW
    if root.java_class == NUMBER_FORMAT:
        return Reason.INVALID_NUMBER
    return Reason.UNSUPPORTED


def internal_problem(bug: Exception) -> Problem:
    """A failure of this engine rather than of the configuration: reported, never raised."""
    message = (
        f"flink-tm-memory could not evaluate this configuration ({type(bug).__name__}: {bug}); "
        "this is a bug in flink-tm-memory, please report it with the configuration"
    )
    return Problem(
        reason=Reason.INTERNAL_ERROR,
        message=message,
        chain=(message,),
        classes=(f"python.{type(bug).__name__}",),
        keys=(),
    )
