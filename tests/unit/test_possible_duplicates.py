"""Possible duplicates in the pure domain, and the one rule of what a referral's answer
reveals: no servers."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from contracts.intake import (
    ClientDetails,
    ClientReferred,
    DuplicateReferralReceived,
    PossibleDuplicateReason,
    PossibleDuplicateResolution,
    PossibleDuplicateResolved,
    ReferralHeldAsPossibleDuplicate,
)
from services.intake.api.models import ReferralAccepted, ReferralReceipt
from services.intake.api.views import referral_answer
from services.intake.application import ReferralKind, Registered
from services.intake.domain import duplicates, referral
from services.intake.domain.errors import DomainError
from tests.unit.test_intake_domain import MUNICIPALITIES, ctx, referral_command, referred, then

OTHER_NAME = ClientDetails(first_name="Mikko", last_name="Korhonen", personal_identity_code="020285-111D")


def register(state, command, **kwargs):
    return referral.register_referral(
        state, command, client_id="client-new", municipalities=MUNICIPALITIES, ctx=ctx(), **kwargs
    )


def test_a_referral_with_a_known_code_and_another_name_is_held_and_not_written_on_the_case() -> None:
    state = referred()
    [event] = register(
        state, referral_command(client=OTHER_NAME, referral_date=date(2016, 5, 20)), held_id="client-h"
    )
    assert isinstance(event, ReferralHeldAsPossibleDuplicate)
    assert event.stream_id == "client-h" != state.client_id
    assert (event.reason, event.candidate_client_ids) == (
        PossibleDuplicateReason.SAME_CODE_OTHER_NAME,
        ("client-1",),
    )
    assert then(state, [event]).version == state.version, "the case is untouched"


def test_the_same_name_spelled_otherwise_is_the_same_person() -> None:
    state = referred()
    spelled = ClientDetails(first_name="MATTI", last_name=" virtanen", personal_identity_code="020285-111D")
    [event] = register(
        state, referral_command(client=spelled, referral_date=date(2016, 5, 20)), held_id="client-h"
    )
    assert isinstance(event, DuplicateReferralReceived) and event.stream_id == "client-1"


def test_a_new_code_with_a_known_clients_name_and_birth_date_is_held_with_the_candidates() -> None:
    [event] = register(None, referral_command(), held_id="client-h", look_alikes=["client-7", "client-8"])
    assert isinstance(event, ReferralHeldAsPossibleDuplicate)
    assert event.reason is PossibleDuplicateReason.SAME_NAME_AND_BIRTH_DATE
    assert event.candidate_client_ids == ("client-7", "client-8")
    [opened] = register(None, referral_command(), held_id="client-h")
    assert isinstance(opened, ClientReferred), "no look-alikes: a new case"


def test_a_referral_held_before_is_not_held_again() -> None:
    assert register(None, referral_command(), held_id="h", look_alikes=["client-7"], already_held=True) == []
    assert register(referred(), referral_command(client=OTHER_NAME), held_id="h", already_held=True) == []


def held(
    reason: PossibleDuplicateReason, candidates: tuple[str, ...] = ("client-1",)
) -> duplicates.HeldReferral:
    command = referral_command(client=OTHER_NAME, referral_date=date(2016, 5, 20))
    look_alikes = () if reason is PossibleDuplicateReason.SAME_CODE_OTHER_NAME else candidates
    state = referred() if reason is PossibleDuplicateReason.SAME_CODE_OTHER_NAME else None
    events = register(state, command, held_id="client-h", look_alikes=look_alikes)
    found = duplicates.fold_held(events)
    assert found is not None
    return found


def resolve(
    h: duplicates.HeldReferral, resolution: PossibleDuplicateResolution, client_id: str | None = None
):
    case = referred() if client_id == "client-1" else None
    return duplicates.resolve(
        h, resolution, client_id=client_id, case=case, new_client_id="client-n", ctx=ctx()
    )


def test_the_same_person_records_the_referral_on_the_candidates_case() -> None:
    decided = resolve(
        held(PossibleDuplicateReason.SAME_NAME_AND_BIRTH_DATE),
        PossibleDuplicateResolution.SAME_PERSON,
        "client-1",
    )
    [on_case] = decided.case_events
    assert isinstance(on_case, DuplicateReferralReceived)
    assert (decided.case_id, on_case.stream_id, on_case.referral_date) == (
        "client-1",
        "client-1",
        date(2016, 5, 20),
    )
    [resolved] = decided.held_events
    assert isinstance(resolved, PossibleDuplicateResolved) and resolved.stream_id == "client-h"


def test_the_same_person_must_be_one_of_the_candidates() -> None:
    with pytest.raises(DomainError, match="one of the candidates"):
        resolve(
            held(PossibleDuplicateReason.SAME_CODE_OTHER_NAME),
            PossibleDuplicateResolution.SAME_PERSON,
            "client-9",
        )


def test_different_people_open_a_case_of_their_own_when_the_code_was_new() -> None:
    decided = resolve(
        held(PossibleDuplicateReason.SAME_NAME_AND_BIRTH_DATE), PossibleDuplicateResolution.DIFFERENT_PEOPLE
    )
    [opened] = decided.case_events
    assert isinstance(opened, ClientReferred) and (opened.stream_id, opened.stream_version) == ("client-n", 1)
    assert opened.client == OTHER_NAME


def test_different_people_dismiss_a_referral_whose_code_is_another_clients() -> None:
    decided = resolve(
        held(PossibleDuplicateReason.SAME_CODE_OTHER_NAME), PossibleDuplicateResolution.DIFFERENT_PEOPLE
    )
    assert (decided.case_id, decided.case_events) == (None, [])
    [resolved] = decided.held_events
    assert isinstance(resolved, PossibleDuplicateResolved) and resolved.client_id is None


def test_a_resolved_possible_duplicate_cannot_be_resolved_again() -> None:
    h = held(PossibleDuplicateReason.SAME_CODE_OTHER_NAME)
    decided = resolve(h, PossibleDuplicateResolution.DIFFERENT_PEOPLE)
    again = duplicates.fold_held([h.held, *decided.held_events])
    assert again is not None
    with pytest.raises(DomainError, match="already resolved"):
        resolve(again, PossibleDuplicateResolution.SAME_PERSON, "client-1")


def registered(kind: ReferralKind, client_id: str | None) -> Registered:
    return Registered(f"referral-{uuid.uuid4()}", kind, client_id, 1 if client_id else None, [])


@pytest.mark.parametrize("kind", list(ReferralKind))
def test_a_caller_who_may_not_read_the_client_gets_the_same_answer_whatever_happened(
    kind: ReferralKind,
) -> None:
    answer = registered(kind, None if kind is ReferralKind.POSSIBLE_DUPLICATE else "client-1")
    code, body = referral_answer(answer, may_read_client=False)
    assert code == 202 and isinstance(body, ReferralReceipt)
    assert body.model_dump() == {"referral_id": answer.referral_id, "status": "received"}


def test_a_caller_who_may_read_the_client_is_told_what_happened() -> None:
    codes = {}
    for kind in ReferralKind:
        code, body = referral_answer(registered(kind, "client-1"), may_read_client=True)
        assert isinstance(body, ReferralAccepted) and body.outcome is kind
        codes[kind] = code
    assert codes[ReferralKind.NEW_CASE] == 201 and codes[ReferralKind.POSSIBLE_DUPLICATE] == 202


def test_different_people_record_the_referral_on_the_case_its_code_has_by_now() -> None:
    h = held(PossibleDuplicateReason.SAME_NAME_AND_BIRTH_DATE)
    own = referred(
        client=OTHER_NAME, referral_date=date(2016, 5, 2)
    )  # another referral of it, resolved first
    decided = duplicates.resolve(
        h,
        PossibleDuplicateResolution.DIFFERENT_PEOPLE,
        client_id=None,
        case=None,
        new_client_id="client-n",
        ctx=ctx(),
        own_case=own,
    )
    [recorded] = decided.case_events
    assert isinstance(recorded, DuplicateReferralReceived)
    assert (decided.case_id, recorded.stream_id, recorded.stream_version) == (own.client_id, own.client_id, 2)
