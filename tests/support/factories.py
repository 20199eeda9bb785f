"""Valid events and requests for tests."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from contracts.base import Actor
from contracts.intake import ClientDetails, ClientReferred, ReferralSource

ADVISOR = Actor(person_id="advisor-1", role="employment_advisor", organisation="te-office")
HEADERS = {
    "X-Reitti-Person": "advisor-1",
    "X-Reitti-Role": "employment_advisor",
    "X-Reitti-Organisation": "te-office",
}


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
            first_name="Maija", last_name="Meikäläinen", personal_identity_code="010190-123A"
        ),
    )


def referral_request(source: str = "te_office", municipality: str = "Mikkeli") -> dict[str, Any]:
    body: dict[str, Any] = {
        "source": source,
        "municipality": municipality,
        "referral_date": "2010-03-01",
        "subsidy_days": 520,
        "client": {
            "first_name": "Maija",
            "last_name": "Meikäläinen",
            "personal_identity_code": "010190-123A",
        },
    }
    if source == "other":
        body["source_description"] = "school"
    return body
