"""Reporting's read models. SQL is in plain sight; ``{s}`` is the projection's schema,
so replay can build the same projection into a fresh schema.

:class:`ReportingProjection` is the one projection the reporting consumer applies: the
referral counts, the side partitions and the audit log, all in one schema, so a replay
rebuilds and switches over all of them at once (``ReportingProjection(schema)`` builds
every part for that schema).
"""

from __future__ import annotations

from typing import Any

import asyncpg

from contracts.base import ERASED, EventBase
from contracts.envelope import CloudEventEnvelope
from contracts.guidance import FinalAssessmentIssued, HealthCheckDetailsRecorded
from contracts.intake import ClientDataErased, ClientReferred
from runtime.db import Migration, apply_migrations, consumer_tracking_migrations, quote_ident
from services.reporting.access_report import AccessReport
from services.reporting.audit import AuditTrail
from services.reporting.facts import CaseFacts, ClientEvent, evolve
from services.reporting.feeds import FeedPublisher
from services.reporting.partitions import municipal_view, steering_changes, te_view

_COUNT_REFERRALS = """
INSERT INTO {s}.referrals_by_source (year, municipality, source, referred)
SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::int[])
ON CONFLICT (year, municipality, source)
DO UPDATE SET referred = {s}.referrals_by_source.referred + excluded.referred
"""

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

# --- centre partition and the cuts from it ----------------------------------------------

# Intake's and guidance's events of one client may be applied at once (each holds only
# its own stream's head): the client's lock makes them take turns on the case.
_LOCK_CASE = "SELECT pg_advisory_xact_lock(hashtext('reitti.reporting.case'), hashtext($1))"
_LOAD_CASE = "SELECT facts::text FROM {s}.centre_cases WHERE client_id = $1"
_SAVE_CASE = """
INSERT INTO {s}.centre_cases (client_id, municipality, facts) VALUES ($1, $2, $3::jsonb)
ON CONFLICT (client_id) DO UPDATE SET municipality = excluded.municipality, facts = excluded.facts
"""
_CHANGE_COUNTS = """
INSERT INTO {s}.steering_counts (metric, year, municipality, bucket, n)
SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::int[])
ON CONFLICT (metric, year, municipality, bucket) DO UPDATE SET n = {s}.steering_counts.n + excluded.n
"""
_DROP_ZERO_COUNTS = """
DELETE FROM {s}.steering_counts
WHERE n = 0 AND (metric, year, municipality, bucket) IN (
    SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::text[]))
"""
_CLEAR_TE = """
WITH measures AS (DELETE FROM {s}.te_measures WHERE client_id = $1),
     summaries AS (DELETE FROM {s}.te_health_summaries WHERE client_id = $1)
DELETE FROM {s}.te_clients WHERE client_id = $1
"""
_INSERT_TE_CLIENT = """
INSERT INTO {s}.te_clients (client_id, municipality, referral_source, referral_date, route, profile,
                            ministry_segment, opened_on, guide_person_id, phase, closed_on, outcome)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
"""
_INSERT_TE_MEASURE = """
INSERT INTO {s}.te_measures (client_id, measure_id, kind, provider, start_on, end_on, status)
VALUES ($1, $2, $3, $4, $5, $6, $7)
"""
_INSERT_TE_HEALTH_SUMMARY = """
INSERT INTO {s}.te_health_summaries (client_id, n, checked_on, work_restrictions_found,
                                     recommended_next_step)
VALUES ($1, $2, $3, $4, $5)
"""
_CLEAR_MUNICIPAL = """
WITH transfers AS (DELETE FROM {s}.municipal_transfers WHERE client_id = $1)
DELETE FROM {s}.municipal_clients WHERE client_id = $1
"""
_INSERT_MUNICIPAL_CLIENT = """
INSERT INTO {s}.municipal_clients (municipality, client_id, home_municipality, route, opened_on,
                                   closed_on, at_social_services)
VALUES ($1, $2, $3, $4, $5, $6, $7)
"""
_INSERT_MUNICIPAL_TRANSFER = """
INSERT INTO {s}.municipal_transfers (municipality, transfer_id, client_id, transferred_on, plan_start,
    plan_months, days_per_week, hours_per_day, place, relationship_stays_open, acknowledged_on,
    accepted, returned_on)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
"""
_INSERT_HEALTH_CHECK = """
INSERT INTO {s}.health_checks (event_id, client_id, municipality, checked_on, details)
VALUES ($1, $2, $3, $4, $5)
"""
_INSERT_FINAL_ASSESSMENT = """
INSERT INTO {s}.te_final_assessments (event_id, client_id, municipality, closed_on, outcome,
    outside_labour_force_reason, services_continue, follow_up_advisor_person_id,
    work_ability_clarified, competence_improved, recommended_services, assessment_text)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
"""
_ERASE_HEALTH_CHECKS = "UPDATE {s}.health_checks SET details = $2 WHERE client_id = $1"
_ERASE_FINAL_ASSESSMENTS = "UPDATE {s}.te_final_assessments SET assessment_text = $2 WHERE client_id = $1"
_TABLES = """
SELECT table_name FROM information_schema.tables
WHERE table_schema = $1 AND table_type = 'BASE TABLE' AND table_name <> 'schema_migrations'
ORDER BY table_name
"""
_COLUMNS = """
SELECT column_name FROM information_schema.columns
WHERE table_schema = $1 AND table_name = $2 AND column_name <> ALL($3::text[])
ORDER BY ordinal_position
"""
#: Columns that record when a row was written, not what it says: left out of snapshots.
WRITE_TIME_COLUMNS = ["consumed_at", "applied_at"]


#: The projection's tables and the consumer tracking beside them, so a replay target
#: schema is complete on its own.
MIGRATIONS = [
    *consumer_tracking_migrations(),
    Migration.from_package("services.reporting.migrations", "0001_referral_statistics.sql"),
    Migration.from_package("services.reporting.migrations", "0002_side_partitions.sql"),
    Migration.from_package("services.reporting.migrations", "0003_audit_log.sql"),
    Migration.from_package("services.reporting.migrations", "0004_access_report.sql"),
    Migration.from_package("services.reporting.migrations", "0005_opening_transfer.sql"),
    Migration.from_package("services.reporting.migrations", "0006_transfer_key_per_client.sql"),
]


class ReferralStatistics:
    """Referred clients by year, municipality and referral source: aggregates only, no
    personal data (the steering group's view)."""

    name = "reporting"

    def __init__(self, schema: str = "reporting") -> None:
        self.schema = schema
        s = quote_ident(schema)
        self._count = _COUNT_REFERRAL.format(s=s)
        self._count_many = _COUNT_REFERRALS.format(s=s)
        self._by_source = _BY_SOURCE.format(s=s)
        self._snapshot = _SNAPSHOT.format(s=s)

    async def create(self, conn: asyncpg.Connection) -> None:
        await apply_migrations(conn, self.schema, MIGRATIONS)

    async def apply(self, conn: asyncpg.Connection, event: EventBase, envelope: CloudEventEnvelope) -> None:
        if isinstance(event, ClientReferred):
            await conn.execute(self._count, event.referral_date.year, event.municipality, event.source.value)

    async def apply_batch(
        self, conn: asyncpg.Connection, items: list[tuple[EventBase, CloudEventEnvelope]]
    ) -> None:
        """Replay's set-based path: count a whole batch of referrals in one statement."""
        counts: dict[tuple[int, str, str], int] = {}
        for event, _ in items:
            if isinstance(event, ClientReferred):
                key = (event.referral_date.year, event.municipality, event.source.value)
                counts[key] = counts.get(key, 0) + 1
        if counts:
            await conn.execute(
                self._count_many,
                [k[0] for k in counts],
                [k[1] for k in counts],
                [k[2] for k in counts],
                list(counts.values()),
            )

    async def referrals_by_source(
        self, conn: asyncpg.Connection, *, year: int | None = None, municipality: str | None = None
    ) -> dict[str, int]:
        rows = await conn.fetch(self._by_source, year, municipality)
        return {r["source"]: r["referred"] for r in rows}

    async def snapshot(self, conn: asyncpg.Connection) -> list[tuple[object, ...]]:
        """Every row, ordered: two projections are equal when their snapshots are."""
        return [tuple(r) for r in await conn.fetch(self._snapshot)]


class SidePartitions:
    """Folds each client event into the centre partition's :class:`CaseFacts` and writes
    what changed in the TE, municipal and steering partitions; routes the health check's
    details to the health partition and the final assessment to the TE side, untouched."""

    def __init__(self, schema: str) -> None:
        s = quote_ident(schema)
        sql = {
            name: text.format(s=s)
            for name, text in {
                "lock": _LOCK_CASE,
                "load": _LOAD_CASE,
                "save": _SAVE_CASE,
                "change_counts": _CHANGE_COUNTS,
                "drop_zero": _DROP_ZERO_COUNTS,
                "clear_te": _CLEAR_TE,
                "te_client": _INSERT_TE_CLIENT,
                "te_measure": _INSERT_TE_MEASURE,
                "te_health_summary": _INSERT_TE_HEALTH_SUMMARY,
                "clear_municipal": _CLEAR_MUNICIPAL,
                "municipal_client": _INSERT_MUNICIPAL_CLIENT,
                "municipal_transfer": _INSERT_MUNICIPAL_TRANSFER,
                "health_check": _INSERT_HEALTH_CHECK,
                "final_assessment": _INSERT_FINAL_ASSESSMENT,
                "erase_health_checks": _ERASE_HEALTH_CHECKS,
                "erase_final_assessments": _ERASE_FINAL_ASSESSMENTS,
            }.items()
        }
        self._sql = sql

    async def apply(self, conn: asyncpg.Connection, event: EventBase) -> CaseFacts | None:
        """Apply ``event``; return the client's case facts after it (None if not a client's)."""
        if isinstance(event, HealthCheckDetailsRecorded):
            await conn.execute(
                self._sql["health_check"],
                event.event_id,
                event.stream_id,
                event.municipality,
                event.checked_on,
                event.details,
            )
            return None
        if isinstance(event, FinalAssessmentIssued):
            fa = event.final_assessment
            await conn.execute(
                self._sql["final_assessment"],
                event.event_id,
                event.stream_id,
                event.municipality,
                event.closed_on,
                event.outcome.value,
                event.outside_labour_force_reason.value if event.outside_labour_force_reason else None,
                event.services_continue.value,
                event.follow_up_advisor_person_id,
                fa.work_ability_clarified,
                fa.competence_improved,
                list(fa.recommended_services),
                fa.text,
            )
            return None
        if isinstance(event, ClientDataErased):
            # The client's personal text outside the case facts goes too (ADR 11).
            await conn.execute(self._sql["erase_health_checks"], event.stream_id, ERASED)
            await conn.execute(self._sql["erase_final_assessments"], event.stream_id, ERASED)
        if not isinstance(event, ClientEvent):
            return None  # not about one client (an info session): the audit log has it
        await conn.execute(self._sql["lock"], event.stream_id)
        stored = await conn.fetchval(self._sql["load"], event.stream_id)
        before = CaseFacts.model_validate_json(stored) if stored is not None else None
        after = evolve(before or CaseFacts.new(event), event)
        if after == before:
            return after
        await conn.execute(self._sql["save"], after.client_id, after.municipality, after.model_dump_json())
        await self._change_counts(conn, before, after)
        await self._cut_te_view(conn, before, after)
        await self._cut_municipal_views(conn, before, after)
        return after

    async def _change_counts(
        self, conn: asyncpg.Connection, before: CaseFacts | None, after: CaseFacts
    ) -> None:
        changes = sorted(steering_changes(before, after).items())
        if not changes:
            return
        columns: list[list[Any]] = [[], [], [], [], []]
        for (metric, year, municipality, bucket), delta in changes:
            for column, value in zip(columns, (str(metric), year, municipality, bucket, delta), strict=True):
                column.append(value)
        await conn.execute(self._sql["change_counts"], *columns)
        await conn.execute(self._sql["drop_zero"], *columns[:4])

    async def _cut_te_view(
        self, conn: asyncpg.Connection, before: CaseFacts | None, after: CaseFacts
    ) -> None:
        view = te_view(after)
        if before is not None and te_view(before) == view:
            return
        await conn.execute(self._sql["clear_te"], after.client_id)
        if view is None:
            return
        await conn.execute(self._sql["te_client"], *view.client)
        if view.measures:
            await conn.executemany(self._sql["te_measure"], view.measures)
        if view.health_summaries:
            await conn.executemany(self._sql["te_health_summary"], view.health_summaries)

    async def _cut_municipal_views(
        self, conn: asyncpg.Connection, before: CaseFacts | None, after: CaseFacts
    ) -> None:
        view = municipal_view(after)
        if before is not None and municipal_view(before) == view:
            return
        await conn.execute(self._sql["clear_municipal"], after.client_id)
        if view.clients:
            await conn.executemany(self._sql["municipal_client"], view.clients)
        if view.transfers:
            await conn.executemany(self._sql["municipal_transfer"], view.transfers)


class ReportingProjection:
    """Everything reporting projects, applied by its one consumer in one transaction."""

    name = "reporting"

    def __init__(self, schema: str = "reporting", *, feeds: FeedPublisher | None = None) -> None:
        self.schema = schema
        #: the live service's partner feeds; None in a replay, which must send nothing
        self.feeds = feeds
        self.referrals = ReferralStatistics(schema)
        self.partitions = SidePartitions(schema)
        self.audit = AuditTrail(schema, consumer=self.name)
        self.access = AccessReport(schema)

    async def create(self, conn: asyncpg.Connection) -> None:
        await apply_migrations(conn, self.schema, MIGRATIONS)

    async def apply(self, conn: asyncpg.Connection, event: EventBase, envelope: CloudEventEnvelope) -> None:
        head = await self.audit.lock_head(conn, envelope.source, event.stream_id)
        await self.referrals.apply(conn, event, envelope)
        facts = await self.partitions.apply(conn, event)
        if self.feeds is not None:
            await self.feeds.queue(conn, event, envelope, facts)
        await self.access.apply(conn, event)
        await self.audit.append(conn, event, envelope, head)

    async def snapshot(self, conn: asyncpg.Connection) -> dict[str, list[tuple[object, ...]]]:
        """Every row of every table in the schema, ordered, without write times: two
        reporting schemas hold the same projections when their snapshots are equal."""
        out: dict[str, list[tuple[object, ...]]] = {}
        for table in [r[0] for r in await conn.fetch(_TABLES, self.schema)]:
            columns = [r[0] for r in await conn.fetch(_COLUMNS, self.schema, table, WRITE_TIME_COLUMNS)]
            listed = ", ".join(quote_ident(c) for c in columns)
            query = f"SELECT {listed} FROM {quote_ident(self.schema)}.{quote_ident(table)} ORDER BY {listed}"
            out[table] = [tuple(r) for r in await conn.fetch(query)]
        return out
