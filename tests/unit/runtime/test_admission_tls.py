"""The admission server's TLS: loads the files, follows a rotation, ignores a half-rotated pair.

A real TLS listener (asyncio's, with the live context) shows which certificate a new connection gets;
the listener is never restarted.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import ssl
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from flink_tm_memory.runtime.admission.tls import ServingTls
from flink_tm_memory.runtime.certificates import (
    CERT_FILE,
    KEY_FILE,
    ServingCertificates,
    generate_certificates,
    mounted_certificates,
)


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where the private copies go (to check that none is left)."""
    directory = tmp_path / "scratch"
    directory.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(directory))
    return directory


def pair(directory: Path) -> ServingCertificates:
    return generate_certificates(directory, ["localhost", "127.0.0.1"])


def install(source: ServingCertificates, mounted: Path, *files: str) -> None:
    mounted.mkdir(exist_ok=True)
    for name in files:
        shutil.copyfile(source.certfile.parent / name, mounted / name)


@pytest.fixture
async def listener(tmp_path: Path) -> AsyncIterator[tuple[ServingTls, ServingCertificates, int]]:
    first = pair(tmp_path / "first")
    install(first, tmp_path / "mounted", CERT_FILE, KEY_FILE)
    tls = ServingTls(mounted_certificates(tmp_path / "mounted"))
    assert await tls.refresh()

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()
        writer.close()

    server = await asyncio.start_server(hold, "127.0.0.1", 0, ssl=tls.live)
    port = server.sockets[0].getsockname()[1]
    try:
        yield tls, first, port
    finally:
        server.close()
        await server.wait_closed()


async def served_certificate(port: int, *trusted: ServingCertificates) -> bytes:
    trust = ssl.create_default_context()
    for certificates in trusted:
        assert certificates.cafile is not None
        trust.load_verify_locations(cafile=str(certificates.cafile))
    _, writer = await asyncio.open_connection("127.0.0.1", port, ssl=trust, server_hostname="localhost")
    try:
        ssl_object = writer.get_extra_info("ssl_object")
        der: bytes = ssl_object.getpeercert(binary_form=True)
        return der
    finally:
        writer.close()


def der(certificates: ServingCertificates) -> bytes:
    return ssl.PEM_cert_to_DER_cert(certificates.certfile.read_text())


async def test_the_first_pair_is_loaded_and_nothing_changes_while_the_files_do_not(
    listener: tuple[ServingTls, ServingCertificates, int], scratch: Path
) -> None:
    tls, first, port = listener

    assert tls.loaded
    assert tls.problem is None
    assert await served_certificate(port, first) == der(first)
    assert not await tls.refresh()
    assert tls.reloads == 1
    assert list(scratch.iterdir()) == []  # the private copies are gone


async def test_a_rotated_pair_is_served_to_new_connections_without_restarting_the_listener(
    listener: tuple[ServingTls, ServingCertificates, int], tmp_path: Path, scratch: Path
) -> None:
    tls, first, port = listener
    second = pair(tmp_path / "second")

    install(second, tmp_path / "mounted", CERT_FILE, KEY_FILE)
    assert await tls.refresh()

    assert await served_certificate(port, first, second) == der(second)
    assert tls.reloads == 2
    assert list(scratch.iterdir()) == []


async def test_a_half_rotated_pair_is_ignored_with_one_warning_until_the_files_agree(
    listener: tuple[ServingTls, ServingCertificates, int], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    tls, first, port = listener
    second = pair(tmp_path / "second")
    loaded = tls.loaded_digest

    install(second, tmp_path / "mounted", CERT_FILE)  # the new certificate, the old key
    with caplog.at_level(logging.WARNING):
        assert not await tls.refresh()
        assert not await tls.refresh()
        assert not await tls.refresh()

    assert tls.loaded_digest == loaded
    assert tls.problem is not None
    assert "do not form a pair" in tls.problem
    warnings = [record for record in caplog.records if record.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "keeps serving the previous pair" in warnings[0].getMessage()
    assert await served_certificate(port, first) == der(first)  # still the old, whole pair

    install(second, tmp_path / "mounted", KEY_FILE)
    assert await tls.refresh()
    assert tls.problem is None
    assert await served_certificate(port, second) == der(second)


async def test_unreadable_files_keep_the_previous_pair_and_warn_once(
    listener: tuple[ServingTls, ServingCertificates, int], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    tls, first, port = listener
    (tmp_path / "mounted" / KEY_FILE).unlink()

    with caplog.at_level(logging.WARNING):
        assert not await tls.refresh()
        assert not await tls.refresh()

    assert tls.problem is not None
    assert "cannot read" in tls.problem
    assert len([record for record in caplog.records if record.levelno == logging.WARNING]) == 1
    assert await served_certificate(port, first) == der(first)


async def test_a_first_pair_that_does_not_agree_leaves_nothing_loaded(tmp_path: Path) -> None:
    first, second = pair(tmp_path / "first"), pair(tmp_path / "second")
    install(first, tmp_path / "mounted", CERT_FILE)
    install(second, tmp_path / "mounted", KEY_FILE)
    tls = ServingTls(
        ServingCertificates(tmp_path / "mounted" / CERT_FILE, tmp_path / "mounted" / KEY_FILE, None)
    )

    assert not await tls.refresh()

    assert not tls.loaded
    assert tls.problem is not None
