"""The side partitions (sivuosiot): each client event folded into the centre partition's
case facts, and the TE, municipal, steering and health partitions cut from them. SQL is
in plain sight; ``{schema}`` is the projection's schema."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from typing import Any, TypeGuard

import asyncpg

from contracts.base import ERASED, EventBase
from contracts.guidance import (
    FinalAssessmentIssued,
    HealthCheckDetailsRecorded,
    HealthCheckSummaryRecorded,
    PlanRevised,
    TransferAcknowledged,
    TransferredToSocialServices,
)
from contracts.intake import ClientDataErased, ClientReferred
from runtime.erasure import PREFIX
from runtime.sealing import Sealer
from runtime.sql import SqlStatements
from services.reporting.columns import columns_of
from services.reporting.facts import CaseFacts, ClientEvent, evolve
from services.reporting.partitions import SteeringKey, municipal_view, steering_changes, te_view
from services.reporting.sealed import (
    SEALED_COLUMNS,
    open_facts,
    seal_facts,
    sealer_for,
)

# --- centre partition and the cuts from it ----------------------------------------------

# Intake's and guidance's events of one client may be applied at once (each holds only
# its own stream's head): the client's lock makes them take turns on the case. A batch
# takes its clients' locks in one order (by key), so two batches never wait on each other
# in a circle.
_LOCK_CASES = """
SELECT pg_advisory_xact_lock(hashtext('reitti.reporting.case'), key)
FROM (SELECT DISTINCT hashtext(client_id) AS key FROM unnest($1::text[]) AS u(client_id) ORDER BY key) AS keys
"""
_LOAD_CASES = (
    "SELECT client_id, facts::text AS facts FROM {schema}.centre_cases WHERE client_id = ANY($1::text[])"
)
_SAVE_CASES = """
INSERT INTO {schema}.centre_cases (client_id, municipality, facts)
SELECT client_id, municipality, facts::jsonb FROM unnest($1::text[], $2::text[], $3::text[])
    AS u(client_id, municipality, facts)
ON CONFLICT (client_id) DO UPDATE SET municipality = excluded.municipality, facts = excluded.facts
"""
_CHANGE_COUNTS = """
INSERT INTO {schema}.steering_counts (metric, year, municipality, bucket, n)
SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::int[])
ON CONFLICT (metric, year, municipality, bucket) DO UPDATE SET n = {schema}.steering_counts.n + excluded.n
"""
_DROP_ZERO_COUNTS = """
DELETE FROM {schema}.steering_counts
WHERE n = 0 AND (metric, year, municipality, bucket) IN (
    SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::text[]))
"""
_CLEAR_TE = """
WITH measures AS (DELETE FROM {schema}.te_measures WHERE client_id = ANY($1::text[])),
     summaries AS (DELETE FROM {schema}.te_health_summaries WHERE client_id = ANY($1::text[]))
DELETE FROM {schema}.te_clients WHERE client_id = ANY($1::text[])
"""
_INSERT_TE_CLIENTS = """
INSERT INTO {schema}.te_clients (client_id, municipality, referral_source, referral_date, route, profile,
                            ministry_segment, opened_on, guide_person_id, phase, closed_on, outcome)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::date[], $5::text[], $6::text[], $7::int[],
                     $8::date[], $9::text[], $10::text[], $11::date[], $12::text[])
"""
_INSERT_TE_MEASURES = """
INSERT INTO {schema}.te_measures (client_id, measure_id, kind, provider, start_on, end_on, status)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::date[], $6::date[], $7::text[])
"""
_INSERT_TE_HEALTH_SUMMARIES = """
INSERT INTO {schema}.te_health_summaries (client_id, n, checked_on, work_restrictions_found,
                                     recommended_next_step)
SELECT * FROM unnest($1::text[], $2::int[], $3::date[], $4::bool[], $5::text[])
"""
_CLEAR_MUNICIPAL = """
WITH transfers AS (DELETE FROM {schema}.municipal_transfers WHERE client_id = ANY($1::text[]))
DELETE FROM {schema}.municipal_clients WHERE client_id = ANY($1::text[])
"""
_INSERT_MUNICIPAL_CLIENTS = """
INSERT INTO {schema}.municipal_clients (municipality, client_id, home_municipality, route, opened_on,
                                   closed_on, at_social_services, name)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::date[], $6::date[], $7::bool[],
                     $8::text[])
"""
_INSERT_MUNICIPAL_TRANSFERS = """
INSERT INTO {schema}.municipal_transfers (municipality, transfer_id, client_id, transferred_on, plan_start,
    plan_months, days_per_week, hours_per_day, place, relationship_stays_open, acknowledged_on,
    accepted, returned_on)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::date[], $5::date[], $6::int[], $7::int[],
                     $8::numeric[], $9::text[], $10::bool[], $11::date[], $12::bool[], $13::date[])
"""
_INSERT_HEALTH_CHECKS = """
INSERT INTO {schema}.health_checks (event_id, client_id, municipality, checked_on, details)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::date[], $5::text[])
"""
# An array column cannot ride in unnest (arrays of arrays are flattened): the recommended
# services travel as a JSON array each.
_INSERT_FINAL_ASSESSMENTS = """
INSERT INTO {schema}.te_final_assessments (event_id, client_id, municipality, closed_on, outcome,
    outside_labour_force_reason, services_continue, follow_up_advisor_person_id,
    work_ability_clarified, competence_improved, recommended_services, assessment_text)
SELECT event_id, client_id, municipality, closed_on, outcome, outside_labour_force_reason,
       services_continue, follow_up_advisor_person_id, work_ability_clarified, competence_improved,
       ARRAY(SELECT jsonb_array_elements_text(recommended_services::jsonb)), assessment_text
FROM unnest($1::uuid[], $2::text[], $3::text[], $4::date[], $5::text[], $6::text[], $7::text[],
            $8::text[], $9::bool[], $10::bool[], $11::text[], $12::text[])
    AS u(event_id, client_id, municipality, closed_on, outcome, outside_labour_force_reason,
         services_continue, follow_up_advisor_person_id, work_ability_clarified, competence_improved,
         recommended_services, assessment_text)
"""
_ERASE = """
WITH health_checks AS (UPDATE {schema}.health_checks SET details = $2 WHERE client_id = ANY($1::text[]))
UPDATE {schema}.te_final_assessments SET assessment_text = $2 WHERE client_id = ANY($1::text[])
"""


class SidePartitionSql(SqlStatements):
    """The side partitions' statements (sivuosiot), formatted once per schema."""

    lock = _LOCK_CASES
    load = _LOAD_CASES
    save = _SAVE_CASES
    change_counts = _CHANGE_COUNTS
    drop_zero = _DROP_ZERO_COUNTS
    clear_te = _CLEAR_TE
    te_clients = _INSERT_TE_CLIENTS
    te_measures = _INSERT_TE_MEASURES
    te_health_summaries = _INSERT_TE_HEALTH_SUMMARIES
    clear_municipal = _CLEAR_MUNICIPAL
    municipal_clients = _INSERT_MUNICIPAL_CLIENTS
    municipal_transfers = _INSERT_MUNICIPAL_TRANSFERS
    health_checks = _INSERT_HEALTH_CHECKS
    final_assessments = _INSERT_FINAL_ASSESSMENTS
    erase = _ERASE


#: a client's case before a batch (None if new) and after it
CaseChange = tuple[CaseFacts | None, CaseFacts]


#: the events whose personal text reporting keeps (sealed) in its tables: the referral
#: brings the client's name, for the municipal view
_CARRY_PERSONAL_TEXT = (
    ClientReferred,
    PlanRevised,
    HealthCheckSummaryRecorded,
    HealthCheckDetailsRecorded,
    FinalAssessmentIssued,
    TransferredToSocialServices,
)


def _carries_personal_text(event: EventBase) -> bool:
    """Whether ``event`` brings personal text reporting keeps: also the acceptance of the
    hand-over the route opened, with its activation plan's place."""
    if isinstance(event, TransferAcknowledged):
        return event.activation_plan is not None
    return isinstance(event, _CARRY_PERSONAL_TEXT)


def _folded(event: EventBase) -> TypeGuard[ClientEvent]:
    """Whether ``event`` is folded into its client's case facts. The health check's
    details and the final assessment are a client's, but go around the case."""
    return isinstance(event, ClientEvent) and not isinstance(
        event, HealthCheckDetailsRecorded | FinalAssessmentIssued
    )


class SidePartitions:
    """Folds each client event into the centre partition's :class:`CaseFacts` and writes
    what changed in the TE, municipal and steering partitions; routes the health check's
    details to the health partition and the final assessment to the TE side, untouched.

    A batch costs a fixed number of statements, whatever its size: its clients' cases are
    locked and loaded at once, every event is folded in Python in order, and what changed
    is written set-based (each client's cut once, from its case after the batch)."""

    def __init__(self, schema: str) -> None:
        self.sql = SidePartitionSql(schema)

    async def apply_batch(
        self, conn: asyncpg.Connection, events: Sequence[EventBase]
    ) -> list[CaseFacts | None]:
        """Apply ``events`` in order; for each, its client's case facts after it (None if
        it is not folded into a case)."""
        clients = sorted({e.stream_id for e in events if _folded(e)})
        loaded: list[Any] = []
        if clients:
            await conn.execute(self.sql.lock, clients)
            loaded = await conn.fetch(self.sql.load, clients)
        # The keys of the clients with personal text stored or coming, read once for the
        # batch: it is stored sealed and read back revealed (docs/adr/0020).
        keyed = {e.stream_id for e in events if _carries_personal_text(e)}
        keyed.update(r["client_id"] for r in loaded if PREFIX in r["facts"])
        sealer = await sealer_for(conn, keyed)
        stored = {r["client_id"]: open_facts(sealer, r["facts"]) for r in loaded}
        cases = dict(stored)
        after: list[CaseFacts | None] = []
        for event in events:
            if not _folded(event):
                after.append(None)  # not folded (health details, final assessment, an info session)
                continue
            facts = evolve(cases.get(event.stream_id) or CaseFacts.new(event), event)
            cases[event.stream_id] = facts
            after.append(facts)
        await self._write_apart(conn, events, sealer)
        changes = [(stored.get(c), cases[c]) for c in clients if cases[c] != stored.get(c)]
        if changes:
            rows = [(new.client_id, new.municipality, seal_facts(sealer, new)) for _, new in changes]
            await self._insert(conn, self.sql.save, rows)
            await self._change_counts(conn, changes)
            await self._cut_te_views(conn, changes, sealer)
            await self._cut_municipal_views(conn, changes, sealer)
        return after

    async def _insert(
        self, conn: asyncpg.Connection, statement: str, rows: Sequence[tuple[Any, ...]]
    ) -> None:
        if rows:
            await conn.execute(statement, *columns_of(rows))

    async def _write_apart(
        self, conn: asyncpg.Connection, events: Sequence[EventBase], sealer: Sealer
    ) -> None:
        """The health check's details and the final assessments, and their erasure: the
        client's personal text outside the case facts goes too (ADR 11), in the rows stored
        before the batch and in those of the batch that came before the erasure."""
        erased_at = {e.stream_id: i for i, e in enumerate(events) if isinstance(e, ClientDataErased)}

        def erased(index: int, event: EventBase) -> bool:
            return erased_at.get(event.stream_id, -1) > index

        if erased_at:
            await conn.execute(self.sql.erase, sorted(erased_at), ERASED)
        health_checks = [
            (
                e.event_id,
                e.stream_id,
                e.municipality,
                e.checked_on,
                ERASED
                if erased(i, e)
                else sealer.seal(
                    e.stream_id, e.details, SEALED_COLUMNS["health_checks"].aad({"event_id": e.event_id})
                ),
            )
            for i, e in enumerate(events)
            if isinstance(e, HealthCheckDetailsRecorded)
        ]
        await self._insert(conn, self.sql.health_checks, health_checks)
        final_assessments = [
            (
                e.event_id,
                e.stream_id,
                e.municipality,
                e.closed_on,
                e.outcome.value,
                e.outside_labour_force_reason.value if e.outside_labour_force_reason else None,
                e.services_continue.value,
                e.follow_up_advisor_person_id,
                e.final_assessment.work_ability_clarified,
                e.final_assessment.competence_improved,
                json.dumps(list(e.final_assessment.recommended_services)),
                ERASED
                if erased(i, e)
                else sealer.seal(
                    e.stream_id,
                    e.final_assessment.text,
                    SEALED_COLUMNS["te_final_assessments"].aad({"event_id": e.event_id}),
                ),
            )
            for i, e in enumerate(events)
            if isinstance(e, FinalAssessmentIssued)
        ]
        await self._insert(conn, self.sql.final_assessments, final_assessments)

    async def _change_counts(self, conn: asyncpg.Connection, changes: Sequence[CaseChange]) -> None:
        """Change the steering counts by the batch's differences, summed; drop the zeros."""
        deltas: Counter[SteeringKey] = Counter()
        for before, after in changes:
            deltas.update(steering_changes(before, after))
        rows = sorted(
            (str(m), year, municipality, bucket, n)
            for (m, year, municipality, bucket), n in deltas.items()
            if n
        )
        if rows:
            counts = columns_of(rows)
            await conn.execute(self.sql.change_counts, *counts)
            await conn.execute(self.sql.drop_zero, *counts[:4])

    # A client's rows on a side are replaced when its cut changed: a withdrawal deletes
    # them, and a new consent brings them back from the case.

    async def _cut_te_views(
        self, conn: asyncpg.Connection, changes: Sequence[CaseChange], sealer: Sealer
    ) -> None:
        cut = [
            (after.client_id, te_view(after))
            for before, after in changes
            if before is None or te_view(before) != te_view(after)
        ]
        if not cut:
            return
        await conn.execute(self.sql.clear_te, [client for client, _ in cut])
        views = [view for _, view in cut if view is not None]
        await self._insert(conn, self.sql.te_clients, [v.client for v in views])
        measures = SEALED_COLUMNS["te_measures"]
        await self._insert(
            conn,
            self.sql.te_measures,
            [
                (c, m, kind, sealer.seal(c, provider, measures.aad({"client_id": c, "measure_id": m})), *rest)
                for v in views
                for c, m, kind, provider, *rest in v.measures
            ],
        )
        summaries = SEALED_COLUMNS["te_health_summaries"]
        await self._insert(
            conn,
            self.sql.te_health_summaries,
            [
                (c, n, on, found, sealer.seal(c, step, summaries.aad({"client_id": c, "n": n})))
                for v in views
                for c, n, on, found, step in v.health_summaries
            ],
        )

    async def _cut_municipal_views(
        self, conn: asyncpg.Connection, changes: Sequence[CaseChange], sealer: Sealer
    ) -> None:
        cut = [
            (after.client_id, municipal_view(after))
            for before, after in changes
            if before is None or municipal_view(before) != municipal_view(after)
        ]
        if not cut:
            return
        await conn.execute(self.sql.clear_municipal, [client for client, _ in cut])
        names = SEALED_COLUMNS["municipal_clients"]
        await self._insert(
            conn,
            self.sql.municipal_clients,
            [
                (*c[:7], sealer.seal(c[1], c[7], names.aad({"municipality": c[0], "client_id": c[1]})))
                for _, v in cut
                for c in v.clients
            ],
        )
        transfers = SEALED_COLUMNS["municipal_transfers"]
        await self._insert(
            conn,
            self.sql.municipal_transfers,
            [
                (
                    *t[:8],
                    sealer.seal(
                        t[2],
                        t[8],
                        transfers.aad({"municipality": t[0], "client_id": t[2], "transfer_id": t[1]}),
                    ),
                    *t[9:],
                )
                for _, v in cut
                for t in v.transfers
            ],
        )
