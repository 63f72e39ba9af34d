"""TLS for the admission webhook: a development CA and serving certificate, or cert-manager's files.

The API server calls webhooks over HTTPS only and verifies the serving certificate against the
``caBundle`` of the webhook configuration, so both must come from one CA. In a cluster, cert-manager
issues them into a Secret mounted as a directory (``tls.crt``, ``tls.key``, ``ca.crt``): the
admission server re-reads those files when they rotate (``runtime.admission.tls``). For development,
``generate_certificates`` makes a throwaway CA and a serving certificate for the given host names and
IP addresses with ``cryptography``, in the same file layout. That code lives in ``self_signed`` and is
imported only when certificates are made: ``cryptography`` adds about 10 MiB to the RSS of an operator
that serves mounted certificates, or no webhook at all.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from flink_tm_memory.runtime.options import WebhookOptions

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


def serving_certificates(options: WebhookOptions) -> ServingCertificates:
    """The certificates to serve with: generated for the self-signed hosts, else the mounted ones."""
    if options.self_signed_hosts:
        directory = options.cert_dir or Path(tempfile.mkdtemp(prefix="flink-tm-memory-webhook-"))
        return generate_certificates(directory, options.self_signed_hosts)
    if options.cert_dir is None:
        raise ValueError("the webhook needs a certificate directory or hosts to make certificates for")
    return mounted_certificates(options.cert_dir)
