"""A real Apache Flink distribution, assembled from the two packages PyPI publishes it in.

What: ``flink_distribution("2.2.1")`` returns a Flink home (``bin/``, ``conf/``, ``lib/``, ``opt/``,
``plugins/``) under ``<repo>/.tools/flink/<version>/flink``, downloading and unpacking it on first use
only; later calls find it there (``.tools/`` is git-ignored).

Why two packages: PyPI carries Flink as PyFlink. ``apache-flink-libraries`` holds the jars (``lib/``
with ``flink-dist``, ``opt/``, ``plugins/`` and ``bin/bash-java-utils.jar``) but none of the start
scripts; ``apache-flink`` holds ``bin/*.sh`` and the shipped ``conf/``. Together they are the binary
distribution's layout, and ``bin/taskmanager.sh`` finds its home as ``bin/..``.

How: ``pip download --no-deps`` of both, with the project's own pip. ``apache-flink`` is a
platform wheel; it is asked for as a CPython 3.10 wheel (every release from 1.17 to 2.2 publishes
one, while 1.18 has none for newer Pythons) because only its scripts are used. The libraries come
as a pure wheel (2.2 on) or as an sdist (1.x); both are archives with the same tree under a prefix
(``pyflink/`` in a wheel, ``apache-flink-libraries-<version>/deps/`` in an sdist), found by the files
that must be there. Archives are unpacked into a staging directory renamed into place at the end,
so an interrupted run leaves nothing that looks complete.

Only the standard library is used.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

__all__ = ["CACHE_DIR", "DistributionError", "FlinkDistribution", "flink_distribution"]

CACHE_DIR = Path(__file__).resolve().parents[3] / ".tools" / "flink"
"""Where distributions are kept, one directory per version."""

SCRIPTS_PACKAGE = "apache-flink"
LIBRARIES_PACKAGE = "apache-flink-libraries"
SCRIPTS_PYTHON = "3.10"
"""The Python version whose ``apache-flink`` wheel is downloaded (only its scripts are used)."""

_SCRIPTS_MARKER = re.compile(r"^(?P<prefix>(?:.*/)?)bin/taskmanager\.sh$")
_LIBRARIES_MARKER = re.compile(r"^(?P<prefix>(?:.*/)?)lib/flink-dist[^/]*\.jar$")
_SCRIPTS_DIRS = ("bin", "conf")
_LIBRARIES_DIRS = ("bin", "lib", "opt", "plugins")
_COMPLETE = ".complete"
PIP_TIMEOUT = 600.0


class DistributionError(RuntimeError):
    """The distribution could not be downloaded or assembled."""


@dataclass(frozen=True, slots=True)
class FlinkDistribution:
    """An unpacked Flink release: its version and its home (the directory with ``bin/`` and ``lib/``)."""

    version: str
    home: Path
    download_seconds: float
    """Time spent downloading and unpacking in this call; 0.0 when it came from the cache."""

    @property
    def release(self) -> tuple[int, int]:
        """``(major, minor)``."""
        major, minor = self.version.split(".")[:2]
        return int(major), int(minor)

    @property
    def minor_version(self) -> str:
        """``major.minor``, as a FlinkTaskManagerMemory's ``spec.flinkVersion`` names the release."""
        return "{}.{}".format(*self.release)

    @property
    def config_file_names(self) -> tuple[str, ...]:
        """The configuration files this release reads from its conf directory, preferred first.

        From 1.19 ``config.yaml`` (standard YAML), with ``flink-conf.yaml`` still read in 1.x when no
        ``config.yaml`` exists; before 1.19 only ``flink-conf.yaml``; from 2.0 only ``config.yaml``.
        """
        if self.release >= (2, 0):
            return ("config.yaml",)
        if self.release >= (1, 19):
            return ("config.yaml", "flink-conf.yaml")
        return ("flink-conf.yaml",)

    @property
    def conf_dir(self) -> Path:
        """The shipped configuration (log4j and logback files, the default config file)."""
        return self.home / "conf"


def flink_distribution(
    version: str, *, cache_dir: Path = CACHE_DIR, python: str = sys.executable
) -> FlinkDistribution:
    """The Flink ``version`` (``"2.2.1"``), from ``cache_dir`` or downloaded there with ``python``'s pip."""
    if not re.fullmatch(r"\d+\.\d+\.\d+", version):
        raise DistributionError(f"a full Flink release is needed (2.2.1), not {version!r}")
    target = cache_dir / version
    home = target / "flink"
    if (target / _COMPLETE).is_file() and (home / "bin" / "taskmanager.sh").is_file():
        return FlinkDistribution(version=version, home=home, download_seconds=0.0)

    started = time.monotonic()
    target.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(home, ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix="assemble-", dir=target) as scratch:
        downloads = Path(scratch) / "downloads"
        staging = Path(scratch) / "flink"
        scripts = _download(
            python,
            f"{SCRIPTS_PACKAGE}=={version}",
            downloads / "scripts",
            "--only-binary=:all:",
            "--python-version",
            SCRIPTS_PYTHON,
        )
        _unpack(scripts, _SCRIPTS_MARKER, _SCRIPTS_DIRS, staging)
        libraries = _download(python, f"{LIBRARIES_PACKAGE}=={version}", downloads / "libraries")
        _unpack(libraries, _LIBRARIES_MARKER, _LIBRARIES_DIRS, staging)
        (staging / "log").mkdir(exist_ok=True)
        _make_scripts_executable(staging / "bin")
        staging.rename(home)
    (target / _COMPLETE).write_text(f"{SCRIPTS_PACKAGE} + {LIBRARIES_PACKAGE} {version}\n", encoding="utf-8")
    return FlinkDistribution(version=version, home=home, download_seconds=time.monotonic() - started)


def _download(python: str, requirement: str, into: Path, *options: str) -> Path:
    """Downloads one distribution file of ``requirement`` (no dependencies) and returns its path."""
    into.mkdir(parents=True)
    command = [
        python,
        "-m",
        "pip",
        "download",
        requirement,
        "--no-deps",
        "--quiet",
        "-d",
        str(into),
        *options,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=PIP_TIMEOUT, check=False)
    files = sorted(into.iterdir())
    if result.returncode != 0 or len(files) != 1:
        raise DistributionError(
            f"{' '.join(command)} exited with {result.returncode} and left {[path.name for path in files]}:\n"
            f"{result.stdout}{result.stderr}"
        )
    return files[0]


def _unpack(archive: Path, marker: re.Pattern[str], directories: tuple[str, ...], into: Path) -> None:
    """Extracts ``directories`` of the tree found by ``marker`` in a wheel or sdist into ``into``."""
    members = _members(archive)
    prefixes = {match["prefix"] for name in members if (match := marker.match(name))}
    if len(prefixes) != 1:
        raise DistributionError(f"{archive.name}: expected one Flink tree, found prefixes {sorted(prefixes)}")
    [prefix] = prefixes
    wanted = tuple(f"{prefix}{directory}/" for directory in directories)
    selected = {name: name[len(prefix) :] for name in members if name.startswith(wanted)}
    if archive.suffix in {".whl", ".zip"}:
        with zipfile.ZipFile(archive) as source:
            for name, relative in selected.items():
                _write(into, relative, source.read(name), (source.getinfo(name).external_attr >> 16) & 0o777)
    else:
        with tarfile.open(archive) as source:
            for name, relative in selected.items():
                info = source.getmember(name)
                handle = source.extractfile(info)
                if handle is not None:
                    with handle:
                        _write(into, relative, handle.read(), info.mode & 0o777)


def _members(archive: Path) -> list[str]:
    """The regular files of a wheel (zip) or an sdist (tar.gz), as archive paths."""
    if archive.suffix in {".whl", ".zip"}:
        with zipfile.ZipFile(archive) as source:
            return [name for name in source.namelist() if not name.endswith("/")]
    with tarfile.open(archive) as source:
        return [member.name for member in source.getmembers() if member.isfile()]


def _write(root: Path, relative: str, content: bytes, mode: int) -> None:
    path = PurePosixPath(relative)
    if path.is_absolute() or ".." in path.parts:
        raise DistributionError(f"refusing to unpack {relative!r} outside the Flink home")
    target = root.joinpath(*path.parts)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content)
    if mode:
        target.chmod(mode | stat.S_IRUSR | stat.S_IWUSR)


def _make_scripts_executable(bin_dir: Path) -> None:
    """Wheels do not always keep permissions: every script in ``bin/`` gets the execute bits."""
    for script in bin_dir.iterdir():
        if script.suffix == ".sh" or script.name == "flink":
            mode = script.stat().st_mode
            script.chmod(mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    if not os.access(bin_dir / "taskmanager.sh", os.X_OK):
        raise DistributionError(f"{bin_dir / 'taskmanager.sh'} is not executable")
