"""The client's report of who has seen or received their data, projected from the
access log events (every read through any API) and from the disclosures Reitti makes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg
from pydantic import BaseModel

from contracts.audit import ClientDataAccessed
from contracts.base import EventBase
from contracts.guidance import FinalAssessmentIssued, TransferredToSocialServices
from contracts.subjects import organisation_slug
from runtime.db import quote_ident
from services.reporting.columns import columns_of

_INSERT = """
INSERT INTO {s}.access_report
    (event_id, client_id, kind, at, person_id, role, organisation, recipient, what, purpose)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::timestamptz[], $5::text[], $6::text[],
                     $7::text[], $8::text[], $9::text[], $10::text[])
ON CONFLICT DO NOTHING
"""
_REPORT = """
SELECT kind, at, person_id, role, organisation, recipient, what, purpose FROM {s}.access_report
WHERE client_id = $1 AND at >= $2 ORDER BY at, event_id
"""


class AccessEntry(BaseModel):
    kind: str
    at: datetime
    person_id: str
    role: str
    organisation: str
    recipient: str | None
    what: str
    purpose: str


class AccessReport:
    def __init__(self, schema: str) -> None:
        s = quote_ident(schema)
        self._insert = _INSERT.format(s=s)
        self._report = _REPORT.format(s=s)

    async def apply_batch(self, conn: asyncpg.Connection, events: Sequence[EventBase]) -> None:
        """Record the reads and disclosures among ``events``, in one statement."""
        rows: list[tuple[object, ...]] = []
        for event in events:
            entry = _entry(event)
            if entry is None:
                continue
            client_ids, kind, recipient, what, purpose = entry
            actor = event.actor
            rows.extend(
                (
                    event.event_id,
                    client_id,
                    kind,
                    event.occurred_at,
                    actor.person_id,
                    actor.role,
                    actor.organisation,
                    recipient,
                    what,
                    purpose,
                )
                for client_id in client_ids
            )
        if rows:
            await conn.execute(self._insert, *columns_of(rows))

    async def report(self, conn: asyncpg.Connection, client_id: str, since: datetime) -> list[AccessEntry]:
        return [AccessEntry.model_validate(dict(r)) for r in await conn.fetch(self._report, client_id, since)]


def _entry(event: EventBase) -> tuple[Sequence[str], str, str | None, str, str] | None:
    """What ``event`` adds to its clients' reports: (client ids, kind, recipient, what,
    purpose), or None."""
    if isinstance(event, ClientDataAccessed):
        return event.client_ids, "read", None, f"{event.what} ({event.service})", event.purpose
    if isinstance(event, FinalAssessmentIssued):
        return (
            [event.stream_id],
            "disclosure",
            "te-office",
            "final assessment for URA",
            "closure of the client relationship (Act 1369/2014 / Act 381/2023)",
        )
    if isinstance(event, TransferredToSocialServices):
        receiver = f"social_services:{organisation_slug(event.receiving_municipality)}"
        return (
            [event.stream_id],
            "disclosure",
            receiver,
            "transfer to rehabilitative work activity",
            "transfer under the client's consent (Act 189/2001)",
        )
    return None
