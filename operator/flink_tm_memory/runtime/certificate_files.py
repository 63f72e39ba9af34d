"""The serving certificate, its key and the CA bundle written to a local directory, switched in one rename.

The webhook server reads ``tls.crt`` and ``tls.key`` as two files, so a new pair must never be seen
half-written nor mixed with the old one for longer than a rename. The layout is the kubelet's for
Secret volumes: each version is written into a fresh hidden directory, ``..data`` is a symbolic link
to the current one, replaced by ``rename`` (atomic on POSIX), and ``tls.crt``, ``tls.key`` and
``ca.crt`` are links through ``..data``. A reader that opens both files between two renames gets one
version; one that straddles a rename gets the new certificate and at worst the old key, which the
server reading them retries. The key is written with mode 0600 and older versions are removed.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from flink_tm_memory.runtime.certificates import CA_FILE, CERT_FILE, KEY_FILE

DATA_LINK = "..data"
_VERSION_PREFIX = "..version-"


def write_atomically(directory: Path, *, certificate: bytes, key: bytes, bundle: bytes) -> None:
    """Makes ``directory``'s three files show the given contents, all switched at once."""
    directory.mkdir(parents=True, exist_ok=True)
    version = Path(tempfile.mkdtemp(prefix=_VERSION_PREFIX, dir=directory))
    _write(version / CERT_FILE, certificate, 0o644)
    _write(version / KEY_FILE, key, 0o600)
    _write(version / CA_FILE, bundle, 0o644)
    staged = directory / f"{DATA_LINK}.staged"
    staged.unlink(missing_ok=True)
    staged.symlink_to(version.name, target_is_directory=True)
    staged.replace(directory / DATA_LINK)
    for name in (CERT_FILE, KEY_FILE, CA_FILE):
        _link(directory / name, f"{DATA_LINK}/{name}")
    _fsync_directory(directory)
    for old in directory.glob(f"{_VERSION_PREFIX}*"):
        if old.name != version.name:
            shutil.rmtree(old, ignore_errors=True)


def _write(path: Path, content: bytes, mode: int) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(descriptor, "wb") as file:
        file.write(content)
        file.flush()
        os.fsync(file.fileno())


def _link(path: Path, target: str) -> None:
    """``path`` made a link to ``target`` (replacing a file of an older layout in one rename)."""
    if path.is_symlink() and os.readlink(path) == target:
        return
    staged = path.with_name(f"{path.name}.staged")
    staged.unlink(missing_ok=True)
    staged.symlink_to(target)
    staged.replace(path)


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
