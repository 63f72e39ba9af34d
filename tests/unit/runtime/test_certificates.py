"""The webhook's certificates: a development CA and a serving certificate that TLS clients accept, or mounted files."""

from __future__ import annotations

import socket
import ssl
import stat
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from flink_tm_memory.runtime.certificates import (
    CA_FILE,
    CERT_FILE,
    KEY_FILE,
    generate_certificates,
    mounted_certificates,
)


def load(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def test_the_serving_certificate_is_signed_by_the_ca_and_names_every_host(tmp_path: Path) -> None:
    certificates = generate_certificates(tmp_path, ["webhook.flink.svc", "127.0.0.1", "::1"])
    assert certificates.cafile is not None
    ca, serving = load(certificates.cafile), load(certificates.certfile)

    serving.verify_directly_issued_by(ca)
    names = serving.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["webhook.flink.svc"]
    assert [str(ip) for ip in names.get_values_for_type(x509.IPAddress)] == ["127.0.0.1", "::1"]
    usages = serving.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usages) == [ExtendedKeyUsageOID.SERVER_AUTH]
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    assert serving.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False


def test_the_certificates_are_valid_now_for_the_asked_time(tmp_path: Path) -> None:
    certificates = generate_certificates(tmp_path, ["localhost"], validity=timedelta(days=7))
    serving = load(certificates.certfile)
    now = datetime.now(UTC)
    assert serving.not_valid_before_utc < now < serving.not_valid_after_utc
    assert timedelta(days=6) < serving.not_valid_after_utc - now <= timedelta(days=7)


def test_the_private_key_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    certificates = generate_certificates(tmp_path, ["localhost"])
    assert stat.S_IMODE(certificates.pkeyfile.stat().st_mode) == 0o600
    assert certificates.ca_bundle() == (tmp_path / CA_FILE).read_bytes()


def test_every_generation_makes_a_new_ca(tmp_path: Path) -> None:
    first = generate_certificates(tmp_path / "a", ["localhost"]).ca_bundle()
    second = generate_certificates(tmp_path / "b", ["localhost"]).ca_bundle()
    assert first != second


def test_no_host_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least one host"):
        generate_certificates(tmp_path, [])


@pytest.mark.parametrize(("host", "accepted"), [("localhost", True), ("elsewhere.example", False)])
def test_a_tls_client_trusting_the_ca_accepts_the_server_for_its_hosts_only(
    tmp_path: Path, host: str, accepted: bool
) -> None:
    certificates = generate_certificates(tmp_path, ["localhost", "127.0.0.1"])
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(certificates.certfile, certificates.pkeyfile)
    client_context = ssl.create_default_context(cafile=str(certificates.cafile))

    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        serving = threading.Thread(target=_accept_one, args=(listener, server_context), daemon=True)
        serving.start()
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
            if accepted:
                with client_context.wrap_socket(raw, server_hostname=host) as tls:
                    assert tls.version() in ("TLSv1.2", "TLSv1.3")
            else:
                with pytest.raises(ssl.SSLCertVerificationError, match="Hostname mismatch"):
                    client_context.wrap_socket(raw, server_hostname=host)
        serving.join(timeout=5)


def _accept_one(listener: socket.socket, context: ssl.SSLContext) -> None:
    connection, _ = listener.accept()
    try:
        with context.wrap_socket(connection, server_side=True):
            pass
    except (ssl.SSLError, OSError):
        pass  # the refused handshake: the client's side is what the test asserts
    finally:
        connection.close()


def test_mounted_files_are_used_as_they_are_and_the_ca_is_optional(tmp_path: Path) -> None:
    generate_certificates(tmp_path, ["localhost"])
    mounted = mounted_certificates(tmp_path)
    assert (mounted.certfile, mounted.pkeyfile, mounted.cafile) == (
        tmp_path / CERT_FILE,
        tmp_path / KEY_FILE,
        tmp_path / CA_FILE,
    )
    (tmp_path / CA_FILE).unlink()
    without_ca = mounted_certificates(tmp_path)
    assert without_ca.cafile is None
    assert without_ca.ca_bundle() == (tmp_path / CERT_FILE).read_bytes()  # a self-signed certificate


@pytest.mark.parametrize("missing", [CERT_FILE, KEY_FILE])
def test_a_missing_certificate_or_key_is_named(tmp_path: Path, missing: str) -> None:
    generate_certificates(tmp_path, ["localhost"])
    (tmp_path / missing).unlink()
    with pytest.raises(FileNotFoundError, match=f"no {missing} in"):
        mounted_certificates(tmp_path)
