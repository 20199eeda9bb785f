"""The disclosure policy, table by table: roles and sides, consent states (none, in force,
withdrawn, a scope that does not cover it, expired by date), and municipalities (the
client's own, another of the centre's, one that is not the centre's)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from contracts.base import Actor
from services.disclosure.policy import (
    Client,
    Crossing,
    DisclosureForbidden,
    DisclosureRefused,
    Kind,
    Refusal,
    decide,
    ensure,
    may_learn_client_exists,
)

CENTRE = ("Mikkeli", "Hirvensalmi", "Mäntyharju")
GIVEN, WITHDRAWN, LATER = date(2010, 1, 4), date(2010, 6, 1), date(2010, 7, 1)
BEFORE = date(2010, 5, 3)


@dataclass(frozen=True)
class C:
    consent_id: str
    scopes: tuple[str, ...]
    organisations: tuple[str, ...] = ()
    given_on: date = GIVEN
    withdrawn_on: date | None = None


ALL = ("move_to_centre", "data_exchange_within_centre", "disclosure_to_organisations")
ORGS = ("social_services:mikkeli", "social_services:mantyharju")
CONSENTS: dict[str, tuple[C, ...]] = {
    "none": (),
    "in force": (C("c-1", ALL, ORGS),),
    "withdrawn": (C("c-1", ALL, ORGS, withdrawn_on=WITHDRAWN),),
    "scope not covering": (C("c-1", ("move_to_centre",)),),
    "other organisation named": (C("c-1", ALL, ("kela",)),),
}


def actor(role: str, organisation: str = "te-office", person: str = "p-1") -> Actor:
    return Actor(person_id=person, role=role, organisation=organisation)


ADVISOR = actor("employment_advisor")
LEAD = actor("lead_employment_advisor")
PSYCHOLOGIST = actor("psychologist")
GUIDE = actor("service_guide", "mikkeli")
COORDINATOR = actor("service_coordinator", "mikkeli")
SECRETARY = actor("office_secretary", "mikkeli")
NURSE = actor("nurse", "centre")
SW_MIKKELI = actor("social_worker", "social_services:mikkeli")
SW_HIRVENSALMI = actor("social_worker", "social_services:hirvensalmi")
STEERING = actor("steering_group_member", "centre")
AUDITOR = actor("auditor", "centre")
PARTNER = actor("partner_system", "kela")


def client(
    consents: str = "in force", *, referred_by: str | None = None, task_holders: frozenset[str] = frozenset()
) -> Client:
    return Client(
        client_id="client-1",
        municipality="Mikkeli",
        consents=CONSENTS[consents],
        referred_by=referred_by,
        task_holders=task_holders,
    )


# --- transfers: who, which municipality, which consent, on which day ----------------------

TRANSFERS = [
    # who, to municipality, consents, days, allowed, refusal
    (ADVISOR, "Mikkeli", "in force", (BEFORE,), True, None),
    (GUIDE, "Mikkeli", "in force", (BEFORE,), True, None),
    (COORDINATOR, "Mäntyharju", "in force", (BEFORE,), True, None),  # another municipality, named
    (ADVISOR, "Hirvensalmi", "in force", (BEFORE,), False, Refusal.CONSENT),  # another, not named
    (ADVISOR, "Helsinki", "in force", (BEFORE,), False, Refusal.NOT_A_PARTNER),  # not the centre's
    (ADVISOR, "!!", "in force", (BEFORE,), False, Refusal.NOT_A_PARTNER),  # not a name at all
    (ADVISOR, "mantyharju", "in force", (BEFORE,), True, None),  # spelt without the umlaut
    (ADVISOR, "Mikkeli", "none", (BEFORE,), False, Refusal.CONSENT),
    (ADVISOR, "Mikkeli", "withdrawn", (LATER,), False, Refusal.CONSENT),
    (ADVISOR, "Mikkeli", "withdrawn", (BEFORE,), True, None),  # before the withdrawal took effect
    (ADVISOR, "Mikkeli", "withdrawn", (BEFORE, LATER), False, Refusal.CONSENT),  # dated before, made after
    (ADVISOR, "Mikkeli", "withdrawn", (), False, Refusal.CONSENT),  # as the log stands
    (ADVISOR, "Mikkeli", "in force", (date(2010, 1, 1),), False, Refusal.CONSENT),  # before it was given
    (ADVISOR, "Mikkeli", "scope not covering", (BEFORE,), False, Refusal.CONSENT),
    (ADVISOR, "Mikkeli", "other organisation named", (BEFORE,), False, Refusal.CONSENT),
    (NURSE, "Mikkeli", "in force", (BEFORE,), False, Refusal.FORBIDDEN),
    (SW_MIKKELI, "Mikkeli", "in force", (BEFORE,), False, Refusal.FORBIDDEN),
    (STEERING, "Mikkeli", "in force", (BEFORE,), False, Refusal.FORBIDDEN),
    (None, "Mikkeli", "in force", (BEFORE,), False, Refusal.FORBIDDEN),
]


@pytest.mark.parametrize(("who", "to", "consents", "days", "allowed", "refusal"), TRANSFERS)
def test_a_transfer_needs_centre_staff_a_partner_municipality_and_a_consent_naming_it_on_each_day(
    who: Actor | None, to: str, consents: str, days: tuple[date, ...], allowed: bool, refusal: Refusal | None
) -> None:
    decision = decide(who, Crossing(Kind.TRANSFER, municipality=to), client(consents), on=days, centre=CENTRE)
    assert (decision.allowed, decision.refusal) == (allowed, refusal), decision.reason
    if refusal is Refusal.CONSENT:
        assert decision.missing and decision.missing[0].startswith(
            "disclosure_to_organisations:social_services:"
        )
        assert decision.missing[0] in decision.reason
    if allowed:
        assert decision.consent_id == "c-1" and "c-1" in decision.reason


def test_a_refused_transfer_after_a_withdrawal_names_the_withdrawn_consent_and_the_missing_scope() -> None:
    decision = decide(
        ADVISOR,
        Crossing(Kind.TRANSFER, municipality="Mikkeli"),
        client("withdrawn"),
        on=(LATER,),
        centre=CENTRE,
    )
    assert "disclosure_to_organisations:social_services:mikkeli" in decision.reason
    assert f"consent c-1 was withdrawn on {WITHDRAWN}" in decision.reason
    with pytest.raises(DisclosureRefused) as refused:
        ensure(decision)
    assert refused.value.missing == ["disclosure_to_organisations:social_services:mikkeli"]


ACK_AND_RETURN = [
    # kind, who, transfer's receiving municipality, allowed
    (Kind.ACKNOWLEDGEMENT, SW_MIKKELI, "Mikkeli", True),
    (Kind.ACKNOWLEDGEMENT, SW_HIRVENSALMI, "Mikkeli", False),
    (Kind.ACKNOWLEDGEMENT, SW_HIRVENSALMI, "Hirvensalmi", True),
    (Kind.ACKNOWLEDGEMENT, COORDINATOR, "Mikkeli", False),
    (Kind.ACKNOWLEDGEMENT, ADVISOR, "Mikkeli", False),
    (Kind.RETURN, SW_MIKKELI, "Mikkeli", True),
    (Kind.RETURN, SW_HIRVENSALMI, "Mikkeli", False),  # item 1: another municipality's social worker
    (Kind.RETURN, SW_MIKKELI, "Mäntyharju", False),
    (Kind.RETURN, ADVISOR, "Mikkeli", True),
    (Kind.RETURN, GUIDE, "Mikkeli", True),
    (Kind.RETURN, NURSE, "Mikkeli", False),
    (Kind.RETURN, PARTNER, "Mikkeli", False),
]


@pytest.mark.parametrize(("kind", "who", "receiving", "allowed"), ACK_AND_RETURN)
@pytest.mark.parametrize("consents", ["in force", "withdrawn", "none"])
def test_only_the_receiving_social_services_answer_a_transfer_and_it_or_the_centre_records_the_return(
    kind: Kind, who: Actor, receiving: str, allowed: bool, consents: str
) -> None:
    decision = decide(who, Crossing(kind, municipality=receiving), client(consents), on=(LATER,))
    assert decision.allowed is allowed, decision.reason
    if not allowed:
        assert decision.refusal is Refusal.FORBIDDEN
        with pytest.raises(DisclosureForbidden, match=r"only social_services:"):
            ensure(decision)


# --- copies Reitti makes: feeds and side projections ------------------------------------

COPIES = [
    # crossing, consents, allowed
    (Crossing(Kind.FEED_COPY, recipient="social_services:mikkeli"), "in force", True),
    (Crossing(Kind.FEED_COPY, recipient="social_services:hirvensalmi"), "in force", False),
    (Crossing(Kind.FEED_COPY, recipient="social_services:mikkeli"), "withdrawn", False),
    (Crossing(Kind.FEED_COPY, recipient="social_services:mikkeli"), "none", False),
    (Crossing(Kind.FEED_COPY, recipient="social_services:mikkeli"), "scope not covering", False),
    (Crossing(Kind.FINAL_ASSESSMENT), "none", True),  # by law, not by consent
    (Crossing(Kind.TE_PARTITION), "in force", True),
    (Crossing(Kind.TE_PARTITION), "withdrawn", False),
    (Crossing(Kind.TE_PARTITION), "scope not covering", False),
    (Crossing(Kind.TE_PARTITION), "other organisation named", True),
    (Crossing(Kind.MUNICIPAL_PARTITION, municipality="Mäntyharju"), "in force", True),
    (Crossing(Kind.MUNICIPAL_PARTITION, municipality="Hirvensalmi"), "in force", False),
    (Crossing(Kind.MUNICIPAL_PARTITION, municipality="Mikkeli"), "withdrawn", False),
]


@pytest.mark.parametrize(("crossing", "consents", "allowed"), COPIES)
def test_a_copy_to_another_side_or_partner_needs_a_consent_not_withdrawn_as_the_log_stands(
    crossing: Crossing, consents: str, allowed: bool
) -> None:
    decision = decide(None, crossing, client(consents))
    assert decision.allowed is allowed, decision.reason
    assert (decision.refusal is None) is allowed


# --- reads ---------------------------------------------------------------------------------

INTAKE_READS = [
    # who, referred by, consents, task holder, allowed
    (ADVISOR, "self_referral", "in force", False, True),
    (NURSE, "self_referral", "in force", False, True),
    (SECRETARY, "self_referral", "in force", False, True),
    # item 8: the TE side reads the TE-office's own referrals without a consent ...
    (ADVISOR, "te_office", "none", False, True),
    (PSYCHOLOGIST, "te_office", "withdrawn", False, True),
    # ... but not the others' without one
    (ADVISOR, "self_referral", "none", False, False),
    (ADVISOR, "self_referral", "withdrawn", False, False),
    (ADVISOR, "social_services", "scope not covering", False, False),
    (LEAD, "other", "none", False, False),
    (GUIDE, "te_office", "none", False, False),  # a TE referral is not the municipal side's
    (GUIDE, "social_services", "none", False, True),
    (NURSE, "te_office", "none", False, False),
    # the intake task: who received or picked the referral
    (ADVISOR, "self_referral", "none", True, True),
    (SECRETARY, "other", "withdrawn", True, True),
    # never outside the centre
    (SW_MIKKELI, "social_services", "in force", True, False),
    (STEERING, "te_office", "in force", False, False),
    (AUDITOR, "te_office", "in force", False, False),
    (PARTNER, "te_office", "in force", False, False),
]


@pytest.mark.parametrize(("who", "source", "consents", "task", "allowed"), INTAKE_READS)
def test_the_intake_case_with_name_and_identity_code_is_read_under_consent_by_its_own_side_or_by_task(
    who: Actor, source: str, consents: str, task: bool, allowed: bool
) -> None:
    holders = frozenset({who.person_id}) if task else frozenset({"someone-else"})
    c = client(consents, referred_by=source, task_holders=holders)
    decision = decide(who, Crossing(Kind.INTAKE_CASE), c, on=(LATER,))
    assert decision.allowed is allowed, decision.reason
    if not allowed:
        assert decision.refusal is Refusal.FORBIDDEN
        if who in (ADVISOR, LEAD, GUIDE, NURSE):
            assert "data_exchange_within_centre" in decision.reason


def test_a_refused_intake_read_says_what_is_missing_and_names_the_withdrawn_consent() -> None:
    decision = decide(
        ADVISOR, Crossing(Kind.INTAKE_CASE), client("withdrawn", referred_by="self_referral"), on=(LATER,)
    )
    assert "missing consent" in decision.reason and "data_exchange_within_centre" in decision.reason
    assert f"consent c-1 was withdrawn on {WITHDRAWN}" in decision.reason
    assert "the referral came from self_referral" in decision.reason


GUIDANCE_READS = [
    (ADVISOR, "in force", False, True),
    (NURSE, "in force", False, True),
    (ADVISOR, "withdrawn", False, False),
    (ADVISOR, "withdrawn", True, True),  # the named guide keeps the client
    (GUIDE, "scope not covering", False, False),
    (SW_MIKKELI, "in force", True, False),
    (STEERING, "in force", False, False),
]


@pytest.mark.parametrize(("who", "consents", "guide", "allowed"), GUIDANCE_READS)
def test_a_guidance_case_is_read_by_centre_staff_under_consent_or_by_its_named_guide(
    who: Actor, consents: str, guide: bool, allowed: bool
) -> None:
    c = client(consents, task_holders=frozenset({who.person_id} if guide else ()))
    assert decide(who, Crossing(Kind.GUIDANCE_CASE), c, on=(LATER,)).allowed is allowed


VIEWS = [
    (Crossing(Kind.TE_VIEW), ADVISOR, True),
    (Crossing(Kind.TE_VIEW), PSYCHOLOGIST, True),
    (Crossing(Kind.TE_VIEW), COORDINATOR, False),
    (Crossing(Kind.TE_VIEW), SW_MIKKELI, False),
    (Crossing(Kind.MUNICIPAL_VIEW, municipality="Mikkeli"), SW_MIKKELI, True),
    (Crossing(Kind.MUNICIPAL_VIEW, municipality="Mikkeli"), SW_HIRVENSALMI, False),
    (Crossing(Kind.MUNICIPAL_VIEW, municipality="Mäntyharju"), COORDINATOR, True),
    (Crossing(Kind.MUNICIPAL_VIEW, municipality="Mikkeli"), GUIDE, False),
    (Crossing(Kind.MUNICIPAL_VIEW, municipality="Mikkeli"), ADVISOR, False),
    (Crossing(Kind.HEALTH_DETAILS), NURSE, True),
    (Crossing(Kind.HEALTH_DETAILS), ADVISOR, False),
    (Crossing(Kind.HEALTH_DETAILS), COORDINATOR, False),
    (Crossing(Kind.AUDIT), AUDITOR, True),
    (Crossing(Kind.AUDIT), LEAD, False),
    (Crossing(Kind.INTAKE_QUEUE), ADVISOR, True),
    (Crossing(Kind.INTAKE_QUEUE), SECRETARY, True),
    (Crossing(Kind.INTAKE_QUEUE), NURSE, False),
    (Crossing(Kind.INTAKE_QUEUE), SW_MIKKELI, False),
]


@pytest.mark.parametrize(("crossing", "who", "allowed"), VIEWS)
@pytest.mark.parametrize("consents", ["in force", "none"])
def test_each_view_is_its_own_sides_whatever_the_consent(
    crossing: Crossing, who: Actor, allowed: bool, consents: str
) -> None:
    assert decide(who, crossing, client(consents), on=(LATER,)).allowed is allowed


@pytest.mark.parametrize(
    ("who", "consents", "allowed"),
    [
        (ADVISOR, "none", True),
        (SECRETARY, "none", True),
        (SW_MIKKELI, "in force", True),
        (SW_MIKKELI, "withdrawn", False),
        (SW_HIRVENSALMI, "in force", False),
        (STEERING, "in force", False),
    ],
)
def test_who_may_learn_that_a_person_is_a_client(who: Actor, consents: str, allowed: bool) -> None:
    assert may_learn_client_exists(who, client(consents), on=(LATER,)).allowed is allowed


def test_every_kind_of_crossing_has_a_rule() -> None:
    for kind in Kind:
        crossing = Crossing(kind, municipality="Mikkeli", recipient="social_services:mikkeli")
        assert decide(AUDITOR, crossing, client(), on=(LATER,), centre=CENTRE).reason
