"""The renewal schedule on an injected clock: every step of a rotation, decided at chosen instants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from flink_tm_memory.runtime.certificate_schedule import (
    CaFacts,
    CaStep,
    Lifetime,
    ServingFacts,
    StoredFacts,
    Validity,
    bundle_order,
    plan,
)

T0 = datetime(2030, 1, 1, tzinfo=UTC)
VALIDITY = Validity(ca=timedelta(days=900), serving=timedelta(days=90), overlap=timedelta(hours=1))
HOSTS = ("webhook.ns.svc", "webhook.ns.svc.cluster.local")


def ca(name: str, issued: datetime, validity: timedelta = VALIDITY.ca) -> CaFacts:
    return CaFacts(name, Lifetime(issued, issued + validity))


def serving(issuer: str, issued: datetime, hosts: tuple[str, ...] = HOSTS) -> ServingFacts:
    return ServingFacts(issuer, Lifetime(issued, issued + VALIDITY.serving), frozenset(hosts))


def settled(at: datetime = T0) -> StoredFacts:
    return StoredFacts(signing=ca("old", at), serving=serving("old", at))


def decide(stored: StoredFacts, now: datetime, *, published: bool = True) -> tuple[CaStep, bool, bool]:
    decision = plan(stored, hosts=HOSTS, validity=VALIDITY, now=now, published=published)
    assert decision.changes == (
        decision.ca is not CaStep.KEEP or decision.issue_serving or decision.drop_retired
    )
    return decision.ca, decision.issue_serving, decision.drop_retired


def test_an_empty_store_gets_a_fresh_ca_and_a_serving_certificate() -> None:
    assert decide(StoredFacts(), T0) == (CaStep.FRESH, True, False)


def test_nothing_is_due_before_two_thirds_of_the_serving_lifetime() -> None:
    due = T0 + VALIDITY.serving * 2 / 3
    assert decide(settled(), due - timedelta(seconds=1)) == (CaStep.KEEP, False, False)
    assert decide(settled(), due) == (CaStep.KEEP, True, False)


@pytest.mark.parametrize(
    "stored",
    [
        StoredFacts(signing=ca("old", T0)),
        StoredFacts(signing=ca("old", T0), serving=serving("someone-else", T0)),
        StoredFacts(signing=ca("old", T0), serving=serving(None, T0)),  # type: ignore[arg-type]
        StoredFacts(signing=ca("old", T0), serving=serving("old", T0, hosts=("localhost",))),
    ],
    ids=["missing", "other-issuer", "no-stored-issuer", "other-hosts"],
)
def test_a_serving_certificate_that_cannot_serve_is_issued_again_at_once(stored: StoredFacts) -> None:
    assert decide(stored, T0 + timedelta(minutes=1)) == (CaStep.KEEP, True, False)


def test_a_ca_rotation_keeps_old_and_new_trusted_until_every_replica_serves_the_new() -> None:
    due = T0 + VALIDITY.ca * 2 / 3
    stored = StoredFacts(signing=ca("old", T0), serving=serving("old", due - timedelta(days=1)))
    assert decide(stored, due - timedelta(seconds=1)) == (CaStep.KEEP, False, False)
    assert decide(stored, due) == (CaStep.PREPARE, False, False)

    prepared = StoredFacts(signing=stored.signing, next=ca("new", due), serving=stored.serving)
    assert [found.fingerprint for found in bundle_order(prepared)] == ["old", "new"]
    assert decide(prepared, due + VALIDITY.overlap - timedelta(seconds=1)) == (CaStep.KEEP, False, False)
    assert decide(prepared, due + VALIDITY.overlap, published=False) == (CaStep.KEEP, False, False)
    switch = due + VALIDITY.overlap + timedelta(minutes=5)
    assert decide(prepared, switch) == (CaStep.SWITCH, True, False)

    switched = StoredFacts(
        signing=ca("new", due), retired=ca("old", T0), retired_at=switch, serving=serving("new", switch)
    )
    assert [found.fingerprint for found in bundle_order(switched)] == ["old", "new"]
    assert decide(switched, switch + VALIDITY.overlap - timedelta(seconds=1)) == (CaStep.KEEP, False, False)
    assert decide(switched, switch + VALIDITY.overlap) == (CaStep.KEEP, False, True)


def test_an_expired_signing_ca_is_replaced_by_a_usable_next_one_else_by_a_fresh_one() -> None:
    expired = T0 + VALIDITY.ca
    with_next = StoredFacts(signing=ca("old", T0), next=ca("new", T0 + timedelta(days=700)))
    assert decide(with_next, expired) == (CaStep.SWITCH, True, False)
    assert decide(settled(), expired) == (CaStep.FRESH, True, False)
    stale_next = StoredFacts(signing=ca("old", T0), next=ca("new", T0, timedelta(days=1)))
    assert decide(stale_next, expired) == (CaStep.FRESH, True, False)


def test_an_expired_next_ca_is_prepared_again() -> None:
    due = T0 + VALIDITY.ca * 2 / 3
    stored = StoredFacts(
        signing=ca("old", T0), next=ca("new", due, timedelta(hours=2)), serving=serving("old", due)
    )
    assert decide(stored, due + timedelta(hours=3)) == (CaStep.PREPARE, False, False)


def test_a_retired_ca_without_its_retirement_time_is_dropped() -> None:
    stored = StoredFacts(
        signing=ca("new", T0), retired=ca("old", T0 - timedelta(days=600)), serving=serving("new", T0)
    )
    assert decide(stored, T0 + timedelta(minutes=1)) == (CaStep.KEEP, False, True)


def test_the_reasons_say_what_is_due() -> None:
    decision = plan(StoredFacts(), hosts=HOSTS, validity=VALIDITY, now=T0, published=True)
    assert decision.reasons == ("no usable signing CA: a new CA",)


@pytest.mark.parametrize(
    ("validity", "interval", "problem"),
    [
        (
            Validity(timedelta(days=1), timedelta(days=2), timedelta(minutes=1)),
            1.0,
            "exceeds the CA validity",
        ),
        (Validity(timedelta(hours=3), timedelta(hours=1), timedelta(hours=1)), 1.0, "must fit twice"),
        (Validity(timedelta(hours=3), timedelta(hours=1), timedelta(seconds=30)), 10.0, "at least 4 check"),
        (Validity(timedelta(0), timedelta(hours=1), timedelta(seconds=30)), 1.0, "must be positive"),
    ],
    ids=["serving-longer", "overlap-too-long", "overlap-too-short", "zero"],
)
def test_periods_that_cannot_rotate_safely_are_refused_saying_why(
    validity: Validity, interval: float, problem: str
) -> None:
    found = validity.problem(interval)
    assert found is not None
    assert problem in found


def test_the_default_and_test_periods_are_accepted() -> None:
    assert VALIDITY.problem(60.0) is None
    assert Validity(timedelta(seconds=24), timedelta(seconds=6), timedelta(seconds=2)).problem(0.2) is None


def test_a_shortened_validity_renews_the_serving_certificate_and_rotates_the_ca_at_once() -> None:
    shorter = Validity(ca=timedelta(days=30), serving=timedelta(days=3), overlap=timedelta(hours=1))
    decision = plan(settled(), hosts=HOSTS, validity=shorter, now=T0 + timedelta(minutes=1), published=True)
    assert (decision.ca, decision.issue_serving) == (CaStep.PREPARE, True)
    assert "outlives the configured" in " ".join(decision.reasons)
    same = plan(settled(), hosts=HOSTS, validity=VALIDITY, now=T0 + timedelta(minutes=1), published=True)
    assert not same.changes
