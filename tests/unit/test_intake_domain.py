"""Intake's pure domain: no servers."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from contracts.intake import ClientDetails, ClientReferred, ReferralSource
from services.intake import domain
from tests.support.factories import ADVISOR

NOW = datetime(2010, 6, 1, 9, 30, tzinfo=UTC)
DETAILS = ClientDetails(first_name="Matti", last_name="Virtanen", personal_identity_code="020285-111B")


def command(**changes: object) -> domain.RegisterReferral:
    values: dict[str, object] = dict(
        source=ReferralSource.SELF_REFERRAL,
        source_description=None,
        municipality="Puumala",
        referral_date=date(2010, 5, 31),
        subsidy_days=None,
        unemployment_months=14,
        client=DETAILS,
    )
    values.update(changes)
    return domain.RegisterReferral(**values)  # type: ignore[arg-type]


def ctx() -> domain.Context:
    return domain.Context(actor=ADVISOR, now=NOW, correlation_id=uuid.uuid4(), new_event_id=uuid.uuid4())


def test_registering_a_referral_emits_client_referred_as_the_first_event_of_the_stream() -> None:
    c = ctx()
    [event] = domain.register_referral(
        None, command(), client_id="client-1", municipalities=domain.DEFAULT_MUNICIPALITIES, ctx=c
    )
    assert isinstance(event, ClientReferred)
    assert (event.stream_id, event.stream_version, event.event_id) == ("client-1", 1, c.new_event_id)
    assert event.occurred_at.date() == date(2010, 5, 31)
    assert event.recorded_at == NOW
    assert event.actor == ADVISOR
    assert domain.fold([event]) == domain.IntakeCase("client-1", 1, ReferralSource.SELF_REFERRAL, "Puumala")


def test_a_client_already_referred_is_not_referred_again() -> None:
    state = domain.IntakeCase("client-1", 1, ReferralSource.TE_OFFICE, "Mikkeli")
    with pytest.raises(domain.AlreadyReferred):
        domain.register_referral(
            state, command(), client_id="client-1", municipalities=["Puumala"], ctx=ctx()
        )


def test_the_municipality_must_be_one_of_the_centres_and_the_set_is_configuration() -> None:
    with pytest.raises(domain.UnknownMunicipality, match="Helsinki"):
        domain.register_referral(
            None, command(municipality="Helsinki"), client_id="c", municipalities=["Puumala"], ctx=ctx()
        )
    [event] = domain.register_referral(
        None, command(municipality="Helsinki"), client_id="c", municipalities=["Helsinki"], ctx=ctx()
    )
    assert event.municipality == "Helsinki"  # type: ignore[attr-defined]


def test_a_referral_dated_in_the_future_is_refused() -> None:
    with pytest.raises(domain.DomainError, match="future"):
        domain.register_referral(
            None,
            command(referral_date=date(2010, 6, 2)),
            client_id="c",
            municipalities=["Puumala"],
            ctx=ctx(),
        )


def test_a_referral_from_another_source_needs_its_description() -> None:
    with pytest.raises(domain.DomainError, match="description"):
        domain.register_referral(
            None, command(source=ReferralSource.OTHER), client_id="c", municipalities=["Puumala"], ctx=ctx()
        )
