"""The side partitions (sivuosiot): each client event folded into the centre partition's
case facts, and the TE, municipal, steering and health partitions cut from them. The
statements are in :mod:`services.reporting.side_partition_sql`."""

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
from services.reporting.columns import columns_of
from services.reporting.facts import CaseFacts, ClientEvent, evolve
from services.reporting.partitions import SteeringKey, municipal_view, steering_changes, te_view
from services.reporting.sealed import (
    SEALED_COLUMNS,
    open_facts,
    seal_facts,
    sealer_for,
)
from services.reporting.side_partition_sql import SidePartitionSql

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


#: the clients a rebuild holds in memory at most before it writes their cases out
BULK_CASES = 50_000


class BulkCases:
    """A rebuild's cases between batches: for each client held, its case as last written
    to the schema (None if never) and as it is now."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._written: dict[str, CaseFacts | None] = {}
        self._now: dict[str, CaseFacts] = {}

    def holds(self, client_id: str) -> bool:
        return client_id in self._written

    def load(self, client_id: str, facts: CaseFacts | None) -> None:
        self._written[client_id] = facts
        if facts is not None:
            self._now[client_id] = facts

    def current(self, client_id: str) -> CaseFacts | None:
        return self._now.get(client_id)

    def change(self, client_id: str, facts: CaseFacts) -> None:
        self._now[client_id] = facts

    def full(self) -> bool:
        return len(self._written) > self.limit

    def take_changes(self) -> list[CaseChange]:
        """The cases that differ from what was written, by client; nothing is held after."""
        changes = [
            (self._written[c], self._now[c]) for c in sorted(self._now) if self._now[c] != self._written[c]
        ]
        self._written.clear()
        self._now.clear()
        return changes


class SidePartitions:
    """Folds each client event into the centre partition's :class:`CaseFacts` and writes
    what changed in the TE, municipal and steering partitions; routes the health check's
    details to the health partition and the final assessment to the TE side, untouched.

    A batch costs a fixed number of statements, whatever its size: its clients' cases are
    locked and loaded at once, every event is folded in Python in order, and what changed
    is written set-based (each client's cut once, from its case after the batch)."""

    def __init__(self, schema: str) -> None:
        self.sql = SidePartitionSql(schema)
        #: a rebuild's cases kept between batches (:meth:`start_bulk`); None when live
        self._bulk: BulkCases | None = None

    def start_bulk(self, limit: int | None = None) -> None:
        """From now on (a rebuild into a fresh schema nobody else writes, ADR 0046), keep
        the cases in memory between batches and write each client's case and cuts once,
        when :meth:`finish_bulk` is called or when more than ``limit`` clients are held
        (:data:`BULK_CASES`)."""
        self._bulk = BulkCases(BULK_CASES if limit is None else limit)

    async def finish_bulk(self, conn: asyncpg.Connection) -> None:
        """Write what the cases held in memory changed, and go back to writing per batch."""
        if self._bulk is not None:
            await self._flush_bulk(conn, self._bulk)
            self._bulk = None

    async def apply_batch(
        self, conn: asyncpg.Connection, events: Sequence[EventBase]
    ) -> list[CaseFacts | None]:
        """Apply ``events`` in order; for each, its client's case facts after it (None if
        it is not folded into a case)."""
        if self._bulk is not None:
            return await self._apply_bulk(conn, events, self._bulk)
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
        await self._write_changes(conn, changes, sealer)
        return after

    async def _write_changes(
        self, conn: asyncpg.Connection, changes: Sequence[CaseChange], sealer: Sealer
    ) -> None:
        """The changed cases saved, and the steering counts and side views cut from them."""
        if changes:
            rows = [(new.client_id, new.municipality, seal_facts(sealer, new)) for _, new in changes]
            await self._insert(conn, self.sql.save, rows)
            await self._change_counts(conn, changes)
            await self._cut_te_views(conn, changes, sealer)
            await self._cut_municipal_views(conn, changes, sealer)

    async def _apply_bulk(
        self, conn: asyncpg.Connection, events: Sequence[EventBase], bulk: BulkCases
    ) -> list[CaseFacts | None]:
        """:meth:`apply_batch` of a rebuild: the cases not held are loaded (none, in a fresh
        schema), every event is folded in order, and the cases stay in memory; the
        health details and final assessments are written now, as live writes them."""
        missing = sorted({e.stream_id for e in events if _folded(e) and not bulk.holds(e.stream_id)})
        loaded: list[Any] = await conn.fetch(self.sql.load, missing) if missing else []
        # keys now only for the text written now; the cases' are read when they are written
        apart = HealthCheckDetailsRecorded | FinalAssessmentIssued
        keyed = {e.stream_id for e in events if isinstance(e, apart)}
        keyed.update(r["client_id"] for r in loaded if PREFIX in r["facts"])
        sealer = await sealer_for(conn, keyed)
        stored = {r["client_id"]: open_facts(sealer, r["facts"]) for r in loaded}
        for c in missing:
            bulk.load(c, stored.get(c))  # None: the client has no case in the schema yet
        after: list[CaseFacts | None] = []
        for event in events:
            if not _folded(event):
                after.append(None)
                continue
            facts = evolve(bulk.current(event.stream_id) or CaseFacts.new(event), event)
            bulk.change(event.stream_id, facts)
            after.append(facts)
        await self._write_apart(conn, events, sealer)
        if bulk.full():
            await self._flush_bulk(conn, bulk)
        return after

    async def _flush_bulk(self, conn: asyncpg.Connection, bulk: BulkCases) -> None:
        """Write the held cases that changed since they were written, each once, in the
        clients' order, and forget every case held (memory stays bounded)."""
        changes = bulk.take_changes()
        sealer = await sealer_for(conn, [new.client_id for _, new in changes])
        await self._write_changes(conn, changes, sealer)

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
