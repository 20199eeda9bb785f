"""Intake's persistence: the case folded from the event store, and the read model
written in the same transaction as the events. SQL in plain sight."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime

import asyncpg

from runtime.eventstore import EventStore
from runtime.sql import SqlStatements
from services.intake.domain.case import IntakeCase, fold
from services.intake.domain.sessions import InfoSession
from services.intake.domain.status import deadline_status

SCHEMA = "intake"


@dataclass(frozen=True)
class ReferralLookup:
    """What a referral's look-ups found (:attr:`IntakeSql.referral_lookup`)."""

    #: the client the identity code names, if known
    existing: str | None
    #: the clients with the referral's look-alike key (name and birth date)
    look_alikes: list[str]
    #: the referral held before as a possible duplicate, if it was
    held_before: str | None


class IntakeSql(SqlStatements):
    """Intake's statements; ``{schema}`` is intake's schema."""

    find_identity = "SELECT client_id FROM {schema}.client_identities WHERE identity_key = $1"
    # A referral's three look-ups in one round trip, from one snapshot: the client its
    # identity code names, the clients of its look-alike key, and an earlier hold of it.
    referral_lookup = """
SELECT (SELECT client_id FROM {schema}.client_identities WHERE identity_key = $1) AS existing,
       ARRAY(SELECT client_id FROM {schema}.look_alike_keys WHERE look_alike_key = $2
             ORDER BY client_id) AS look_alikes,
       (SELECT referral_id FROM {schema}.possible_duplicates
        WHERE identity_key = $1 AND source = $3 AND referral_date = $4
        ORDER BY held_at LIMIT 1) AS held_before
"""
    # A new client's pseudonym and look-alike key in one round trip. No row back: the
    # code (or the client id) was taken by a concurrent registration, which has won.
    remember_new_client = """
WITH identity AS (
    INSERT INTO {schema}.client_identities (identity_key, client_id) VALUES ($1, $2)
    ON CONFLICT DO NOTHING RETURNING client_id
), look_alike AS (
    INSERT INTO {schema}.look_alike_keys (look_alike_key, client_id)
    SELECT $3, client_id FROM identity ON CONFLICT DO NOTHING
)
SELECT client_id FROM identity
"""
    forget_identity = "DELETE FROM {schema}.client_identities WHERE client_id = $1"
    forget_look_alike = "DELETE FROM {schema}.look_alike_keys WHERE client_id = $1"
    remember_look_alike = """
INSERT INTO {schema}.look_alike_keys (look_alike_key, client_id) VALUES ($1, $2) ON CONFLICT DO NOTHING
"""
    without_look_alike = """
SELECT i.client_id FROM {schema}.client_identities i
WHERE i.client_id > $1
  AND NOT EXISTS (SELECT 1 FROM {schema}.look_alike_keys k WHERE k.client_id = i.client_id)
ORDER BY i.client_id LIMIT $2
"""
    hold = """
INSERT INTO {schema}.possible_duplicates (referral_id, identity_key, source, referral_date, municipality,
    reason, candidates, held_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
"""
    open_holds = """
SELECT referral_id, municipality, reason, candidates, held_at FROM {schema}.possible_duplicates
WHERE resolution IS NULL ORDER BY held_at, referral_id LIMIT $1
"""
    lock_hold = """
SELECT referral_id, identity_key, resolution FROM {schema}.possible_duplicates
WHERE referral_id = $1 FOR UPDATE
"""
    resolve_hold = """
UPDATE {schema}.possible_duplicates
SET resolution = $2, resolved_client_id = $3, resolved_by = $4, resolved_at = $5
WHERE referral_id = $1
"""
    secret = "SELECT value FROM {schema}.secrets WHERE name = $1"
    new_secret = "INSERT INTO {schema}.secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING"
    save_overview = """
INSERT INTO {schema}.case_overview (client_id, version, municipality, source, referral_date, received_by,
    received_at, owner, stage, stage_since, rule_set, assessment_deadline, route)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
ON CONFLICT (client_id) DO UPDATE SET version = excluded.version, owner = excluded.owner,
    stage = excluded.stage, stage_since = excluded.stage_since, route = excluded.route
"""
    insert_session = """
INSERT INTO {schema}.info_sessions (session_id, starts_at, place, capacity) VALUES ($1, $2, $3, $4)
"""
    lock_session = """
SELECT session_id, starts_at, place, capacity, invited FROM {schema}.info_sessions
WHERE session_id = $1 FOR UPDATE
"""
    take_place = "UPDATE {schema}.info_sessions SET invited = invited + 1 WHERE session_id = $1"


@dataclass(frozen=True)
class HoldRow:
    """An unresolved possible duplicate, as listed (no personal data)."""

    referral_id: str
    municipality: str
    reason: str
    candidates: list[str]
    held_at: datetime


class IntakeRepository:
    def __init__(self, store: EventStore) -> None:
        self.store = store
        self.sql = IntakeSql(store.schema)
        #: the HMAC keys read from the database: made once and never changed, so read once
        self._secrets: dict[str, bytes] = {}

    async def load(self, conn: asyncpg.Connection, client_id: str) -> IntakeCase | None:
        return fold(await self.store.load_events(client_id, conn=conn))

    async def identity_secret(self, conn: asyncpg.Connection) -> bytes:
        """The key of the identity-code pseudonym."""
        return await self._secret(conn, "identity_key")

    async def _secret(self, conn: asyncpg.Connection, name: str) -> bytes:
        """The HMAC key ``name``, made once (the first caller's wins). A key found already
        there is remembered; one made in this transaction is not, until it is read again in
        a later one, since this transaction may yet roll back and another caller's win."""
        if (known := self._secrets.get(name)) is not None:
            return known
        secret = await conn.fetchval(self.sql.secret, name)
        if secret is not None:
            self._secrets[name] = bytes(secret)
            return self._secrets[name]
        await conn.execute(self.sql.new_secret, name, os.urandom(32))
        return bytes(await conn.fetchval(self.sql.secret, name))

    async def find_client(self, conn: asyncpg.Connection, identity_key: str) -> str | None:
        found: str | None = await conn.fetchval(self.sql.find_identity, identity_key)
        return found

    async def referral_lookup(
        self,
        conn: asyncpg.Connection,
        *,
        identity_key: str,
        look_alike_key: str,
        source: str,
        referral_date: date,
    ) -> ReferralLookup:
        row = await conn.fetchrow(
            self.sql.referral_lookup, identity_key, look_alike_key, source, referral_date
        )
        assert row is not None
        return ReferralLookup(row["existing"], list(row["look_alikes"]), row["held_before"])

    async def remember_new_client(
        self, conn: asyncpg.Connection, identity_key: str, look_alike_key: str, client_id: str
    ) -> bool:
        """Remember a new client's pseudonym and look-alike key; False if a concurrent
        registration took the code first (nothing is written then)."""
        return (
            await conn.fetchval(self.sql.remember_new_client, identity_key, client_id, look_alike_key)
            is not None
        )

    async def forget_client(self, conn: asyncpg.Connection, client_id: str) -> None:
        """Erasure: the pseudonym of the identity code and the look-alike key go with the
        key (ADR 6, ADR 11, ADR 19)."""
        await conn.execute(self.sql.forget_identity, client_id)
        await conn.execute(self.sql.forget_look_alike, client_id)

    async def look_alike_secret(self, conn: asyncpg.Connection) -> bytes:
        """The key of the look-alike blind index (its own, not the identity code's)."""
        return await self._secret(conn, "look_alike_key")

    async def remember_look_alike(
        self, conn: asyncpg.Connection, look_alike_key: str, client_id: str
    ) -> None:
        await conn.execute(self.sql.remember_look_alike, look_alike_key, client_id)

    async def without_look_alike(self, conn: asyncpg.Connection, *, after: str, limit: int) -> list[str]:
        """Clients known by their identity code but without a look-alike key, in id order."""
        return [r["client_id"] for r in await conn.fetch(self.sql.without_look_alike, after, limit)]

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
            self.sql.hold,
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
        return [HoldRow(**dict(r)) for r in await conn.fetch(self.sql.open_holds, limit)]

    async def lock_hold(self, conn: asyncpg.Connection, referral_id: str) -> tuple[str, str | None] | None:
        """(identity key, resolution) of a held referral, its row locked; None if unknown."""
        row = await conn.fetchrow(self.sql.lock_hold, referral_id)
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
        await conn.execute(self.sql.resolve_hold, referral_id, resolution, client_id, by, at)

    async def save_overview(self, conn: asyncpg.Connection, state: IntakeCase) -> None:
        status = deadline_status(state, state.referral_date)
        await conn.execute(
            self.sql.save_overview,
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

    async def add_session(self, conn: asyncpg.Connection, session: InfoSession) -> None:
        await conn.execute(
            self.sql.insert_session, session.session_id, session.starts_at, session.place, session.capacity
        )

    async def lock_session(self, conn: asyncpg.Connection, session_id: str) -> InfoSession | None:
        row = await conn.fetchrow(self.sql.lock_session, session_id)
        return InfoSession(**dict(row)) if row else None

    async def take_place(self, conn: asyncpg.Connection, session_id: str) -> None:
        await conn.execute(self.sql.take_place, session_id)
