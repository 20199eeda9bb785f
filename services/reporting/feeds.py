"""Consent-gated feeds for partner organisations (architecture decision 7).

Reporting knows, for each client, which consents are in force. When it applies an event
it also queues, in the same transaction, a copy for each partner that may see it: the
TE-office gets the final assessment for URA; a municipality's social services get their
residents' referral, route, case and transfer events while a consent in force names
them (the disclosure policy decides, docs/adr/0018). Health events never go on a feed.
The copies wait in an outbox of their own and a relay publishes them to
``<ns>.feeds.<org>.<EventType>`` (the partner's own NATS account reads only that;
docs/adr/0009). Withdrawing consent stops further copies; what a partner
already received stays with the partner and is in the client's access report. When the
client's personal data is erased, every organisation that may hold some of it is sent
``ClientDataErased`` (which carries none), to erase its copies too.

Replay rebuilds projections without a publisher, so a rebuild never sends anything again.

The copies wait sealed (docs/adr/0020): each is the event's envelope with its personal
fields sealed under the client's key, as in the event store. The relay reveals them just
before the publish (:func:`runtime.sealing.reveal_payloads`), so the partner reads them
and the outbox never holds them in plaintext. A client erased before the relay gets to
its copy is sent ``[erased]``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence

import asyncpg

from contracts.base import EventBase
from contracts.envelope import CloudEventEnvelope
from contracts.guidance import (
    ClientRelationshipClosed,
    FinalAssessmentIssued,
    GuidanceCaseOpened,
    ReturnedFromSocialServices,
    TransferAcknowledged,
    TransferredToSocialServices,
)
from contracts.intake import AssessmentCompleted, ClientDataErased, ClientReferred, ConsentScope
from contracts.names import TE_OFFICE
from contracts.subjects import social_services
from runtime.broker_access import feed_subject
from runtime.erasure import fetch_keys, seal_in_place
from runtime.sql import SqlStatements
from services.disclosure.policy import Client, Crossing, Decision, Kind, decide
from services.reporting.columns import columns_of
from services.reporting.facts import CaseFacts

FEEDS_SCHEMA = "reporting_feeds"
#: What a municipality's social services may receive of their residents, under consent.
MUNICIPAL_FEED = (
    ClientReferred,
    AssessmentCompleted,
    GuidanceCaseOpened,
    TransferredToSocialServices,
    TransferAcknowledged,
    ReturnedFromSocialServices,
    ClientRelationshipClosed,
)


class FeedSql(SqlStatements):
    """The partner feeds' statements on their own schema (outbox and erasures)."""

    # One message per partner and event, whatever is retried: the message id is derived.
    queue = """
INSERT INTO {schema}.outbox (event_id, subject, payload)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::bytea[])
ON CONFLICT DO NOTHING
"""
    erasures = """
INSERT INTO {schema}.erasures (client_id) SELECT * FROM unnest($1::text[]) ON CONFLICT DO NOTHING
"""


def recipients(event: EventBase, facts: CaseFacts | None) -> list[str]:
    """The partner organisations that may receive ``event``, given the case after it."""
    return [organisation for organisation, _ in copies(event, facts)]


def copies(event: EventBase, facts: CaseFacts | None) -> list[tuple[str, Decision | None]]:
    """Each partner that receives ``event`` with the disclosure policy's decision (its
    legal basis); a notice of erasure carries no personal data and needs none (None)."""
    if isinstance(event, FinalAssessmentIssued):
        client = Client(event.stream_id, event.municipality)
        return [(TE_OFFICE, decide(None, Crossing(Kind.FINAL_ASSESSMENT), client))]
    if isinstance(event, ClientDataErased):
        return [(organisation, None) for organisation in told_of_erasure(facts)]
    if facts is None or not isinstance(event, MUNICIPAL_FEED):
        return []
    client = facts.disclosure_client()
    involved = [facts.municipality, *(t.receiving_municipality for t in facts.transfers)]
    decided = (
        (org, decide(None, Crossing(Kind.FEED_COPY, recipient=org), client))
        for org in dict.fromkeys(social_services(m) for m in involved)
    )
    return [(org, decision) for org, decision in decided if decision.allowed]


def told_of_erasure(facts: CaseFacts | None) -> list[str]:
    """Who is sent ``ClientDataErased`` (no personal data in it), so that they erase their
    copies too: the client's municipalities' social services (home, and those of
    transfers) that a consent ever named for disclosure, withdrawn or not, as only they
    can have received copies; and the TE-office once the relationship closed (it received
    the final assessment)."""
    if facts is None:
        return []
    scope = ConsentScope.DISCLOSURE_TO_ORGANISATIONS.value
    named = {org for c in facts.consents if scope in c.scopes for org in c.organisations}
    involved = [facts.municipality, *(t.receiving_municipality for t in facts.transfers)]
    told = [org for org in dict.fromkeys(social_services(m) for m in involved) if org in named]
    if facts.closed_on is not None:
        told.append(TE_OFFICE)
    return told


class FeedPublisher:
    def __init__(
        self, namespace: str, *, schema: str = FEEDS_SCHEMA, on_queue: Callable[[], None] | None = None
    ):
        self._namespace = namespace
        self.sql = FeedSql(schema)
        self._on_queue = on_queue

    async def queue(
        self,
        conn: asyncpg.Connection,
        items: Sequence[tuple[EventBase, CloudEventEnvelope, CaseFacts | None]],
    ) -> None:
        """Queue, in one statement inside the consumer's transaction, a copy of each event
        for each partner that may see it, given its client's case after it (``facts``)."""
        messages: list[tuple[uuid.UUID, str, bytes]] = []
        erased = [event.stream_id for event, _, _ in items if isinstance(event, ClientDataErased)]
        if erased:
            # Our copy of the client's feed messages goes once these are published (ADR 0021).
            await conn.execute(self.sql.erasures, erased)
        sending = [
            (event, envelope, sent) for event, envelope, facts in items if (sent := recipients(event, facts))
        ]
        keys = await fetch_keys(conn, {event.stream_id for event, _, _ in sending})
        for event, envelope, sent in sending:
            # The partner gets the event readable: it cannot hold our clients' keys. What a
            # partner received stays with the partner (docs/adr/0010, 0011). It waits here
            # sealed; the relay reveals it (docs/adr/0020).
            data = event.data()
            seal_in_place(event, data, keys.get(event.stream_id))
            payload = CloudEventEnvelope.wrap(event, source=envelope.source, data=data).to_bytes()
            messages.extend(
                (
                    uuid.uuid5(event.event_id, org),
                    feed_subject(self._namespace, org, event.event_type, event.stream_id),
                    payload,
                )
                for org in sent
            )
        if not messages:
            return
        await conn.execute(self.sql.queue, *columns_of(messages))
        if self._on_queue is not None:
            self._on_queue()
