"""When the webhook's CA and serving certificate are renewed, and which CAs the ``caBundle`` trusts.

Pure decisions on facts read from the stored certificates and an injected clock (no I/O, no
cryptography), so every step of a rotation can be tested at any instant. For a CA valid ``ca``, a
serving certificate valid ``serving`` and an ``overlap``:

- **Serving certificate**: issued again at two thirds of its lifetime, and at once when it is
  missing, unreadable, does not match its key, names other hosts, or was not signed by the signing
  CA. It never outlives its CA (the issuer caps it).
- **CA**, in three steps so that no request fails: at two thirds of its lifetime a *next* CA is made
  and added to the bundle (``PREPARE``: the configurations trust old and next, the servers still
  serve from the old). Once ``overlap`` has passed since and both webhook configurations carry that
  bundle, the next CA becomes the signing CA and a serving certificate from it is issued
  (``SWITCH``); the old one stays in the bundle as *retired*. ``overlap`` after the switch, every
  replica has read the new serving certificate (they read the store every check interval, which the
  options keep well under the overlap) and the retired CA leaves the bundle.
- A signing CA that is missing, unreadable or expired: the next CA takes over if there is a usable
  one, else a fresh CA is made at once (``FRESH``): nothing trusted is left to overlap with.

A certificate that lives longer than the configured validity (the validity was shortened) is
replaced the same way, at once: a serving certificate is issued again, a CA is rotated.

Two thirds leave a third of each lifetime to recover in: an operator down for that long still finds
valid certificates when it comes back.
"""

from __future__ import annotations

import enum
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

RENEWAL_FRACTION = 2 / 3
"""The fraction of a certificate's lifetime after which it is replaced."""
TOLERANCE = timedelta(seconds=2)
"""Certificate times have whole seconds: a lifetime this much over the validity is still that validity."""


@dataclass(frozen=True, slots=True)
class Lifetime:
    """When a certificate was issued (not its back-dated ``notBefore``) and when it expires."""

    issued: datetime
    expires: datetime

    @property
    def renewal_due(self) -> datetime:
        return self.issued + (self.expires - self.issued) * RENEWAL_FRACTION

    def longer_than(self, validity: timedelta) -> bool:
        return self.expires - self.issued > validity + TOLERANCE

    def expired(self, now: datetime) -> bool:
        return now >= self.expires


@dataclass(frozen=True, slots=True)
class CaFacts:
    """A stored CA whose certificate and key were read and match."""

    fingerprint: str
    lifetime: Lifetime


@dataclass(frozen=True, slots=True)
class ServingFacts:
    """A stored serving certificate whose key matches; ``issuer``: the fingerprint of the CA that signed it
    (``None``: none of the stored CAs)."""

    issuer: str | None
    lifetime: Lifetime
    hosts: frozenset[str]


@dataclass(frozen=True, slots=True)
class StoredFacts:
    """What the store holds, each part ``None`` when absent or unusable."""

    signing: CaFacts | None = None
    next: CaFacts | None = None
    retired: CaFacts | None = None
    retired_at: datetime | None = None
    serving: ServingFacts | None = None


@dataclass(frozen=True, slots=True)
class Validity:
    """How long certificates live and how long old and new CAs are trusted together."""

    ca: timedelta
    serving: timedelta
    overlap: timedelta

    def problem(self, check_interval: float) -> str | None:
        """Why these periods cannot make a rotation without failed requests, or ``None``."""
        if self.serving <= timedelta(0) or self.ca <= timedelta(0) or self.overlap <= timedelta(0):
            return "every validity and the rotation overlap must be positive"
        if self.serving > self.ca:
            return f"the certificate validity ({self.serving}) exceeds the CA validity ({self.ca})"
        if self.overlap * 2 > self.ca * (1 - RENEWAL_FRACTION):
            return (
                f"the rotation overlap ({self.overlap}) must fit twice in the last third of the CA "
                f"validity ({self.ca}): the CA would expire before the rotation ends"
            )
        if self.overlap < timedelta(seconds=4 * check_interval):
            return (
                f"the rotation overlap ({self.overlap}) must be at least 4 check intervals "
                f"({check_interval:g} s): every replica must read the new certificates within it"
            )
        return None


class CaStep(enum.Enum):
    KEEP = "keep"
    """The signing CA stays; nothing to do about CAs."""
    FRESH = "fresh"
    """A new signing CA at once, trusted alone."""
    PREPARE = "prepare"
    """A next CA joins the bundle."""
    SWITCH = "switch"
    """The next CA signs from now on; the old one is retired (still trusted for ``overlap``)."""


@dataclass(frozen=True, slots=True)
class Plan:
    """What to change in the store now, and why (for the log)."""

    ca: CaStep = CaStep.KEEP
    issue_serving: bool = False
    drop_retired: bool = False
    reasons: tuple[str, ...] = ()

    @property
    def changes(self) -> bool:
        return self.ca is not CaStep.KEEP or self.issue_serving or self.drop_retired


def plan(
    stored: StoredFacts,
    *,
    hosts: Collection[str],
    validity: Validity,
    now: datetime,
    published: bool,
) -> Plan:
    """What to do now. ``published``: both webhook configurations carry every CA of the stored bundle."""
    reasons: list[str] = []
    step = _ca_step(stored, validity, now, published, reasons)
    renewed_ca = step in (CaStep.FRESH, CaStep.SWITCH)
    issue = renewed_ca or _serving_due(stored, hosts, validity, now, reasons)
    drop = (
        not renewed_ca
        and stored.retired is not None
        and (
            stored.retired_at is None
            or now >= stored.retired_at + validity.overlap
            or stored.retired.lifetime.expired(now)
        )
    )
    if drop:
        reasons.append("the retired CA has been trusted alongside the signing CA for the whole overlap")
    return Plan(step, issue, drop, tuple(reasons))


def _ca_step(
    stored: StoredFacts, validity: Validity, now: datetime, published: bool, reasons: list[str]
) -> CaStep:
    signing, following = stored.signing, stored.next
    usable_next = following is not None and not following.lifetime.expired(now)
    if signing is None or signing.lifetime.expired(now):
        why = "no usable signing CA" if signing is None else "the signing CA expired"
        if usable_next:
            reasons.append(f"{why}: the next CA takes over")
            return CaStep.SWITCH
        reasons.append(f"{why}: a new CA")
        return CaStep.FRESH
    if following is None or not usable_next:
        if now >= signing.lifetime.renewal_due:
            reasons.append("the signing CA is past two thirds of its lifetime: a next CA joins the bundle")
            return CaStep.PREPARE
        if signing.lifetime.longer_than(validity.ca):
            reasons.append("the signing CA outlives the configured CA validity: a next CA joins the bundle")
            return CaStep.PREPARE
        return CaStep.KEEP
    if now >= following.lifetime.issued + validity.overlap and published:
        reasons.append("the next CA has been trusted by the webhook configurations for the overlap")
        return CaStep.SWITCH
    return CaStep.KEEP


def _serving_due(
    stored: StoredFacts, hosts: Collection[str], validity: Validity, now: datetime, reasons: list[str]
) -> bool:
    serving, signing = stored.serving, stored.signing
    assert signing is not None  # KEEP and PREPARE keep a usable signing CA
    if serving is None:
        reasons.append("no usable serving certificate")
    elif serving.issuer != signing.fingerprint:
        reasons.append("the serving certificate was not signed by the signing CA")
    elif serving.hosts != frozenset(hosts):
        reasons.append("the serving certificate names other hosts")
    elif now >= serving.lifetime.renewal_due:
        reasons.append("the serving certificate is past two thirds of its lifetime")
    elif serving.lifetime.longer_than(validity.serving):
        reasons.append("the serving certificate outlives the configured validity")
    else:
        return False
    return True


def bundle_order(stored: StoredFacts) -> list[CaFacts]:
    """The CAs the ``caBundle`` trusts: retired, signing, next (those present)."""
    return [ca for ca in (stored.retired, stored.signing, stored.next) if ca is not None]
