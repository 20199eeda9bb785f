"""The client's report of who has seen or received their data, projected from the
access log events (every read through any API) and from the disclosures Reitti makes:
the final assessment to the TE-office, a transfer to a municipality's social services,
and every copy of an event on a partner's feed, each with its recipient and legal basis.

Feed copies are decided from the events and the case after each (:func:`recipients`),
not from what the live service actually queued, so a replay rebuilds the same report."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

import asyncpg
from pydantic import BaseModel, Field

from contracts.audit import ClientDataAccessed
from contracts.base import Actor, EventBase
from contracts.guidance import FinalAssessmentIssued, TransferredToSocialServices
from contracts.subjects import social_services
from runtime.sql import SqlStatements
from services.disclosure.policy import Client, Crossing, Kind, decide
from services.reporting.columns import columns_of
from services.reporting.facts import CaseFacts
from services.reporting.feeds import copies


class AccessReportSql(SqlStatements):
    """The access report's statements (``access_report``)."""

    insert = """
INSERT INTO {schema}.access_report
    (event_id, client_id, kind, at, person_id, role, organisation, recipient, what, purpose,
     purpose_detail)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::timestamptz[], $5::text[], $6::text[],
                     $7::text[], $8::text[], $9::text[], $10::text[], $11::text[])
ON CONFLICT DO NOTHING
"""
    report = """
SELECT kind, at, person_id, role, organisation, recipient, what, purpose, purpose_detail
FROM {schema}.access_report
WHERE client_id = $1 AND at >= $2 ORDER BY at, event_id, recipient NULLS FIRST
"""


class AccessEntry(BaseModel):
    kind: Literal["read", "disclosure"] = Field(
        description="`read` (someone read the client's data) or `disclosure` (Reitti disclosed it)"
    )
    at: datetime = Field(description="When")
    person_id: str = Field(description="Who read, or whose act disclosed: a person's stable id")
    role: str = Field(description="That person's role")
    organisation: str = Field(description="That person's organisation")
    recipient: str | None = Field(
        description="For a disclosure: the organisation that received it; null for a read"
    )
    what: str = Field(description="What was read or disclosed, and by which service")
    purpose: str = Field(
        description="Why, as the reader gave it (X-Reitti-Purpose) or the disclosure's ground"
    )
    purpose_detail: str | None = Field(
        default=None, description="A read's purpose in the reader's words, if they gave them"
    )


class AccessReport:
    def __init__(self, schema: str) -> None:
        self.sql = AccessReportSql(schema)

    async def apply_batch(
        self, conn: asyncpg.Connection, events: Sequence[EventBase], facts: Sequence[CaseFacts | None]
    ) -> None:
        """Record the reads and disclosures among ``events`` (``facts``: each event's
        client's case after it), in one statement."""
        rows: list[tuple[object, ...]] = []
        for event, after in zip(events, facts, strict=True):
            rows.extend(
                (
                    event.event_id,
                    client_id,
                    kind,
                    event.occurred_at,
                    (actor or event.actor).person_id,
                    (actor or event.actor).role,
                    (actor or event.actor).organisation,
                    recipient,
                    what,
                    purpose,
                    event.purpose_detail if isinstance(event, ClientDataAccessed) else None,
                )
                for client_ids, kind, recipient, what, purpose, actor in _entries(event, after)
                for client_id in client_ids
            )
        if rows:
            await conn.execute(self.sql.insert, *columns_of(rows))

    async def report(self, conn: asyncpg.Connection, client_id: str, since: datetime) -> list[AccessEntry]:
        return [
            AccessEntry.model_validate(dict(r)) for r in await conn.fetch(self.sql.report, client_id, since)
        ]


#: who discloses a copy on a partner's feed: reporting, under the client's consent
FEEDS_ACTOR = Actor(person_id="system:partner-feeds", role="system", organisation="centre")

#: (client ids, kind, recipient, what, purpose, who; None: the event's actor)
Entry = tuple[Sequence[str], str, str | None, str, str, Actor | None]


def _entries(event: EventBase, facts: CaseFacts | None) -> list[Entry]:
    """What ``event`` adds to its clients' reports: one entry for each read or
    disclosure, one per recipient. A read or a transfer is its actor's; a copy on a
    partner's feed is the feeds' (:data:`FEEDS_ACTOR`)."""
    entries: list[Entry] = []
    if isinstance(event, ClientDataAccessed):
        entries.append(
            (event.client_ids, "read", None, f"{event.what} ({event.service})", event.purpose, None)
        )
    elif isinstance(event, TransferredToSocialServices):
        # The legal basis as the disclosure policy finds it in the case after the event:
        # the consent it was made under, or, if none was in force, that none was.
        receiver = social_services(event.receiving_municipality)
        client = (
            facts.disclosure_client() if facts is not None else Client(event.stream_id, event.municipality)
        )
        basis = decide(None, Crossing(Kind.FEED_COPY, recipient=receiver), client)
        under = f"under {basis.reason}" if basis.allowed else f"with no consent in force: {basis.reason}"
        entries.append(
            (
                [event.stream_id],
                "disclosure",
                receiver,
                "transfer to rehabilitative work activity",
                f"transfer (Act 189/2001) {under}",
                None,
            )
        )
    covered = {entry[2] for entry in entries}
    for organisation, decision in copies(event, facts):
        if organisation in covered or decision is None:
            continue  # the disclosure above is this copy's; a notice to erase discloses nothing
        final = isinstance(event, FinalAssessmentIssued)
        entries.append(
            (
                [event.stream_id],
                "disclosure",
                organisation,
                "final assessment for URA" if final else f"{event.event_type} on the partner feed",
                decision.reason,
                None if final else FEEDS_ACTOR,
            )
        )
    return entries
