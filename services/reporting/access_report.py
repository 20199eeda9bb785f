"""The client's report of who has seen or received their data, projected from the
access log events (every read through any API) and from the disclosures Reitti makes."""

from __future__ import annotations

from datetime import datetime

import asyncpg
from pydantic import BaseModel

from contracts.audit import ClientDataAccessed
from contracts.base import EventBase
from contracts.guidance import FinalAssessmentIssued, TransferredToSocialServices
from contracts.subjects import organisation_slug
from runtime.db import quote_ident

_INSERT = """
INSERT INTO {s}.access_report
    (event_id, client_id, kind, at, person_id, role, organisation, recipient, what, purpose)
SELECT $1, unnest($2::text[]), $3, $4, $5, $6, $7, $8, $9, $10
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

    async def apply(self, conn: asyncpg.Connection, event: EventBase) -> None:
        actor = event.actor
        row: tuple[list[str], str, str | None, str, str] | None = None  # ids, kind, recipient, what, purpose
        if isinstance(event, ClientDataAccessed):
            row = (list(event.client_ids), "read", None, f"{event.what} ({event.service})", event.purpose)
        elif isinstance(event, FinalAssessmentIssued):
            row = (
                [event.stream_id],
                "disclosure",
                "te-office",
                "final assessment for URA",
                "closure of the client relationship (Act 1369/2014 / Act 381/2023)",
            )
        elif isinstance(event, TransferredToSocialServices):
            receiver = f"social_services:{organisation_slug(event.receiving_municipality)}"
            row = (
                [event.stream_id],
                "disclosure",
                receiver,
                "transfer to rehabilitative work activity",
                "transfer under the client's consent (Act 189/2001)",
            )
        if row is None:
            return
        ids, kind, recipient, what, purpose = row
        await conn.execute(
            self._insert,
            event.event_id,
            ids,
            kind,
            event.occurred_at,
            actor.person_id,
            actor.role,
            actor.organisation,
            recipient,
            what,
            purpose,
        )

    async def report(self, conn: asyncpg.Connection, client_id: str, since: datetime) -> list[AccessEntry]:
        return [AccessEntry.model_validate(dict(r)) for r in await conn.fetch(self._report, client_id, since)]
