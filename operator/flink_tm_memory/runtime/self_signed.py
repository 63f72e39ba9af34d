"""CAs and serving certificates made with ``cryptography``, and the facts read back from them.

Imported only when the operator makes its own certificates (the shared Secret, or development):
``cryptography`` adds to the RSS (``benchmarks/README.md``) of an operator serving mounted certificates,
which never needs it.
Keys are ECDSA P-256. A certificate's ``notBefore`` is back-dated by ``CLOCK_SKEW`` so that a node
whose clock is a little behind still accepts it; ``issued_at`` undoes that to find when it was made.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from flink_tm_memory.runtime.certificate_schedule import Lifetime

CLOCK_SKEW = timedelta(minutes=5)
CA_NAME = "flink-tm-memory webhook CA"


@dataclass(frozen=True, slots=True)
class KeyPair:
    """A certificate and its private key, both PEM."""

    certificate: bytes
    key: bytes


class UnusableMaterialError(ValueError):
    """A PEM that is not what it must be (says what, for the log)."""


def new_ca(now: datetime, validity: timedelta) -> KeyPair:
    """A self-signed CA valid from ``now`` for ``validity``."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, CA_NAME),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, f"{now:%Y%m%dT%H%M%S%fZ}"),
        ]
    )
    public = key.public_key()
    certificate = (
        _builder(name, name, public, now, now + validity)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(signs_certificates=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    return KeyPair(certificate.public_bytes(serialization.Encoding.PEM), _private_pem(key))


def issue_serving(ca: KeyPair, hosts: Sequence[str], now: datetime, validity: timedelta) -> KeyPair:
    """A serving certificate for ``hosts`` signed by ``ca``, valid for ``validity`` but never past the CA."""
    if not hosts:
        raise ValueError("a serving certificate needs at least one host name or IP address")
    ca_certificate = load_certificate(ca.certificate, "the CA certificate")
    ca_key = load_key(ca.key, "the CA key")
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key()
    expires = min(now + validity, ca_certificate.not_valid_after_utc)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])])
    certificate = (
        _builder(subject, ca_certificate.subject, public, now, expires)
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
    return KeyPair(certificate.public_bytes(serialization.Encoding.PEM), _private_pem(key))


def load_certificate(pem: bytes, what: str) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(pem)
    except ValueError:
        raise UnusableMaterialError(f"{what} is not a PEM certificate") from None


def load_key(pem: bytes, what: str) -> ec.EllipticCurvePrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError):
        raise UnusableMaterialError(f"{what} is not an unencrypted PEM private key") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise UnusableMaterialError(f"{what} is not an EC private key")
    return key


def checked_pair(pair: KeyPair, what: str, *, ca: bool) -> x509.Certificate:
    """The certificate of ``pair`` once its key is shown to match it (and it is a CA, or not, as asked)."""
    certificate = load_certificate(pair.certificate, f"{what} certificate")
    key = load_key(pair.key, f"{what} key")
    if certificate.public_key() != key.public_key():
        raise UnusableMaterialError(f"{what} certificate and key do not match")
    try:
        constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        raise UnusableMaterialError(f"{what} certificate has no basic constraints") from None
    if constraints.ca is not ca:
        raise UnusableMaterialError(f"{what} certificate is {'not ' if ca else ''}a CA")
    return certificate


def fingerprint(certificate: x509.Certificate) -> str:
    return hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).hexdigest()


def lifetime(certificate: x509.Certificate) -> Lifetime:
    return Lifetime(certificate.not_valid_before_utc + CLOCK_SKEW, certificate.not_valid_after_utc)


def signed_by(certificate: x509.Certificate, ca: x509.Certificate) -> bool:
    try:
        certificate.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def hosts_of(certificate: x509.Certificate) -> frozenset[str]:
    try:
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return frozenset()
    dns = names.get_values_for_type(x509.DNSName)
    ips = [str(ip) for ip in names.get_values_for_type(x509.IPAddress)]
    return frozenset((*dns, *ips))


def serial_of(pem: bytes) -> int:
    return load_certificate(pem, "the certificate").serial_number


def _builder(
    subject: x509.Name,
    issuer: x509.Name,
    public: ec.EllipticCurvePublicKey,
    now: datetime,
    expires: datetime,
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SKEW)
        .not_valid_after(expires)
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


def _private_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
