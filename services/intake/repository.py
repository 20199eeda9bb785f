"""Intake's persistence: the case folded from the event store, and the read model
written in the same transaction as the events. SQL in plain sight."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime

import asyncpg

from runtime.eventstore import EventStore
from services.intake.domain.case import IntakeCase, Stage, fold
from services.intake.domain.sessions import InfoSession
from services.intake.domain.status import deadline_status

SCHEMA = "intake"

_FIND_IDENTITY = "SELECT client_id FROM intake.client_identities WHERE identity_key = $1"
_REMEMBER_IDENTITY = "INSERT INTO intake.client_identities (identity_key, client_id) VALUES ($1, $2)"
_FORGET_IDENTITY = "DELETE FROM intake.client_identities WHERE client_id = $1"
_FORGET_LOOK_ALIKE = "DELETE FROM intake.look_alike_keys WHERE client_id = $1"
_REMEMBER_LOOK_ALIKE = """
INSERT INTO intake.look_alike_keys (look_alike_key, client_id) VALUES ($1, $2) ON CONFLICT DO NOTHING
"""
_LOOK_ALIKES = "SELECT client_id FROM intake.look_alike_keys WHERE look_alike_key = $1 ORDER BY client_id"
_WITHOUT_LOOK_ALIKE = """
SELECT i.client_id FROM intake.client_identities i
WHERE i.client_id > $1
  AND NOT EXISTS (SELECT 1 FROM intake.look_alike_keys k WHERE k.client_id = i.client_id)
ORDER BY i.client_id LIMIT $2
"""
_HELD_BEFORE = """
SELECT referral_id FROM intake.possible_duplicates
WHERE identity_key = $1 AND source = $2 AND referral_date = $3
ORDER BY held_at LIMIT 1
"""
_HOLD = """
INSERT INTO intake.possible_duplicates (referral_id, identity_key, source, referral_date, municipality,
    reason, candidates, held_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
"""
_OPEN_HOLDS = """
SELECT referral_id, municipality, reason, candidates, held_at FROM intake.possible_duplicates
WHERE resolution IS NULL ORDER BY held_at, referral_id LIMIT $1
"""
_LOCK_HOLD = """
SELECT referral_id, identity_key, resolution FROM intake.possible_duplicates WHERE referral_id = $1 FOR UPDATE
"""
_RESOLVE_HOLD = """
UPDATE intake.possible_duplicates
SET resolution = $2, resolved_client_id = $3, resolved_by = $4, resolved_at = $5
WHERE referral_id = $1
"""
_SECRET = "SELECT value FROM intake.secrets WHERE name = $1"
_NEW_SECRET = "INSERT INTO intake.secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING"

_SAVE_OVERVIEW = """
INSERT INTO intake.case_overview (client_id, version, municipality, source, referral_date, received_by,
    received_at, owner, stage, stage_since, rule_set, assessment_deadline, route)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
ON CONFLICT (client_id) DO UPDATE SET version = excluded.version, owner = excluded.owner,
    stage = excluded.stage, stage_since = excluded.stage_since, route = excluded.route
"""

_QUEUE = """
SELECT client_id, municipality, source, referral_date, received_by, received_at, owner, stage,
       stage_since, rule_set, assessment_deadline
FROM intake.case_overview
WHERE stage <> 'routed' AND ($1::text IS NULL OR stage = $1) AND ($2::text IS NULL OR municipality = $2)
ORDER BY received_at, client_id
LIMIT $3
"""

_INSERT_SESSION = """
INSERT INTO intake.info_sessions (session_id, starts_at, place, capacity) VALUES ($1, $2, $3, $4)
"""
_LOCK_SESSION = """
SELECT session_id, starts_at, place, capacity, invited FROM intake.info_sessions
WHERE session_id = $1 FOR UPDATE
"""
_TAKE_PLACE = "UPDATE intake.info_sessions SET invited = invited + 1 WHERE session_id = $1"
_SESSIONS = """
SELECT session_id, starts_at, place, capacity, invited FROM intake.info_sessions
WHERE starts_at >= $1 ORDER BY starts_at LIMIT $2
"""


@dataclass(frozen=True)
class HoldRow:
    """An unresolved possible duplicate, as listed (no personal data)."""

    referral_id: str
    municipality: str
    reason: str
    candidates: list[str]
    held_at: datetime


@dataclass(frozen=True)
class QueueRow:
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


class IntakeRepository:
    def __init__(self, store: EventStore) -> None:
        self.store = store

    async def load(self, conn: asyncpg.Connection, client_id: str) -> IntakeCase | None:
        return fold(await self.store.load_events(client_id, conn=conn))

    async def identity_secret(self, conn: asyncpg.Connection) -> bytes:
        """The key of the identity-code pseudonym."""
        return await self._secret(conn, "identity_key")

    async def _secret(self, conn: asyncpg.Connection, name: str) -> bytes:
        """The HMAC key ``name``, made once (the first caller's wins)."""
        secret = await conn.fetchval(_SECRET, name)
        if secret is None:
            await conn.execute(_NEW_SECRET, name, os.urandom(32))
            secret = await conn.fetchval(_SECRET, name)
        return bytes(secret)

    async def find_client(self, conn: asyncpg.Connection, identity_key: str) -> str | None:
        found: str | None = await conn.fetchval(_FIND_IDENTITY, identity_key)
        return found

    async def remember_client(self, conn: asyncpg.Connection, identity_key: str, client_id: str) -> None:
        await conn.execute(_REMEMBER_IDENTITY, identity_key, client_id)

    async def forget_client(self, conn: asyncpg.Connection, client_id: str) -> None:
        """Erasure: the pseudonym of the identity code and the look-alike key go with the
        key (ADR 6, ADR 11, ADR 19)."""
        await conn.execute(_FORGET_IDENTITY, client_id)
        await conn.execute(_FORGET_LOOK_ALIKE, client_id)

    async def look_alike_secret(self, conn: asyncpg.Connection) -> bytes:
        """The key of the look-alike blind index (its own, not the identity code's)."""
        return await self._secret(conn, "look_alike_key")

    async def remember_look_alike(
        self, conn: asyncpg.Connection, look_alike_key: str, client_id: str
    ) -> None:
        await conn.execute(_REMEMBER_LOOK_ALIKE, look_alike_key, client_id)

    async def without_look_alike(self, conn: asyncpg.Connection, *, after: str, limit: int) -> list[str]:
        """Clients known by their identity code but without a look-alike key, in id order."""
        return [r["client_id"] for r in await conn.fetch(_WITHOUT_LOOK_ALIKE, after, limit)]

    async def look_alikes(self, conn: asyncpg.Connection, look_alike_key: str) -> list[str]:
        return [r["client_id"] for r in await conn.fetch(_LOOK_ALIKES, look_alike_key)]

    async def held_before(
        self, conn: asyncpg.Connection, *, identity_key: str, source: str, referral_date: date
    ) -> str | None:
        found: str | None = await conn.fetchval(_HELD_BEFORE, identity_key, source, referral_date)
        return found

    async def hold(
        self,
        conn: asyncpg.Connection,
        *,
        referral_id: str,
        identity_key: str,
        source: str,
        referral_date: date,
        municipality: str,
        reason: str,
        candidates: tuple[str, ...],
        held_at: datetime,
    ) -> None:
        await conn.execute(
            _HOLD,
            referral_id,
            identity_key,
            source,
            referral_date,
            municipality,
            reason,
            list(candidates),
            held_at,
        )

    async def open_holds(self, conn: asyncpg.Connection, *, limit: int = 200) -> list[HoldRow]:
        return [HoldRow(**dict(r)) for r in await conn.fetch(_OPEN_HOLDS, limit)]

    async def lock_hold(self, conn: asyncpg.Connection, referral_id: str) -> tuple[str, str | None] | None:
        """(identity key, resolution) of a held referral, its row locked; None if unknown."""
        row = await conn.fetchrow(_LOCK_HOLD, referral_id)
        return (row["identity_key"], row["resolution"]) if row else None

    async def resolve_hold(
        self,
        conn: asyncpg.Connection,
        referral_id: str,
        *,
        resolution: str,
        client_id: str | None,
        by: str,
        at: datetime,
    ) -> None:
        await conn.execute(_RESOLVE_HOLD, referral_id, resolution, client_id, by, at)

    async def save_overview(self, conn: asyncpg.Connection, state: IntakeCase) -> None:
        status = deadline_status(state, state.referral_date)
        await conn.execute(
            _SAVE_OVERVIEW,
            state.client_id,
            state.version,
            state.municipality,
            state.source.value,
            state.referral_date,
            state.received_by,
            state.received_at,
            state.owner,
            state.stage.value,
            state.stage_since or state.referral_date,
            status.rule_set,
            status.deadline,
            state.assessment.route.value if state.assessment else None,
        )

    async def queue(
        self,
        conn: asyncpg.Connection,
        *,
        stage: Stage | None = None,
        municipality: str | None = None,
        limit: int = 500,
    ) -> list[QueueRow]:
        rows = await conn.fetch(_QUEUE, stage.value if stage else None, municipality, limit)
        return [QueueRow(**{**dict(r), "stage": Stage(r["stage"])}) for r in rows]

    async def add_session(self, conn: asyncpg.Connection, session: InfoSession) -> None:
        await conn.execute(
            _INSERT_SESSION, session.session_id, session.starts_at, session.place, session.capacity
        )

    async def lock_session(self, conn: asyncpg.Connection, session_id: str) -> InfoSession | None:
        row = await conn.fetchrow(_LOCK_SESSION, session_id)
        return InfoSession(**dict(row)) if row else None

    async def take_place(self, conn: asyncpg.Connection, session_id: str) -> None:
        await conn.execute(_TAKE_PLACE, session_id)

    async def sessions(
        self, conn: asyncpg.Connection, *, since: datetime, limit: int = 100
    ) -> list[InfoSession]:
        return [InfoSession(**dict(r)) for r in await conn.fetch(_SESSIONS, since, limit)]
