"""TLS for the admission webhook: a development CA and serving certificate, or cert-manager's files.

The API server calls webhooks over HTTPS only and verifies the serving certificate against the
``caBundle`` of the webhook configuration, so both must come from one CA. In a cluster, cert-manager
issues them into a Secret mounted as a directory (``tls.crt``, ``tls.key``, ``ca.crt``): kopf's server
re-reads those files when they rotate. For development, ``generate_certificates`` makes a throwaway
CA and a serving certificate for the given host names and IP addresses with ``cryptography``, in the
same file layout; kopf's own self-signed path (certbuilder and oscrypto) fails on OpenSSL 3.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CERT_FILE = "tls.crt"
KEY_FILE = "tls.key"
CA_FILE = "ca.crt"
VALIDITY = timedelta(days=365)
_CLOCK_SKEW = timedelta(minutes=5)


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
    if not hosts:
        raise ValueError("a serving certificate needs at least one host name or IP address")
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = _ca_certificate(ca_key, now, validity)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _serving_certificate(key, hosts, ca_key=ca_key, ca_cert=ca_cert, now=now, validity=validity)
    directory.mkdir(parents=True, exist_ok=True)
    certificates = ServingCertificates(directory / CERT_FILE, directory / KEY_FILE, directory / CA_FILE)
    certificates.certfile.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    assert certificates.cafile is not None
    certificates.cafile.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    _write_private(certificates.pkeyfile, key)
    return certificates


def _ca_certificate(key: ec.EllipticCurvePrivateKey, now: datetime, validity: timedelta) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "flink-tm-memory development CA")])
    public = key.public_key()
    return (
        _builder(name, name, public, now, validity)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(signs_certificates=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )


def _serving_certificate(
    key: ec.EllipticCurvePrivateKey,
    hosts: Sequence[str],
    *,
    ca_key: ec.EllipticCurvePrivateKey,
    ca_cert: x509.Certificate,
    now: datetime,
    validity: timedelta,
) -> x509.Certificate:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])])
    public = key.public_key()
    return (
        _builder(subject, ca_cert.subject, public, now, validity)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(signs_certificates=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName([_general_name(host) for host in hosts]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )


def _builder(
    subject: x509.Name,
    issuer: x509.Name,
    public: ec.EllipticCurvePublicKey,
    now: datetime,
    validity: timedelta,
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _CLOCK_SKEW)
        .not_valid_after(now + validity)
    )


def _key_usage(*, signs_certificates: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=signs_certificates,
        crl_sign=signs_certificates,
        encipher_only=False,
        decipher_only=False,
    )


def _general_name(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def _write_private(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(pem)
