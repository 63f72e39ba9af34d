"""TLS for the admission webhook: the operator's own certificates, or cert-manager's files.

The API server calls webhooks over HTTPS only and verifies the serving certificate against the
``caBundle`` of the webhook configuration, so both must come from one CA (or, during a rotation, one
of the CAs the bundle holds). Two ways to get them, both ending as files in one directory
(``tls.crt``, ``tls.key``, ``ca.crt``) that the admission server re-reads when they change
(``runtime.admission.tls``):

- the operator's own (the chart's default): one CA and serving certificate shared by every replica
  through one Secret, renewed and rotated with an overlap (``shared_certificates``); in development
  the same, kept in memory;
- cert-manager's: its Secret mounted as the directory (``mounted_certificates``).

``generate_certificates`` writes a one-off CA and serving certificate in that layout (tests, the
fuzzer, the benchmark). Making certificates needs ``cryptography`` (``self_signed``), imported only
then: it adds to the RSS (``benchmarks/README.md``) of an operator that serves mounted certificates, or no
webhook.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
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
    from flink_tm_memory.runtime import self_signed  # noqa: PLC0415 (see the docstring)

    if not hosts:
        raise ValueError("a serving certificate needs at least one host name or IP address")
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    ca = self_signed.new_ca(now, validity)
    serving = self_signed.issue_serving(ca, hosts, now, validity)
    certificates = ServingCertificates(directory / CERT_FILE, directory / KEY_FILE, directory / CA_FILE)
    certificates.certfile.write_bytes(serving.certificate)
    assert certificates.cafile is not None
    certificates.cafile.write_bytes(ca.certificate)
    descriptor = os.open(certificates.pkeyfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(serving.key)
    return certificates
