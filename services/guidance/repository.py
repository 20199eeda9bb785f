"""Guidance's persistence: cases folded from its event store, and the read model (client
directory, guides and caseloads, case overview) written in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import asyncpg

from contracts.intake import ClientReferred, ConsentGiven, ConsentWithdrawn
from runtime.erasure import fetch_keys
from runtime.eventstore import EventStore
from runtime.sealing import Sealer, binding
from runtime.sql import SqlStatements
from services.guidance.domain.case import GuidanceCase, fold
from services.guidance.domain.guides import Guide

SCHEMA = "guidance"


class GuidanceSql(SqlStatements):
    """Guidance's write-side statements (and the reads its transactions need)."""

    upsert_client = """
INSERT INTO {schema}.client_directory
    (client_id, personal_identity_code, first_name, last_name, municipality, referral_date)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (client_id) DO NOTHING
"""
    client = "SELECT * FROM {schema}.client_directory WHERE client_id = $1"
    forget_client = "DELETE FROM {schema}.client_directory WHERE client_id = $1"
    add_guide = """
INSERT INTO {schema}.guides (person_id, name, role, areas) VALUES ($1, $2, $3, $4)
ON CONFLICT (person_id) DO UPDATE SET name = excluded.name, role = excluded.role, areas = excluded.areas
RETURNING person_id, name, role, areas, active_cases
"""
    lock_guide = """
SELECT person_id, name, role, areas, active_cases FROM {schema}.guides WHERE person_id = $1 FOR UPDATE
"""
    caseload = "UPDATE {schema}.guides SET active_cases = active_cases + $2 WHERE person_id = $1"
    save_overview = """
INSERT INTO {schema}.case_overview
    (client_id, version, municipality, status, guide, phase, opened_on, waiting_since, rule_set)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (client_id) DO UPDATE SET version = excluded.version, status = excluded.status,
    guide = excluded.guide, phase = excluded.phase, waiting_since = excluded.waiting_since,
    opened_on = excluded.opened_on, rule_set = excluded.rule_set
"""
    give_consent = """
INSERT INTO {schema}.client_consents (client_id, consent_id, scopes, organisations, given_on)
VALUES ($1, $2, $3, $4, $5) ON CONFLICT (client_id, consent_id) DO NOTHING
"""
    withdraw_consent = """
UPDATE {schema}.client_consents SET withdrawn_on = $3
WHERE client_id = $1 AND consent_id = $2 AND withdrawn_on IS NULL
"""
    consents = """
SELECT consent_id, scopes, organisations, given_on, withdrawn_on FROM {schema}.client_consents
WHERE client_id = $1 ORDER BY given_on, consent_id
"""


#: the directory's columns that hold the client's personal data, sealed (docs/adr/0020)
_DIRECTORY_SEALED = ("personal_identity_code", "first_name", "last_name")


@dataclass(frozen=True)
class ConsentCopy:
    """A consent as guidance knows it from intake (for the disclosure policy)."""

    consent_id: str
    scopes: tuple[str, ...]
    organisations: tuple[str, ...]
    given_on: date
    withdrawn_on: date | None


@dataclass(frozen=True)
class ClientIdentity:
    client_id: str
    personal_identity_code: str
    first_name: str
    last_name: str
    municipality: str


def _directory_aad(column: str, client_id: str) -> bytes:
    return binding(f"guidance.client_directory.{column}", client_id)


def guide_from_row(row: asyncpg.Record) -> Guide:
    return Guide(row["person_id"], row["name"], row["role"], tuple(row["areas"]), row["active_cases"])


def counted_guide(state: GuidanceCase | None) -> str | None:
    """The guide whose caseload this case counts towards (:mod:`services.rules.caseload`):
    its guide while the relationship is open, also with social services. A case
    transferred out with the relationship ending (``transferred_out``) does not count; it
    counts again once the client returns."""
    return state.guide if state is not None and state.in_active_guidance else None


class GuidanceRepository:
    def __init__(self, store: EventStore) -> None:
        self.store = store
        self.sql = GuidanceSql(store.schema)

    async def load(self, conn: asyncpg.Connection, client_id: str) -> GuidanceCase | None:
        return fold(await self.store.load_events(client_id, conn=conn))

    async def remember_client(self, conn: asyncpg.Connection, event: ClientReferred) -> None:
        """The client's names and identity code, sealed with their key (read now): the
        directory never holds them in plaintext, and they read ``[erased]`` once the key
        is deleted (docs/adr/0020)."""
        client_id = event.stream_id
        sealer = Sealer(await fetch_keys(conn, [client_id]))
        values = {
            "personal_identity_code": event.client.personal_identity_code,
            "first_name": event.client.first_name,
            "last_name": event.client.last_name,
        }
        sealed = [sealer.seal(client_id, values[c], _directory_aad(c, client_id)) for c in _DIRECTORY_SEALED]
        await conn.execute(
            self.sql.upsert_client, client_id, *sealed, event.municipality, event.referral_date
        )

    async def forget_client(self, conn: asyncpg.Connection, client_id: str) -> None:
        """Erasure: the client's names and identity code leave the directory (ADR 11)."""
        await conn.execute(self.sql.forget_client, client_id)

    async def remember_consent(self, conn: asyncpg.Connection, event: ConsentGiven) -> None:
        scopes = [s.value for s in event.scopes]
        await conn.execute(
            self.sql.give_consent,
            event.stream_id,
            event.consent_id,
            scopes,
            list(event.organisations),
            event.given_on,
        )

    async def withdraw_consent(self, conn: asyncpg.Connection, event: ConsentWithdrawn) -> None:
        await conn.execute(self.sql.withdraw_consent, event.stream_id, event.consent_id, event.withdrawn_on)

    async def consents(self, conn: asyncpg.Connection, client_id: str) -> list[ConsentCopy]:
        return [
            ConsentCopy(
                r["consent_id"],
                tuple(r["scopes"]),
                tuple(r["organisations"]),
                r["given_on"],
                r["withdrawn_on"],
            )
            for r in await conn.fetch(self.sql.consents, client_id)
        ]

    async def client(self, conn: asyncpg.Connection, client_id: str) -> ClientIdentity | None:
        row = await conn.fetchrow(self.sql.client, client_id)
        if row is None:
            return None
        sealer = Sealer(await fetch_keys(conn, [client_id]))
        code, first, last = (
            sealer.open(client_id, row[c], _directory_aad(c, client_id)) or "" for c in _DIRECTORY_SEALED
        )
        return ClientIdentity(row["client_id"], code, first, last, row["municipality"])

    async def add_guide(
        self, conn: asyncpg.Connection, *, person_id: str, name: str, role: str, areas: list[str]
    ) -> Guide:
        return guide_from_row(await conn.fetchrow(self.sql.add_guide, person_id, name, role, areas))

    async def lock_guide(self, conn: asyncpg.Connection, person_id: str) -> Guide | None:
        row = await conn.fetchrow(self.sql.lock_guide, person_id)
        return guide_from_row(row) if row else None

    async def save(self, conn: asyncpg.Connection, before: GuidanceCase | None, after: GuidanceCase) -> None:
        """Update the overview and move the case between guides' caseloads."""
        old, new = counted_guide(before), counted_guide(after)
        if old != new:
            if old:
                await conn.execute(self.sql.caseload, old, -1)
            if new:
                await conn.execute(self.sql.caseload, new, 1)
        await conn.execute(
            self.sql.save_overview,
            after.client_id,
            after.version,
            after.municipality,
            after.status.value,
            after.guide,
            after.phase.value,
            after.opened_on,
            after.waiting_since,
            after.rule_set,
        )
