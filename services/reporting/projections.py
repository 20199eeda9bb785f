"""Reporting's read models. SQL is in plain sight; ``{s}`` is the projection's schema,
so replay can build the same projection into a fresh schema."""

from __future__ import annotations

import asyncpg

from contracts.base import EventBase
from contracts.envelope import CloudEventEnvelope
from contracts.intake import ClientReferred
from runtime.db import Migration, apply_migrations, consumer_tracking_migrations, quote_ident

_COUNT_REFERRAL = """
INSERT INTO {s}.referrals_by_source (year, municipality, source, referred)
VALUES ($1, $2, $3, 1)
ON CONFLICT (year, municipality, source)
DO UPDATE SET referred = {s}.referrals_by_source.referred + 1
"""

_BY_SOURCE = """
SELECT source, sum(referred)::int AS referred FROM {s}.referrals_by_source
WHERE ($1::int IS NULL OR year = $1) AND ($2::text IS NULL OR municipality = $2)
GROUP BY source ORDER BY source
"""

_SNAPSHOT = "SELECT year, municipality, source, referred FROM {s}.referrals_by_source ORDER BY 1, 2, 3"


#: The projection's tables and the consumer tracking beside them, so a replay target
#: schema is complete on its own.
MIGRATIONS = [
    *consumer_tracking_migrations(),
    Migration.from_package("services.reporting.migrations", "0001_referral_statistics.sql"),
]


class ReferralStatistics:
    """Referred clients by year, municipality and referral source: aggregates only, no
    personal data (the steering group's view)."""

    name = "reporting"

    def __init__(self, schema: str = "reporting") -> None:
        self.schema = schema
        s = quote_ident(schema)
        self._count = _COUNT_REFERRAL.format(s=s)
        self._by_source = _BY_SOURCE.format(s=s)
        self._snapshot = _SNAPSHOT.format(s=s)

    async def create(self, conn: asyncpg.Connection) -> None:
        await apply_migrations(conn, self.schema, MIGRATIONS)

    async def apply(self, conn: asyncpg.Connection, event: EventBase, envelope: CloudEventEnvelope) -> None:
        if isinstance(event, ClientReferred):
            await conn.execute(self._count, event.referral_date.year, event.municipality, event.source.value)

    async def referrals_by_source(
        self, conn: asyncpg.Connection, *, year: int | None = None, municipality: str | None = None
    ) -> dict[str, int]:
        rows = await conn.fetch(self._by_source, year, municipality)
        return {r["source"]: r["referred"] for r in rows}

    async def snapshot(self, conn: asyncpg.Connection) -> list[tuple[object, ...]]:
        """Every row, ordered: two projections are equal when their snapshots are."""
        return [tuple(r) for r in await conn.fetch(self._snapshot)]
