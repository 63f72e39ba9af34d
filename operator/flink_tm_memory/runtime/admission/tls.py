"""The admission server's TLS: whatever certificate and key are in the files, reloaded when they change.

The server listens with one ``ssl.SSLContext`` for its whole life (``live``), which holds no
certificate itself: its ``sni_callback``, which OpenSSL calls for every ClientHello (with or without a
server name), hands each new connection the context of the pair being served (Python's documented
way: "the callback can set ``SSLSocket.context`` to a new ``SSLContext``"). ``refresh`` reads both
files' bytes once, and when they differ from what is served:

1. writes the bytes to private copies (a fresh ``0700`` temporary directory, files ``0600``) and loads
   them into a new context, in a worker thread: OpenSSL parses the certificate chain and checks that the
   key is the certificate's (``KEY_VALUES_MISMATCH`` otherwise); the copies are removed at once;
2. only a context that loaded becomes the served one, by one reference assignment: connections under
   way keep the pair they started with, new ones get the new pair, none fails, and no OpenSSL context
   in use is ever modified. Nothing of it runs on the server's event loop but that assignment.

Reading the bytes once and loading copies of them means the two files are never read at two
different moments, so a rotation landing between two reads cannot pair a new certificate with an
old key. A pair that does not agree (written one file at a time, a rotation half done) or cannot be
read is ignored: the previous pair keeps being served, a WARNING is logged once for those bytes, and
the files are read again every ``retry`` seconds until they agree.

The ``ca.crt`` beside them is not the server's business (it goes to the webhook configurations'
``caBundle``, see ``runtime.webhook_configurations``).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path

from flink_tm_memory.runtime.certificates import ServingCertificates

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Pair:
    certificate: bytes
    key: bytes

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.certificate + b"\0" + self.key).hexdigest()


class ServingTls:
    """The live server context and the certificate files it follows."""

    def __init__(self, certificates: ServingCertificates) -> None:
        self.certificates = certificates
        self.live = _server_context()
        self.live.sni_callback = self._select
        self._served: ssl.SSLContext | None = None
        self.loaded_digest: str | None = None
        """The SHA-256 of the pair being served; ``None`` until a valid pair was loaded."""
        self.problem: str | None = "no certificate read yet"
        """Why the files on disk are not what is served (``None``: they are)."""
        self.reloads = 0
        self._warned: str | None = None

    @property
    def loaded(self) -> bool:
        return self.loaded_digest is not None

    async def refresh(self) -> bool:
        """Loads the files into the live context if they changed and agree; ``True`` if it loaded them."""
        try:
            pair = await asyncio.to_thread(self._read)
        except OSError as error:
            self._refused(
                f"cannot read {error.filename or self.certificates.certfile}: {error.strerror}", None
            )
            return False
        digest = pair.digest
        if digest == self.loaded_digest:
            self.problem = None
            return False
        loaded = await asyncio.to_thread(_load, pair)
        if isinstance(loaded, str):
            self._refused(loaded, digest)
            return False
        self._served = loaded
        first = self.loaded_digest is None
        self.loaded_digest, self.problem, self._warned = digest, None, None
        self.reloads += 1
        if not first:
            logger.info(f"Serving the rotated certificate from {self.certificates.certfile.parent}")
        return True

    def _select(
        self, connection: ssl.SSLObject | ssl.SSLSocket, _name: str | None, _: ssl.SSLContext
    ) -> None:
        served = self._served
        if served is not None:
            connection.context = served

    def _read(self) -> _Pair:
        return _Pair(self.certificates.certfile.read_bytes(), self.certificates.pkeyfile.read_bytes())

    def _refused(self, problem: str, digest: str | None) -> None:
        self.problem = problem
        seen = digest or problem  # once per pair of bytes (or per read failure)
        if seen == self._warned:
            return
        self._warned = seen
        kept = "keeps serving the previous pair" if self.loaded else "has no certificate to serve yet"
        logger.warning(
            f"The certificate files in {self.certificates.certfile.parent} are not served: {problem}; "
            f"the webhook server {kept} until they agree"
        )


def _server_context() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def _load(pair: _Pair) -> ssl.SSLContext | str:
    """A server context serving ``pair``, or why it cannot (blocking: in a worker thread)."""
    try:
        copies = _private_copies(pair)
    except OSError as error:
        return f"cannot copy the pair to a private temporary directory: {error}"
    try:
        context = _server_context()
        context.load_cert_chain(copies[0], copies[1])
    except ssl.SSLError as error:
        return f"the certificate and key do not form a pair ({error.reason or error})"
    finally:
        _remove(copies)
    return context


def _private_copies(pair: _Pair) -> tuple[Path, Path]:
    directory = Path(tempfile.mkdtemp(prefix="flink-tm-memory-tls-"))  # 0700, only ours
    copies = directory / "tls.crt", directory / "tls.key"
    for path, data in zip(copies, (pair.certificate, pair.key), strict=True):
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
    return copies


def _remove(copies: tuple[Path, Path]) -> None:
    for path in copies:
        path.unlink(missing_ok=True)
    copies[0].parent.rmdir()
