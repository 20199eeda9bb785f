"""Valid events and requests for tests."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

from contracts.base import Actor, EventBase
from contracts.intake import AssessmentArea, ClientDetails, ClientReferred, ReferralSource
from services.intake.identity import CHECK_CHARACTERS as CHECK
from tests.support.auth import headers

ADVISOR = Actor(person_id="advisor-1", role="employment_advisor", organisation="te-office")
HEADERS = headers("employment_advisor", "advisor-1", "te-office")

E = TypeVar("E", bound=EventBase)


def of_kind(kind: type[E], event: EventBase) -> E:
    """``event`` as the kind the test knows it is (a store or a decoder gives an ``EventBase``):
    checked, so a wrong kind fails the test by name."""
    assert isinstance(event, kind), f"{type(event).__name__} is not a {kind.__name__}"
    return event


def client_referred(
    stream_id: str | None = None,
    version: int = 1,
    *,
    source: ReferralSource = ReferralSource.TE_OFFICE,
    municipality: str = "Mikkeli",
    referral_date: date = date(2010, 3, 1),
) -> ClientReferred:
    now = datetime.now(UTC)
    return ClientReferred(
        event_id=uuid.uuid4(),
        stream_id=stream_id or f"client-{uuid.uuid4()}",
        stream_version=version,
        occurred_at=now,
        recorded_at=now,
        actor=ADVISOR,
        correlation_id=uuid.uuid4(),
        source=source,
        source_description="school" if source is ReferralSource.OTHER else None,
        municipality=municipality,
        referral_date=referral_date,
        subsidy_days=520,
        unemployment_months=30,
        client=ClientDetails(
            first_name="Maija", last_name="Meikäläinen", personal_identity_code="010190-123M"
        ),
    )


#: the six areas of the service-needs assessment, as the contract names them
AREAS = tuple(area.value for area in AssessmentArea)

_ISSUED: set[str] = set()
_BORN: set[date] = set()


def identity_code(born: date | None = None) -> str:
    """A valid, random personal identity code (for tests; no real person's), never the same
    twice in a test run: two clients who happened to share one would be one client. A
    random birth date is not repeated either (while there are days left): the factories'
    clients share a name, and the same name and birth date under another code is a
    possible duplicate, held for the intake advisor."""
    while True:
        day = born or date(1960, 1, 1) + timedelta(days=random.randrange(0, 40 * 365))
        if born is None and day in _BORN and len(_BORN) < 10_000:
            continue
        century = {18: "+", 19: "-", 20: "A"}[day.year // 100]
        number = random.randrange(2, 900)
        base = f"{day:%d%m}{day.year % 100:02d}"
        code = f"{base}{century}{number:03d}" + CHECK[int(f"{base}{number:03d}") % 31]
        if code not in _ISSUED:
            _ISSUED.add(code)
            _BORN.add(day)
            return code


def referral_request(
    source: str = "te_office", municipality: str = "Mikkeli", *, code: str | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "source": source,
        "municipality": municipality,
        "referral_date": "2010-03-01",
        "subsidy_days": 520,
        "client": {
            "first_name": "Maija",
            "last_name": "Meikäläinen",
            "personal_identity_code": code or identity_code(),
        },
    }
    if source == "other":
        body["source_description"] = "school"
    return body
