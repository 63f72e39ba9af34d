"""The Flink releases the engine reproduces, and what differs between them.

A caller names a release as ``"2.2"`` or ``"2.2.1"`` (patch releases share their minor's rules). The
differences that touch TaskManager memory are few and all recorded here as flags, so that the
derivation reads as one algorithm rather than a thicket of version checks.
"""

from __future__ import annotations

from flink_tm_memory.memory.records import FrozenRecord

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see memory/records.py)
if TYPE_CHECKING:
    from typing import Final

DEFAULT_VERSION = "2.2"


class FlinkVersion(FrozenRecord):
    """One supported Flink minor release."""

    __slots__ = ("major", "minor")

    def __init__(self, major: int, minor: int) -> None:
        self.major: Final = major
        self.minor: Final = minor

    @property
    def name(self) -> str:
        return f"{self.major}.{self.minor}"

    def __str__(self) -> str:
        return self.name

    @property
    def is_1x(self) -> bool:
        return self.major == 1

    @property
    def has_legacy_heap_options(self) -> bool:
        """``taskmanager.heap.size``/``.mb`` and ``FLINK_TM_HEAP`` map to a total (removed in 2.0)."""
        return self.is_1x

    @property
    def has_legacy_network_buffers(self) -> bool:
        """``taskmanager.network.numberOfBuffers`` sizes network memory (removed in 2.0)."""
        return self.is_1x

    @property
    def has_dataproc_weight(self) -> bool:
        """The deprecated ``DATAPROC`` consumer name still counts for OPERATOR and STATE_BACKEND."""
        return self.is_1x

    @property
    def uses_standard_yaml(self) -> bool:
        """Ships ``config.yaml`` (standard YAML) instead of ``flink-conf.yaml`` (from 1.19)."""
        return (self.major, self.minor) >= (1, 19)

    @property
    def reads_flink_conf_yaml(self) -> bool:
        """Reads a ``flink-conf.yaml`` (1.x; on 1.19/1.20 preferred over ``config.yaml`` and in legacy mode)."""
        return self.is_1x

    @property
    def config_file_name(self) -> str:
        return "config.yaml" if self.uses_standard_yaml else "flink-conf.yaml"

    @property
    def weights_know_job_config(self) -> bool:
        """Managed-memory fractions consider a job-level configuration (from 1.19)."""
        return (self.major, self.minor) >= (1, 19)

    @property
    def local_execution_removes_unused(self) -> bool:
        """Local execution removes (not only warns about) options without effect (from 1.20)."""
        return (self.major, self.minor) >= (1, 20)

    @property
    def legacy_state_backend_names_skip_managed(self) -> bool:
        """``jobmanager``/``filesystem`` backends (and their factories) still exist and count as not
        using managed memory (1.x only)."""
        return self.is_1x

    @property
    def state_backend_defaults_to_hashmap(self) -> bool:
        """No ``state.backend.type`` means ``hashmap`` (from 1.19); before, no backend at all."""
        return (self.major, self.minor) >= (1, 19)

    @property
    def has_checkpointing_dir_option(self) -> bool:
        """``execution.checkpointing.dir`` names the checkpoint directory (from 1.20; older keys fall back)."""
        return (self.major, self.minor) >= (1, 20)

    @property
    def memory_divide_says_non_zero(self) -> bool:
        """``MemorySize.divide`` of a negative divisor says ``divisor must be != 0`` (from 1.20, when
        MemorySize moved to flink-core-api, FLINK-34549), ``>= 0`` before."""
        return (self.major, self.minor) >= (1, 20)


SUPPORTED_VERSIONS: tuple[FlinkVersion, ...] = tuple(
    FlinkVersion(major, minor)
    for major, minor in ((1, 17), (1, 18), (1, 19), (1, 20), (2, 0), (2, 1), (2, 2), (2, 3))
)
_BY_NAME = {version.name: version for version in SUPPORTED_VERSIONS}
# A release name with a patch or a suffix, read by ``_release_of``: the rule as a regular expression
# (``tests/unit/memory/test_versions_scanner.py`` checks the scanner against it). ASCII digits only
# (``\d`` would read fullwidth or Arabic-Indic digits as a version), at most 9 of them (int() of a
# longer run is wasted work on a name that cannot be supported).
VERSION_PATTERN = r"v?([0-9]{1,9})\.([0-9]{1,9})(?:\.[0-9]+)?(?:[-.][0-9A-Za-z.-]+)?"
_DIGITS = frozenset("0123456789")
_SUFFIX = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz.-")
_QUOTED_LIMIT = 64


class UnsupportedVersionError(ValueError):
    """A version string that is not one of the supported Flink releases."""


def parse_flink_version(text: str | None = None) -> FlinkVersion:
    """``"2.2"``, ``"2.2.1"`` or ``None`` (the default release) to a supported ``FlinkVersion``."""
    if text is None:
        return _BY_NAME[DEFAULT_VERSION]
    if text in _BY_NAME:
        return _BY_NAME[text]
    name = _release_of(text.strip())
    if name is None or name not in _BY_NAME:
        supported = ", ".join(version.name for version in SUPPORTED_VERSIONS)
        shown = (
            repr(text)
            if len(text) <= _QUOTED_LIMIT
            else f"{text[:_QUOTED_LIMIT]!r}... ({len(text)} characters)"
        )
        raise UnsupportedVersionError(f"Unsupported Flink version {shown}; supported: {supported}")
    return _BY_NAME[name]


def _release_of(text: str) -> str | None:
    """``"major.minor"`` of a name matching ``VERSION_PATTERN`` in full, else ``None``.

    A scanner rather than ``re``, which the one-shot command line would otherwise import for this alone.
    """
    start = 1 if text[:1] == "v" else 0
    major_end = _digits_end(text, start)
    if not 0 < major_end - start <= 9 or text[major_end : major_end + 1] != ".":
        return None
    minor_end = _digits_end(text, major_end + 1)
    if not 0 < minor_end - major_end - 1 <= 9:
        return None
    # The optional ".patch" and "-suffix" / ".suffix" together: nothing, or "-" or "." and then at least
    # one character of the suffix's set (which holds the patch's digits and dots too).
    rest = text[minor_end:]
    if rest and (rest[0] not in "-." or len(rest) < 2 or not _SUFFIX.issuperset(rest[1:])):
        return None
    return f"{int(text[start:major_end])}.{int(text[major_end + 1 : minor_end])}"


def _digits_end(text: str, index: int) -> int:
    while index < len(text) and text[index] in _DIGITS:
        index += 1
    return index
