"""TLS for the admission webhook: a development CA and serving certificate, or cert-manager's files.

The API server calls webhooks over HTTPS only and verifies the serving certificate against the
``caBundle`` of the webhook configuration, so both must come from one CA. In a cluster, cert-manager
issues them into a Secret mounted as a directory (``tls.crt``, ``tls.key``, ``ca.crt``): kopf's server
re-reads those files when they rotate. For development, ``generate_certificates`` makes a throwaway
CA and a serving certificate for the given host names and IP addresses with ``cryptography``, in the
same file layout; kopf's own self-signed path (certbuilder and oscrypto) fails on OpenSSL 3. That code
lives in ``self_signed`` and is imported only when certificates are made: ``cryptography`` adds about
10 MiB to the RSS of an operator that serves mounted certificates, or no webhook at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

CERT_FILE = "tls.crt"
KEY_FILE = "tls.key"
CA_FILE = "ca.crt"
VALIDITY = timedelta(days=365)


@dataclass(frozen=True, slots=True)
class ServingCertificates:
    """The files a webhook server serves with; ``cafile`` is ``None`` when no CA was mounted."""

    certfile: Path
    pkeyfile: Path
    cafile: Path | None

    def ca_bundle(self) -> bytes:
        """The PEM the webhook configurations' ``caBundle`` carries (base64-encoded there)."""
        return (self.cafile or self.certfile).read_bytes()


def mounted_certificates(directory: Path) -> ServingCertificates:
    """The files of a mounted cert-manager Secret; raises ``FileNotFoundError`` naming a missing one."""
    certfile, pkeyfile, cafile = directory / CERT_FILE, directory / KEY_FILE, directory / CA_FILE
    for required in (certfile, pkeyfile):
        if not required.is_file():
            raise FileNotFoundError(f"no {required.name} in {directory}")
    return ServingCertificates(certfile, pkeyfile, cafile if cafile.is_file() else None)


def generate_certificates(
    directory: Path, hosts: Sequence[str], *, validity: timedelta = VALIDITY
) -> ServingCertificates:
    """Writes a new CA and a certificate for ``hosts`` (names or IPs) signed by it into ``directory``."""
    from flink_tm_memory.runtime.self_signed import write_self_signed  # noqa: PLC0415 (see the docstring)

    if not hosts:
        raise ValueError("a serving certificate needs at least one host name or IP address")
    directory.mkdir(parents=True, exist_ok=True)
    certificates = ServingCertificates(directory / CERT_FILE, directory / KEY_FILE, directory / CA_FILE)
    write_self_signed(certificates, hosts, validity)
    return certificates
