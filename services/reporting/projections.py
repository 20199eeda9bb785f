"""Reporting's read models. SQL is in plain sight, formatted once for the projection's schema,
so replay can build the same projection into a fresh schema.

:class:`ReportingProjection` is the one projection the reporting consumer applies: the
referral counts, the side partitions and the audit log, all in one schema, so a replay
rebuilds and switches over all of them at once (``ReportingProjection(schema)`` builds
every part for that schema).

Split by job: the migrations list is in :mod:`services.reporting.schema`, the referral
counts and intake targets in :mod:`services.reporting.counts`, the side partitions in
:mod:`services.reporting.side_partitions`; their public names stay importable from here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from contracts.base import EventBase
from contracts.envelope import CloudEventEnvelope
from runtime.db import apply_migrations
from runtime.sql import SqlStatements, quote_ident
from services.reporting.access_report import AccessReport
from services.reporting.audit import AuditTrail
from services.reporting.counts import IntakeTargets, ReferralStatistics
from services.reporting.feeds import FeedPublisher
from services.reporting.schema import MIGRATIONS
from services.reporting.sealed import (
    CASE_FACTS,
    SEALED_COLUMNS,
    open_facts,
    open_rows,
    sealer_for,
)
from services.reporting.side_partitions import CaseChange, SidePartitions

__all__ = [
    "MIGRATIONS",
    "WRITE_TIME_COLUMNS",
    "CaseChange",
    "IntakeTargets",
    "ReferralStatistics",
    "ReportingProjection",
    "SidePartitions",
    "sealer_for",
]


class SnapshotSql(SqlStatements):
    """What a snapshot reads of the catalogue (the schema is a parameter there) and how it
    turns revealed facts into jsonb's own text."""

    tables = """
SELECT table_name FROM information_schema.tables
WHERE table_schema = $1 AND table_type = 'BASE TABLE' AND table_name <> 'schema_migrations'
ORDER BY table_name
"""
    columns = """
SELECT column_name FROM information_schema.columns
WHERE table_schema = $1 AND table_name = $2 AND column_name <> ALL($3::text[])
ORDER BY ordinal_position
"""
    as_jsonb_text = (
        "SELECT array(SELECT t::jsonb::text FROM unnest($1::text[]) WITH ORDINALITY AS u(t, n) ORDER BY n)"
    )


#: Columns that record when a row was written, not what it says: left out of snapshots.
WRITE_TIME_COLUMNS = ["consumed_at", "applied_at"]


class ReportingProjection:
    """Everything reporting projects, applied by its one consumer in one transaction."""

    name = "reporting"

    def __init__(self, schema: str = "reporting", *, feeds: FeedPublisher | None = None) -> None:
        self.schema = schema
        #: the live service's partner feeds; None in a replay, which must send nothing
        self.feeds = feeds
        self.referrals = ReferralStatistics(schema)
        self.targets = IntakeTargets(schema)
        self.partitions = SidePartitions(schema)
        self.audit = AuditTrail(schema, consumer=self.name)
        self.access = AccessReport(schema)
        self.snapshot_sql = SnapshotSql(schema)

    #: indexes no statement of :meth:`apply_batch` uses (they serve the reads of the
    #: API): a rebuild builds them after its load (ADR 0046)
    deferred_indexes = (
        "audit_log_stream",
        "audit_log_seq",
        "audit_log_time",
        "access_report_client",
        "centre_cases_municipality",
    )

    def start_bulk(self) -> None:
        """A rebuild into a fresh schema begins (runtime.replay, ADR 0046): the cases and
        the audit chains' heads stay in memory between batches, and each client's case,
        steering counts and side views are written once, at :meth:`finish_bulk`."""
        self.partitions.start_bulk()
        self.audit.start_bulk()

    async def finish_bulk(self, conn: asyncpg.Connection) -> None:
        """Write what :meth:`start_bulk` held; from here on, every batch writes its own."""
        await self.partitions.finish_bulk(conn)
        await self.audit.finish_bulk(conn)

    async def create(self, conn: asyncpg.Connection) -> None:
        await apply_migrations(conn, self.schema, MIGRATIONS)

    async def apply(self, conn: asyncpg.Connection, event: EventBase, envelope: CloudEventEnvelope) -> None:
        await self.apply_batch(conn, [(event, envelope)])

    async def apply_batch(
        self, conn: asyncpg.Connection, items: Sequence[tuple[EventBase, CloudEventEnvelope]]
    ) -> None:
        """Apply a batch in order, in the caller's transaction, in a fixed number of
        statements: the same rows as applying its events one at a time."""
        if not items:
            return
        heads = await self.audit.lock_heads(conn, items)
        await self.referrals.apply_batch(conn, items)
        await self.targets.apply_batch(conn, items)
        facts = await self.partitions.apply_batch(conn, [event for event, _ in items])
        if self.feeds is not None:
            await self.feeds.queue(
                conn, [(event, envelope, f) for (event, envelope), f in zip(items, facts, strict=True)]
            )
        await self.access.apply_batch(conn, [event for event, _ in items], facts)
        await self.audit.append(conn, items, heads)

    async def snapshot(self, conn: asyncpg.Connection) -> dict[str, list[tuple[object, ...]]]:
        """Every row of every table in the schema, ordered, without write times, the
        sealed personal text revealed with the keys of now: two reporting schemas hold
        the same projections when their snapshots are equal. (Each sealed column comes
        after its row's key, so the order does not depend on a ciphertext.)"""
        out: dict[str, list[tuple[object, ...]]] = {}
        for table in [r[0] for r in await conn.fetch(self.snapshot_sql.tables, self.schema)]:
            columns = [
                r[0]
                for r in await conn.fetch(self.snapshot_sql.columns, self.schema, table, WRITE_TIME_COLUMNS)
            ]
            # The one statement written per call: its table and columns are read just above.
            listed = ", ".join(quote_ident(c) for c in columns)
            query = f"SELECT {listed} FROM {quote_ident(self.schema)}.{quote_ident(table)} ORDER BY {listed}"
            rows: list[Any] = await conn.fetch(query)
            if table in SEALED_COLUMNS or f"{table}.facts" == CASE_FACTS:
                sealer = await sealer_for(conn, [r["client_id"] for r in rows])
                if table in SEALED_COLUMNS:
                    rows = [[row[c] for c in columns] for row in open_rows(sealer, table, rows)]
                else:
                    # jsonb's own text of the revealed facts, as the column gives it
                    revealed = [open_facts(sealer, r["facts"]).model_dump_json() for r in rows]
                    texts = await conn.fetchval(self.snapshot_sql.as_jsonb_text, revealed)
                    rows = [
                        [f if c == "facts" else r[c] for c in columns]
                        for r, f in zip(rows, texts, strict=True)
                    ]
            out[table] = [tuple(r) for r in rows]
        return out
