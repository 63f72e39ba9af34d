"""``requirements.lock`` and ``requirements-sbom.lock``, read: each pinned package, its version, its hashes.

The locks are written by ``make lock`` (pip-compile ``--generate-hashes``) and installed by the
Dockerfile with ``pip install --require-hashes --no-deps``. ``read_lock`` parses what pip-compile
writes (``name==version \\`` then ``--hash=sha256:...`` lines, then ``# via`` comments) and refuses
anything else, so a hand edit that pip would read differently fails here first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUNTIME_LOCK = ROOT / "requirements.lock"
SBOM_LOCK = ROOT / "requirements-sbom.lock"

_PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;\\]+)\s*\\$")
_HASH = re.compile(r"^\s+--hash=sha256:(?P<hash>[0-9a-f]{64})\s*\\?$")
_VIA = re.compile(r"^\s+#\s+(?:via\s+)?(?P<what>.+?)\s*$")


@dataclass(frozen=True)
class Locked:
    name: str
    """The name as pip-compile wrote it (normalised: lower case, dashes)."""
    version: str
    hashes: frozenset[str]
    via: frozenset[str]
    """What requires it: package names, or ``<project> (pyproject.toml)`` / ``-r <file>`` for a direct one."""


def normalized(name: str) -> str:
    """A distribution name as PEP 503 compares them."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_lock(path: Path) -> dict[str, Locked]:
    """Every package of a pip-compile lock file, by normalised name."""
    found: dict[str, Locked] = {}
    pin: re.Match[str] | None = None
    hashes: set[str] = set()
    via: set[str] = set()

    def close() -> None:
        if pin is not None:
            found[normalized(pin["name"])] = Locked(
                pin["name"], pin["version"], frozenset(hashes), frozenset(via)
            )

    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or (line.startswith("#") and pin is None):
            continue
        if (new := _PIN.match(line)) is not None:
            close()
            pin, hashes, via = new, set(), set()
        elif pin is not None and (digest := _HASH.match(line)) is not None:
            hashes.add(digest["hash"])
        elif pin is not None and (comment := _VIA.match(line)) is not None:
            if comment["what"] != "via":  # "# via" alone heads a list of one per line
                via.add(comment["what"])
        else:
            raise ValueError(f"{path.name}:{number}: not a line pip-compile writes: {line!r}")
    close()
    return found
