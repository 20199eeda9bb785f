"""Guidance's reads for the API (as cosmicpython's ``views.py``): the open cases, the
guides and their caseloads (työkuorma), referral dates and health details. Nothing here
writes; the reads a command needs inside its transaction stay in the repository."""

from __future__ import annotations

from datetime import date

import asyncpg

from contracts.guidance import HealthCheckDetailsRecorded
from runtime.sql import SqlStatements
from services.guidance.domain.case import GuidanceCase
from services.guidance.domain.guides import Guide
from services.guidance.repository import ConsentCopy, GuidanceRepository, guide_from_row


class GuidanceReadSql(SqlStatements):
    """The statements of guidance's reads."""

    referral_dates = (
        "SELECT client_id, referral_date FROM {schema}.client_directory WHERE client_id = ANY($1::text[])"
    )
    guides = "SELECT person_id, name, role, areas, active_cases FROM {schema}.guides ORDER BY name"
    open_cases = """
SELECT client_id FROM {schema}.case_overview
WHERE status NOT IN ('closed', 'transferred_out') AND ($1::text IS NULL OR guide = $1)
  AND ($2::text IS NULL OR status = $2)
ORDER BY waiting_since, client_id LIMIT $3
"""


class GuidanceQueries:
    """Reads on the pool, each on a connection of its own."""

    def __init__(self, pool: asyncpg.Pool, repository: GuidanceRepository) -> None:
        self._pool = pool
        self._repository = repository
        self.sql = GuidanceReadSql(repository.store.schema)

    async def consents(self, client_id: str) -> list[ConsentCopy]:
        """The client's consents as guidance knows them (for the disclosure policy)."""
        async with self._pool.acquire() as conn:
            return await self._repository.consents(conn, client_id)

    async def open_cases(
        self, *, guide: str | None = None, status: str | None = None, limit: int = 1000
    ) -> list[GuidanceCase]:
        """Open cases (not closed, not transferred out), longest waiting first."""
        async with self._pool.acquire() as conn:
            ids = [r["client_id"] for r in await conn.fetch(self.sql.open_cases, guide, status, limit)]
            loaded = [await self._repository.load(conn, i) for i in ids]
        return [c for c in loaded if c is not None]

    async def referral_dates(self, client_ids: list[str]) -> dict[str, date]:
        """The clients' referral dates, as intake's ``ClientReferred`` gave them (no personal
        data): the start of the joint service, from which Act 1369/2014 counts the plan."""
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(self.sql.referral_dates, client_ids)
        return {r["client_id"]: r["referral_date"] for r in rows}

    async def guides(self) -> list[Guide]:
        async with self._pool.acquire() as conn:
            return [guide_from_row(r) for r in await conn.fetch(self.sql.guides)]

    async def health_details(self, client_id: str) -> list[HealthCheckDetailsRecorded]:
        """The health partition's details of the client's health checks."""
        async with self._pool.acquire() as conn:
            events = await self._repository.store.load_events(client_id, conn=conn)
        return [e for e in events if isinstance(e, HealthCheckDetailsRecorded)]
