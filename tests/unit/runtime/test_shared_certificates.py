"""The certificate keeper on a store in memory and an injected clock: fill, renew, rotate, race, bad data."""

from __future__ import annotations

import base64
import ssl
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from prometheus_client import CollectorRegistry

from flink_tm_memory.cluster.errors import ApiError
from flink_tm_memory.runtime.certificate_content import decode, encode, parse
from flink_tm_memory.runtime.certificate_metrics import EXPIRY, CertificateExpiryCollector
from flink_tm_memory.runtime.certificate_schedule import Validity
from flink_tm_memory.runtime.certificate_store import MemoryStore, StoreConflictError, StoreMissingError
from flink_tm_memory.runtime.self_signed import new_ca
from flink_tm_memory.runtime.shared_certificates import CertificateKeeper

VALIDITY = Validity(ca=timedelta(seconds=60), serving=timedelta(seconds=15), overlap=timedelta(seconds=5))
HOSTS = ("localhost", "127.0.0.1")


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def keeper(store: MemoryStore, directory: Path, clock: Clock) -> CertificateKeeper:
    return CertificateKeeper(store, hosts=HOSTS, validity=VALIDITY, directory=directory, clock=clock)


def cas_in(pem: bytes) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(pem)


def served(directory: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate((directory / "tls.crt").read_bytes())


def assert_coherent(directory: Path) -> None:
    """The served certificate matches its key and chains to a CA of the bundle, as TLS checks it."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(directory / "tls.crt", directory / "tls.key")
    issuers = [
        ca for ca in cas_in((directory / "ca.crt").read_bytes()) if ca.subject == served(directory).issuer
    ]
    assert len(issuers) == 1
    served(directory).verify_directly_issued_by(issuers[0])


async def test_an_empty_store_is_filled_and_the_files_served_from_it(tmp_path: Path) -> None:
    store, clock = MemoryStore(), Clock()
    content = await keeper(store, tmp_path, clock).sync()

    assert set(store.data) == {"ca.crt", "ca.key", "tls.crt", "tls.key"}
    assert content.signing is not None
    assert (tmp_path / "ca.crt").read_bytes() == content.signing.certificate
    assert (tmp_path / "tls.key").stat().st_mode & 0o777 == 0o600
    assert_coherent(tmp_path)


class RacingStore:
    """A store whose first write lets another replica sync first (between the read and the write)."""

    def __init__(self, store: MemoryStore) -> None:
        self.store = store
        self.other: CertificateKeeper | None = None
        self.description = "racing"

    async def read(self) -> tuple[Mapping[str, object] | None, str | None]:
        return await self.store.read()

    async def write(self, data: Mapping[str, str | None], version: str | None) -> None:
        other, self.other = self.other, None
        if other is not None:
            await other.sync()
        await self.store.write(data, version)


async def test_two_replicas_share_one_ca_and_the_loser_of_a_race_takes_the_winners(tmp_path: Path) -> None:
    store, clock = MemoryStore(), Clock()
    racing = RacingStore(store)
    first = CertificateKeeper(racing, hosts=HOSTS, validity=VALIDITY, directory=tmp_path / "a", clock=clock)
    racing.other = keeper(store, tmp_path / "b", clock)

    await first.sync()

    assert (tmp_path / "a" / "tls.crt").read_bytes() == (tmp_path / "b" / "tls.crt").read_bytes()
    assert (tmp_path / "a" / "ca.crt").read_bytes() == (tmp_path / "b" / "ca.crt").read_bytes()
    assert store.version == 1  # one write won; the other replica read it again and wrote nothing


async def test_a_full_rotation_never_serves_a_certificate_the_bundle_does_not_trust(tmp_path: Path) -> None:
    store, clock = MemoryStore(), Clock()
    replica = keeper(store, tmp_path, clock)
    await replica.sync()
    first_ca = cas_in((tmp_path / "ca.crt").read_bytes())[0]
    serials, bundles = set(), []
    for _ in range(int(VALIDITY.ca.total_seconds() * 1.5)):  # a second at a time, through two CA lifetimes
        clock.advance(1)
        await replica.sync()
        assert_coherent(tmp_path)
        serials.add(served(tmp_path).serial_number)
        bundles.append(len(cas_in((tmp_path / "ca.crt").read_bytes())))
        assert clock.now < served(tmp_path).not_valid_after_utc
    assert len(serials) > 5  # renewed at two thirds of 15 s, again and again
    assert 2 in bundles  # old and new trusted together for a while
    assert first_ca not in cas_in((tmp_path / "ca.crt").read_bytes())  # rotated away, then dropped


async def test_the_next_ca_waits_for_the_configurations_to_carry_it(tmp_path: Path) -> None:
    store, clock = MemoryStore(), Clock()
    published: list[bytes] = []

    async def carries(bundle: bytes) -> bool:
        return bundle in published

    replica = keeper(store, tmp_path, clock)
    replica.published = carries
    await replica.sync()
    signing = cas_in((tmp_path / "ca.crt").read_bytes())[0]
    clock.advance(VALIDITY.ca.total_seconds() * 2 / 3)
    await replica.sync()  # the next CA joins the bundle
    bundle = (tmp_path / "ca.crt").read_bytes()
    assert len(cas_in(bundle)) == 2
    clock.advance(VALIDITY.overlap.total_seconds() * 2)
    await replica.sync()
    assert served(tmp_path).issuer == signing.subject  # not published yet: still the old CA
    published.append(bundle)
    await replica.sync()
    assert served(tmp_path).issuer != signing.subject


@pytest.mark.parametrize(
    "damage",
    [
        {"ca.crt": "not base64!"},
        {"ca.key": base64.b64encode(b"-----BEGIN PRIVATE KEY-----\ngarbage\n").decode()},
        {"tls.crt": base64.b64encode(b"hello").decode()},
        {"next-ca.crt": base64.b64encode(b"x").decode()},
        {"retired-ca.crt": base64.b64encode(b"x").decode()},
    ],
    ids=["ca-not-base64", "ca-key-garbage", "serving-not-pem", "next-garbage", "retired-garbage"],
)
async def test_bad_data_is_reported_and_replaced_never_a_crash(
    tmp_path: Path, damage: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    store, clock = MemoryStore(), Clock()
    replica = keeper(store, tmp_path, clock)
    await replica.sync()
    store.data.update(damage)

    await replica.sync()

    assert "Unusable webhook certificate data" in caplog.text
    assert next(iter(damage)) in caplog.text
    parsed = parse(*decode(store.data))
    assert parsed.problems == ()
    assert_coherent(tmp_path)


def test_a_key_from_another_certificate_is_named_as_the_problem() -> None:
    now = datetime.now(UTC)
    one, other = new_ca(now, VALIDITY.ca), new_ca(now, VALIDITY.ca)
    data = {"ca.crt": one.certificate, "ca.key": other.key}
    parsed = parse(data)
    assert parsed.facts.signing is None
    assert parsed.problems == ("the signing CA (data.ca.crt, data.ca.key): certificate and key do not match",)


def test_encoding_removes_what_the_content_no_longer_has() -> None:
    encoded = encode(parse({}).content)
    assert set(encoded) >= {"ca.crt", "next-ca.crt", "retired-at"}
    assert set(encoded.values()) == {None}


async def test_a_stale_write_to_memory_conflicts() -> None:
    store = MemoryStore()
    await store.write({"a": "b"}, "0")
    with pytest.raises(StoreConflictError):
        await store.write({"a": "c"}, "0")


class BrokenStore:
    description = "broken"

    def __init__(self, error: Exception) -> None:
        self.error = error

    async def read(self) -> tuple[Mapping[str, object] | None, str | None]:
        raise self.error

    async def write(self, data: Mapping[str, str | None], version: str | None) -> None:
        raise AssertionError("never reached")


@pytest.mark.parametrize(
    ("error", "level"),
    [
        (StoreMissingError("the Secret ns/name does not exist"), "ERROR"),
        (RuntimeError("a fault of ours"), "ERROR"),
        (
            ApiError(
                "the API server answered 429 Too Many Requests: storage is (re)initializing", transient=True
            ),
            "WARNING",
        ),
        (ApiError("the API server answered 403 Forbidden", transient=False), "ERROR"),
    ],
    ids=["missing", "unexpected", "transient", "forbidden"],
)
async def test_a_failed_check_is_logged_and_the_served_files_stay(
    tmp_path: Path, error: Exception, level: str, caplog: pytest.LogCaptureFixture
) -> None:
    store, clock = MemoryStore(), Clock()
    await keeper(store, tmp_path, clock).sync()
    served_before = (tmp_path / "tls.crt").read_bytes()
    broken = CertificateKeeper(
        BrokenStore(error), hosts=HOSTS, validity=VALIDITY, directory=tmp_path, clock=clock
    )

    assert await broken.check() is False

    assert str(error) in caplog.text
    assert [record.levelname for record in caplog.records if "Failed to check" in record.getMessage()] == [
        level
    ]
    assert (tmp_path / "tls.crt").read_bytes() == served_before


async def test_the_expiry_of_what_is_served_is_a_gauge(tmp_path: Path) -> None:
    store, clock = MemoryStore(), Clock()
    replica = keeper(store, tmp_path, clock)
    registry = CollectorRegistry()
    registry.register(CertificateExpiryCollector(replica))
    await replica.sync()

    served_expiry = served(tmp_path).not_valid_after_utc.timestamp()
    ca_expiry = cas_in((tmp_path / "ca.crt").read_bytes())[0].not_valid_after_utc.timestamp()
    assert registry.get_sample_value(EXPIRY, {"certificate": "serving"}) == served_expiry
    assert registry.get_sample_value(EXPIRY, {"certificate": "ca"}) == ca_expiry
