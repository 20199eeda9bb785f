"""Strict parsing of request bodies: every date field of intake's and guidance's bodies is
an ISO date, every instant an ISO timestamp with its offset, a count a JSON number and a
yes-or-no a JSON boolean. Pydantic's lax mode read `0` and `46388` as days of 1970, a
timestamp as its day, `true` as 1 and `1` as true; each is now a 422 naming the field,
and nothing is written. The same body with a good value is not a 422, so it is the one
field that was refused."""

from __future__ import annotations

import copy
import dataclasses
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from services.guidance.app import create_app as guidance_app
from services.intake.app import create_app as intake_app
from tests.support.apps import running
from tests.support.auth import headers
from tests.support.closures import GUIDE_1, proposal
from tests.support.factories import AREAS, HEADERS, referral_request

pytestmark = pytest.mark.integration

DAY = "2026-03-02"
INSTANT = "2030-03-01T10:00:00+02:00"
#: what lax parsing took for a date: the epoch, an Excel day number, a timestamp
NOT_DATES: tuple[Any, ...] = (0, 46388, "46388", "2010-03-01T00:00:00")
#: what lax parsing took for an instant: seconds since the epoch, and a day without a time
NOT_INSTANTS: tuple[Any, ...] = (0, 46388, "46388", "2030-03-01")
NURSE = headers("nurse", "nurse-1", "mikkeli")
SOCIAL_WORKER = headers("social_worker", "sw-1", "social_services:mikkeli")
ASSESSORS = [
    {"person_id": "advisor-1", "role": "employment_advisor", "organisation": "te-office"},
    {"person_id": "sw-1", "role": "social_worker", "organisation": "social_services:mikkeli"},
]


@dataclass(frozen=True)
class Case:
    """One field of one body: where it is sent, a valid body, the field's path in it."""

    path: str
    body: Callable[[], dict[str, Any]]
    field: tuple[str | int, ...]
    good: Any
    who: dict[str, str] = dataclasses.field(default_factory=lambda: dict(HEADERS))

    def __str__(self) -> str:
        return f"{self.path} {'.'.join(map(str, self.field))}"


def set_at(body: dict[str, Any], path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(body)
    target: Any = changed
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return changed


def names(field: tuple[str | int, ...], text: str) -> bool:
    """Whether the error text names the field (as a word: `end` is not `send`)."""
    return re.search(rf"(?<![A-Za-z_]){re.escape(str(field[-1]))}(?![A-Za-z_])", text) is not None


def assessment() -> dict[str, Any]:
    return {
        "assessed_on": DAY,
        "capacity_allows_rehabilitative_work": True,
        "profile": "centre",
        "ministry_segment": 3,
        "route": "individual_service_guidance",
        "assessors": ASSESSORS[:1],
        "findings": [{"area": a, "support_need": "some"} for a in AREAS],
    }


def session() -> dict[str, Any]:
    return {"starts_at": INSTANT, "place": "TYP Reitti, meeting room 2", "capacity": 10}


def attendance() -> dict[str, Any]:
    return {"session_id": "info-session-x", "attended": True, "attended_on": "2026-03-10"}


def plan() -> dict[str, Any]:
    measure = {"measure_id": "m1", "kind": "work_try_out", "provider": "Vartti", "start": DAY, "end": DAY}
    return {"revised_on": DAY, "measures": [measure], "review": False}


def transfer() -> dict[str, Any]:
    terms = {"start": DAY, "months": 6, "days_per_week": 4, "hours_per_day": 6, "place": "Vartti"}
    return {"transferred_on": DAY, "activation_plan": terms, "relationship_stays_open": True}


def closure() -> dict[str, Any]:
    return {
        "closed_on": DAY,
        "outcome": "education",
        "services_continue": "te_office",
        "final_assessment": {
            "text": "Starts vocational school.",
            "work_ability_clarified": True,
            "competence_improved": True,
        },
        "joint_decision": {
            "decided_on": DAY,
            "te_office_person_id": "advisor-1",
            "municipality_person_id": "sw-1",
            "kela_person_id": "kela-1",
        },
    }


def intake_cases() -> list[Case]:
    client = "/clients/{client}"
    return [
        Case("/referrals", referral_request, ("referral_date",), DAY),
        Case(
            f"{client}/consents", lambda: {"scopes": ["move_to_centre"], "given_on": DAY}, ("given_on",), DAY
        ),
        Case(
            f"{client}/consents/consent-x/withdrawal", lambda: {"withdrawn_on": DAY}, ("withdrawn_on",), DAY
        ),
        Case(f"{client}/assessment", assessment, ("assessed_on",), DAY),
        Case(f"{client}/info-session-attendance", attendance, ("attended_on",), DAY),
        Case("/info-sessions", session, ("starts_at",), INSTANT),
        Case(
            f"{client}/assessment-appointment",
            lambda: {"appointment_at": INSTANT, "assessor_person_id": "advisor-1"},
            ("appointment_at",),
            INSTANT,
        ),
    ]


def guidance_cases() -> list[Case]:
    case = "/cases/{client}"
    transfer_url = f"{case}/transfers/transfer-x"
    reassessment = {
        "reassessed_on": DAY,
        "assessors": ASSESSORS,
        "route": "job_search_services",
        "reason": "stalled",
    }
    health = {
        "checked_on": DAY,
        "work_restrictions_found": False,
        "recommended_next_step": "none",
        "details": "fine",
    }
    return [
        Case(
            f"{case}/guide", lambda: {"guide_person_id": "guide-1", "assigned_on": DAY}, ("assigned_on",), DAY
        ),
        Case(
            f"{case}/phase", lambda: {"phase": "survey_and_research", "changed_on": DAY}, ("changed_on",), DAY
        ),
        Case(f"{case}/plan", plan, ("revised_on",), DAY),
        Case(f"{case}/plan", plan, ("measures", 0, "start"), DAY),
        # Started long before 1970, so a lax reading of the end (1970, 2010) is no earlier
        # than the start, and only the end's own type can refuse it.
        Case(
            f"{case}/plan",
            lambda: set_at(plan(), ("measures", 0, "start"), "1960-01-01"),
            ("measures", 0, "end"),
            DAY,
        ),
        Case(f"{case}/health-check", lambda: dict(health), ("checked_on",), DAY, NURSE),
        Case(f"{case}/transfers", transfer, ("transferred_on",), DAY),
        Case(f"{case}/transfers", transfer, ("activation_plan", "start"), DAY),
        Case(
            f"{transfer_url}/acknowledgement",
            lambda: {"accepted": True, "acknowledged_on": DAY},
            ("acknowledged_on",),
            DAY,
            SOCIAL_WORKER,
        ),
        Case(f"{transfer_url}/return", lambda: {"returned_on": DAY}, ("returned_on",), DAY, SOCIAL_WORKER),
        Case(f"{case}/reassessment", lambda: dict(reassessment), ("reassessed_on",), DAY),
        Case(f"{case}/closure-proposal", proposal, ("proposed_on",), DAY, GUIDE_1),
        Case(f"{case}/closure", closure, ("closed_on",), DAY),
        Case(f"{case}/closure", closure, ("joint_decision", "decided_on"), DAY),
    ]


#: a boolean where a number is meant, and a number (or a word) where a boolean is
NOT_NUMBERS: tuple[Any, ...] = (True, False)
NOT_FLAGS: tuple[Any, ...] = (1, 0, "true", "yes")


def intake_kinds() -> list[tuple[Case, tuple[Any, ...]]]:
    client = "/clients/{client}"
    return [
        (Case("/referrals", referral_request, ("unemployment_months",), 12), NOT_NUMBERS),
        (Case("/info-sessions", session, ("capacity",), 10), NOT_NUMBERS),
        (Case(f"{client}/assessment", assessment, ("ministry_segment",), 2), NOT_NUMBERS),
        (Case(f"{client}/assessment", assessment, ("capacity_allows_rehabilitative_work",), True), NOT_FLAGS),
        (Case(f"{client}/info-session-attendance", attendance, ("attended",), True), NOT_FLAGS),
        (
            Case(
                f"{client}/legal-hold",
                lambda: {"hold": True},
                ("hold",),
                True,
                headers("service_coordinator", "coord-1", "centre"),
            ),
            NOT_FLAGS,
        ),
    ]


def guidance_kinds() -> list[tuple[Case, tuple[Any, ...]]]:
    case = "/cases/{client}"
    return [
        (Case(f"{case}/transfers", transfer, ("activation_plan", "months"), 6), NOT_NUMBERS),
        (Case(f"{case}/transfers", transfer, ("activation_plan", "days_per_week"), 4), NOT_NUMBERS),
        (Case(f"{case}/transfers", transfer, ("relationship_stays_open",), True), NOT_FLAGS),
        (Case(f"{case}/plan", plan, ("review",), True), NOT_FLAGS),
        (Case(f"{case}/closure", closure, ("final_assessment", "work_ability_clarified"), True), NOT_FLAGS),
    ]


async def events(pool: Any, schema: str) -> int:
    async with pool.acquire() as conn:
        count: int = await conn.fetchval(f"SELECT count(*) FROM {schema}.events")
        return count


async def refused_then_accepted(
    client: Any, pool: Any, schema: str, case: Case, bad: tuple[Any, ...], url: str
) -> None:
    before = await events(pool, schema)
    for value in bad:
        response = await client.post(url, json=set_at(case.body(), case.field, value), headers=case.who)
        assert response.status_code == 422, f"{value!r}: {response.status_code} {response.text}"
        assert names(case.field, response.text), response.text
    assert await events(pool, schema) == before, "a refused body wrote nothing"
    # The control: the same body with a good value passes validation (it may still be
    # refused by a rule or find no case, but not as a 422), so the field above was the one.
    control = await client.post(url, json=set_at(case.body(), case.field, case.good), headers=case.who)
    assert control.status_code != 422, control.text


async def a_client(intake: Any) -> str:
    response = await intake.post("/referrals", json=referral_request(), headers=HEADERS)
    assert response.status_code == 201, response.text
    client_id: str = response.json()["client_id"]
    return client_id


@pytest.mark.parametrize(
    ("case", "bad"),
    [(c, NOT_INSTANTS if c.good == INSTANT else NOT_DATES) for c in intake_cases()] + intake_kinds(),
    ids=lambda v: str(v) if isinstance(v, Case) else "bad",
)
async def test_intake_refuses_a_body_field_of_the_wrong_kind(settings, pool, case: Case, bad) -> None:
    async with running(intake_app(settings)) as intake:
        url = case.path.format(client=await a_client(intake))
        await refused_then_accepted(intake, pool, "intake", case, bad, url)


@pytest.mark.parametrize(
    ("case", "bad"),
    [(c, NOT_DATES) for c in guidance_cases()] + guidance_kinds(),
    ids=lambda v: str(v) if isinstance(v, Case) else "bad",
)
async def test_guidance_refuses_a_body_field_of_the_wrong_kind(settings, pool, case: Case, bad) -> None:
    async with running(guidance_app(settings)) as guidance:
        url = case.path.format(client=f"client-{uuid.uuid4()}")
        await refused_then_accepted(guidance, pool, "guidance", case, bad, url)
