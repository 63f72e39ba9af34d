"""The shared certificates as stored: parsed from a Secret's ``data``, checked, changed by a plan.

One Secret holds everything every replica needs, each value base64 as in any Secret:

- ``ca.crt`` / ``ca.key``: the signing CA;
- ``tls.crt`` / ``tls.key``: the serving certificate it signed, which every replica serves;
- ``next-ca.crt`` / ``next-ca.key``: during a CA rotation, the CA that signs next;
- ``retired-ca.crt`` and ``retired-at`` (RFC 3339): after a rotation, the CA that signed before,
  still trusted until ``retired-at`` plus the overlap.

The ``caBundle`` (and the local ``ca.crt`` file) is the retired, signing and next CAs, derived from
these, never stored twice. Bad data (not base64, not PEM, a key that does not match its certificate,
a serving certificate no stored CA signed) never stops the operator: the part is reported and
treated as absent, so the schedule makes a new one.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from flink_tm_memory.runtime import self_signed
from flink_tm_memory.runtime.certificate_schedule import (
    CaFacts,
    CaStep,
    Plan,
    ServingFacts,
    StoredFacts,
    Validity,
)
from flink_tm_memory.runtime.self_signed import KeyPair, UnusableMaterialError

SIGNING = ("ca.crt", "ca.key")
NEXT = ("next-ca.crt", "next-ca.key")
SERVING = ("tls.crt", "tls.key")
RETIRED = "retired-ca.crt"
RETIRED_AT = "retired-at"
KEYS = (*SIGNING, *NEXT, *SERVING, RETIRED, RETIRED_AT)


@dataclass(frozen=True, slots=True)
class Content:
    """What the store holds (or is to hold), as PEMs."""

    signing: KeyPair | None = None
    next: KeyPair | None = None
    serving: KeyPair | None = None
    retired: bytes | None = None
    retired_at: datetime | None = None

    def bundle(self) -> bytes:
        """The PEMs of every trusted CA: retired, signing, next."""
        parts = [self.retired, self.signing and self.signing.certificate, self.next and self.next.certificate]
        return b"".join(part for part in parts if part)


@dataclass(frozen=True, slots=True)
class Parsed:
    """The usable content of a store, its facts, and what was wrong with the rest."""

    content: Content
    facts: StoredFacts
    problems: tuple[str, ...] = field(default=())


def decode(data: Mapping[str, object] | None) -> tuple[dict[str, bytes], list[str]]:
    """A Secret's ``data`` as bytes, with the keys that are not base64 strings reported (and left out)."""
    decoded: dict[str, bytes] = {}
    problems: list[str] = []
    for key, value in (data or {}).items():
        if key not in KEYS:
            continue
        try:
            if not isinstance(value, str):
                raise TypeError
            decoded[key] = base64.b64decode(value, validate=True)
        except (binascii.Error, TypeError, ValueError):
            problems.append(f"data.{key}: not base64")
    return decoded, problems


def encode(content: Content) -> dict[str, str | None]:
    """The ``data`` of a merge patch that makes the Secret hold ``content`` (``None`` removes a key)."""
    values: dict[str, bytes | None] = dict.fromkeys(KEYS)
    for (cert_key, key_key), pair in (
        (SIGNING, content.signing),
        (NEXT, content.next),
        (SERVING, content.serving),
    ):
        if pair is not None:
            values[cert_key], values[key_key] = pair.certificate, pair.key
    values[RETIRED] = content.retired
    if content.retired_at is not None:
        values[RETIRED_AT] = content.retired_at.isoformat().encode("ascii")
    return {key: base64.b64encode(value).decode("ascii") if value else None for key, value in values.items()}


def parse(data: Mapping[str, bytes], problems: Sequence[str] = ()) -> Parsed:
    """The usable parts of decoded ``data``; a part that cannot be used is dropped and said why."""
    found = list(problems)
    signing, signing_facts = _ca(data, SIGNING, "the signing CA", found)
    following, next_facts = _ca(data, NEXT, "the next CA", found)
    retired, retired_facts = _retired(data, found)
    retired_at = _retired_at(data, found) if retired is not None else None
    cas = [ca for ca in (signing, following) if ca is not None]
    serving, serving_facts = _serving(data, cas, found)
    content = Content(signing, following, serving, retired, retired_at)
    facts = StoredFacts(signing_facts, next_facts, retired_facts, retired_at, serving_facts)
    return Parsed(content, facts, tuple(found))


def carry_out(
    content: Content, plan: Plan, *, hosts: Sequence[str], validity: Validity, now: datetime
) -> Content:
    """``content`` changed as ``plan`` says: new CAs, a new serving certificate, the retired CA dropped."""
    if plan.ca is CaStep.FRESH:
        content = Content(signing=self_signed.new_ca(now, validity.ca))
    elif plan.ca is CaStep.PREPARE:
        content = replace(content, next=self_signed.new_ca(now, validity.ca))
    elif plan.ca is CaStep.SWITCH:
        old = content.signing
        content = replace(
            content,
            signing=content.next,
            next=None,
            retired=old.certificate if old is not None else None,
            retired_at=now if old is not None else None,
        )
    if plan.drop_retired:
        content = replace(content, retired=None, retired_at=None)
    if plan.issue_serving:
        assert content.signing is not None
        content = replace(
            content, serving=self_signed.issue_serving(content.signing, hosts, now, validity.serving)
        )
    return content


def _ca(
    data: Mapping[str, bytes], keys: tuple[str, str], what: str, problems: list[str]
) -> tuple[KeyPair | None, CaFacts | None]:
    cert_key, key_key = keys
    if cert_key not in data and key_key not in data:
        return None, None
    pair = KeyPair(data.get(cert_key, b""), data.get(key_key, b""))
    try:
        certificate = self_signed.checked_pair(pair, f"{what} (data.{cert_key}, data.{key_key}):", ca=True)
    except UnusableMaterialError as error:
        problems.append(str(error))
        return None, None
    return pair, CaFacts(self_signed.fingerprint(certificate), self_signed.lifetime(certificate))


def _retired(data: Mapping[str, bytes], problems: list[str]) -> tuple[bytes | None, CaFacts | None]:
    pem = data.get(RETIRED)
    if pem is None:
        return None, None
    try:
        certificate = self_signed.load_certificate(pem, f"the retired CA (data.{RETIRED})")
    except UnusableMaterialError as error:
        problems.append(str(error))
        return None, None
    return pem, CaFacts(self_signed.fingerprint(certificate), self_signed.lifetime(certificate))


def _retired_at(data: Mapping[str, bytes], problems: list[str]) -> datetime | None:
    text = data.get(RETIRED_AT, b"").decode("ascii", errors="replace")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        problems.append(f"data.{RETIRED_AT}: not an RFC 3339 time ({text[:40]!r}): the retired CA is dropped")
        return None
    if moment.tzinfo is None:
        problems.append(
            f"data.{RETIRED_AT}: a time without a zone ({text[:40]!r}): the retired CA is dropped"
        )
        return None
    return moment


def _serving(
    data: Mapping[str, bytes], cas: Sequence[KeyPair], problems: list[str]
) -> tuple[KeyPair | None, ServingFacts | None]:
    cert_key, key_key = SERVING
    if cert_key not in data and key_key not in data:
        return None, None
    pair = KeyPair(data.get(cert_key, b""), data.get(key_key, b""))
    what = f"the serving certificate (data.{cert_key}, data.{key_key}):"
    try:
        certificate = self_signed.checked_pair(pair, what, ca=False)
    except UnusableMaterialError as error:
        problems.append(str(error))
        return None, None
    issuer = None
    for ca in cas:
        ca_certificate = self_signed.load_certificate(ca.certificate, "a CA")
        if self_signed.signed_by(certificate, ca_certificate):
            issuer = self_signed.fingerprint(ca_certificate)
            break
    facts = ServingFacts(issuer, self_signed.lifetime(certificate), self_signed.hosts_of(certificate))
    return pair, facts
