"""The steering group's own inputs projected as they come (ohjausryhmä): referral counts
by year, municipality and source, and the intake target settings. SQL is in plain sight;
``{schema}`` is the projection's schema."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence

import asyncpg

from contracts.base import EventBase
from contracts.envelope import CloudEventEnvelope
from contracts.intake import ClientReferred, IntakeTargetSet
from runtime.db import apply_migrations
from runtime.sql import SqlStatements
from services.reporting.columns import columns_of
from services.reporting.schema import MIGRATIONS

_COUNT_REFERRALS = """
INSERT INTO {schema}.referrals_by_source (year, municipality, source, referred)
SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::int[])
ON CONFLICT (year, municipality, source)
DO UPDATE SET referred = {schema}.referrals_by_source.referred + excluded.referred
"""

_BY_SOURCE = """
SELECT source, sum(referred)::int AS referred FROM {schema}.referrals_by_source
WHERE ($1::int IS NULL OR year = $1) AND ($2::text IS NULL OR municipality = $2)
GROUP BY source ORDER BY source
"""

_SNAPSHOT = "SELECT year, municipality, source, referred FROM {schema}.referrals_by_source ORDER BY 1, 2, 3"


class ReferralSql(SqlStatements):
    """The referral counts' statements (lähetteet), formatted once per schema."""

    count = _COUNT_REFERRALS
    by_source = _BY_SOURCE
    snapshot = _SNAPSHOT


class ReferralStatistics:
    """Referred clients by year, municipality and referral source: aggregates only, no
    personal data (the steering group's view). Standing alone (the thin slice, or a
    replay of the counts), it is never given the clients' keys."""

    name = "reporting"
    #: data minimisation: personal fields reach it as [erased] (runtime/consumer.py)
    reads_personal_data = False

    def __init__(self, schema: str = "reporting") -> None:
        self.schema = schema
        self.sql = ReferralSql(schema)

    async def create(self, conn: asyncpg.Connection) -> None:
        await apply_migrations(conn, self.schema, MIGRATIONS)

    async def apply(self, conn: asyncpg.Connection, event: EventBase, envelope: CloudEventEnvelope) -> None:
        await self.apply_batch(conn, [(event, envelope)])

    async def apply_batch(
        self, conn: asyncpg.Connection, items: Sequence[tuple[EventBase, CloudEventEnvelope]]
    ) -> None:
        """Count a whole batch of referrals in one statement."""
        counts = Counter(
            (event.referral_date.year, event.municipality, event.source.value)
            for event, _ in items
            if isinstance(event, ClientReferred)
        )
        if counts:
            await conn.execute(self.sql.count, *columns_of([(*key, n) for key, n in counts.items()]))

    async def referrals_by_source(
        self, conn: asyncpg.Connection, *, year: int | None = None, municipality: str | None = None
    ) -> dict[str, int]:
        rows = await conn.fetch(self.sql.by_source, year, municipality)
        return {r["source"]: r["referred"] for r in rows}

    async def snapshot(self, conn: asyncpg.Connection) -> list[tuple[object, ...]]:
        """Every row, ordered: two projections are equal when their snapshots are."""
        return [tuple(r) for r in await conn.fetch(self.sql.snapshot)]


_INSERT_TARGETS = """
INSERT INTO {schema}.intake_targets (year, stream_version, set_on, target, municipalities, event_id)
SELECT year, stream_version, set_on, target, municipalities::jsonb, event_id
FROM unnest($1::int[], $2::int[], $3::date[], $4::int[], $5::text[], $6::uuid[])
    AS u(year, stream_version, set_on, target, municipalities, event_id)
ON CONFLICT DO NOTHING
"""


class IntakeTargetSql(SqlStatements):
    """The intake target settings' statement (asiakastavoite), formatted once per schema."""

    insert = _INSERT_TARGETS


class IntakeTargets:
    """The steering group's intake target settings (*asiakastavoite*), each as set: which
    is in force on a day is :func:`services.reporting.figures.target_in_force`."""

    def __init__(self, schema: str) -> None:
        self.sql = IntakeTargetSql(schema)

    async def apply_batch(
        self, conn: asyncpg.Connection, items: Sequence[tuple[EventBase, CloudEventEnvelope]]
    ) -> None:
        rows = [
            (
                e.year,
                e.stream_version,
                e.set_on,
                e.target,
                None if e.municipalities is None else json.dumps(e.municipalities, sort_keys=True),
                e.event_id,
            )
            for e, _ in items
            if isinstance(e, IntakeTargetSet)
        ]
        if rows:
            await conn.execute(self.sql.insert, *columns_of(rows))
