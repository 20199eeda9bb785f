"""Intake's reads (*näkymät*): the queue and the upcoming info sessions, straight from the
read model, as cosmicpython's ``views.py``. Commands go through the repository; nothing
here writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import asyncpg

from runtime.sql import SqlStatements
from services.intake.domain.case import Stage
from services.intake.domain.sessions import InfoSession


class QueriesSql(SqlStatements):
    queue = """
SELECT client_id, municipality, source, referral_date, received_by, received_at, owner, stage,
       stage_since, rule_set, assessment_deadline
FROM {schema}.case_overview
WHERE stage <> 'routed' AND ($1::text IS NULL OR stage = $1) AND ($2::text IS NULL OR municipality = $2)
ORDER BY received_at, client_id
LIMIT $3
"""
    sessions = """
SELECT session_id, starts_at, place, capacity, invited FROM {schema}.info_sessions
WHERE starts_at >= $1 ORDER BY starts_at LIMIT $2
"""


@dataclass(frozen=True)
class QueueRow:
    """One client in the intake queue (*jono*), as the read model holds them."""

    client_id: str
    municipality: str
    source: str
    referral_date: date
    received_by: str
    received_at: datetime
    owner: str | None
    stage: Stage
    #: the business date the stage began
    stage_since: date
    rule_set: str
    assessment_deadline: date | None


class IntakeQueries:
    def __init__(self, pool: asyncpg.Pool, schema: str) -> None:
        self._pool = pool
        self.sql = QueriesSql(schema)

    async def queue(
        self, *, stage: Stage | None = None, municipality: str | None = None, limit: int = 500
    ) -> list[QueueRow]:
        """Who waits for which step, oldest referral first (routed clients left out)."""
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(self.sql.queue, stage.value if stage else None, municipality, limit)
        return [QueueRow(**{**dict(r), "stage": Stage(r["stage"])}) for r in rows]

    async def sessions(self, *, since: datetime, limit: int = 100) -> list[InfoSession]:
        """Info sessions (*infotilaisuudet*) that start at ``since`` or later, soonest first."""
        async with self._pool.acquire() as conn:
            found = await conn.fetch(self.sql.sessions, since, limit)
        return [InfoSession(**dict(r)) for r in found]
