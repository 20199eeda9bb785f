"""Reads of the side views: the TE side's clients, each municipality's clients and
transfers, the health partition. Each reads its own partition's tables only, so what a
side sees is what the partition holds: the consent filter was applied when the rows
were cut (:mod:`services.reporting.partitions`). Personal text is stored sealed and
revealed here, with the clients' keys read for this call (docs/adr/0020)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID

import asyncpg
from pydantic import BaseModel

from runtime.db import quote_ident
from services.reporting.sealed import open_rows, sealer_for

_TE_CLIENTS = """
SELECT client_id, municipality, referral_source, referral_date, route, profile, ministry_segment,
       opened_on, guide_person_id, phase, closed_on, outcome
FROM {s}.te_clients WHERE ($1::text IS NULL OR municipality = $1) ORDER BY client_id
"""
_TE_CLIENT = """
SELECT client_id, municipality, referral_source, referral_date, route, profile, ministry_segment,
       opened_on, guide_person_id, phase, closed_on, outcome
FROM {s}.te_clients WHERE client_id = $1
"""
_TE_MEASURES = """
SELECT client_id, measure_id, kind, provider, start_on, end_on, status FROM {s}.te_measures
WHERE client_id = $1 ORDER BY start_on, measure_id
"""
_TE_HEALTH_SUMMARIES = """
SELECT client_id, n, checked_on, work_restrictions_found, recommended_next_step FROM {s}.te_health_summaries
WHERE client_id = $1 ORDER BY n
"""
_TE_FINAL_ASSESSMENTS = """
SELECT event_id, client_id, closed_on, outcome, outside_labour_force_reason, services_continue,
       follow_up_advisor_person_id, work_ability_clarified, competence_improved,
       recommended_services, assessment_text
FROM {s}.te_final_assessments WHERE client_id = $1 ORDER BY closed_on, event_id
"""
_MUNICIPAL_CLIENTS = """
SELECT client_id, home_municipality, route, opened_on, closed_on, at_social_services
FROM {s}.municipal_clients WHERE municipality = $1 ORDER BY client_id
"""
_MUNICIPAL_TRANSFERS = """
SELECT municipality, transfer_id, client_id, transferred_on, plan_start, plan_months, days_per_week,
       hours_per_day,
       place, relationship_stays_open, acknowledged_on, accepted, returned_on
FROM {s}.municipal_transfers WHERE municipality = $1 ORDER BY transferred_on, transfer_id
"""
_HEALTH_CHECKS = """
SELECT event_id, client_id, checked_on, details FROM {s}.health_checks WHERE client_id = $1
ORDER BY checked_on, event_id
"""


class TeClient(BaseModel):
    client_id: str
    municipality: str
    referral_source: str | None
    referral_date: date | None
    route: str | None
    profile: str | None
    ministry_segment: int | None
    opened_on: date | None
    guide_person_id: str | None
    phase: str | None
    closed_on: date | None
    outcome: str | None


class TeMeasure(BaseModel):
    measure_id: str
    kind: str
    provider: str
    start_on: date
    end_on: date | None
    status: str


class TeHealthSummary(BaseModel):
    checked_on: date
    work_restrictions_found: bool
    recommended_next_step: str


class TeFinalAssessment(BaseModel):
    event_id: UUID
    closed_on: date
    outcome: str
    outside_labour_force_reason: str | None
    services_continue: str
    follow_up_advisor_person_id: str | None
    work_ability_clarified: bool
    competence_improved: bool
    recommended_services: list[str]
    assessment_text: str


class TeClientRecord(BaseModel):
    """What the TE side holds of one client: the centre's data while the client's consent
    to data exchange within the centre is in force (else ``client`` is null and the lists
    are empty), and the final assessments, which are the TE-office's own."""

    client_id: str
    client: TeClient | None
    measures: list[TeMeasure]
    health_summaries: list[TeHealthSummary]
    final_assessments: list[TeFinalAssessment]


class MunicipalClient(BaseModel):
    client_id: str
    home_municipality: str
    route: str | None
    opened_on: date | None
    closed_on: date | None
    at_social_services: bool


class MunicipalTransfer(BaseModel):
    transfer_id: str
    client_id: str
    transferred_on: date
    #: the activation plan; null for the hand-over at opening (transfer_id "opening") until
    #: the receiving side accepts it with its plan
    plan_start: date | None
    plan_months: int | None
    days_per_week: int | None
    hours_per_day: Decimal | None
    place: str | None
    relationship_stays_open: bool
    acknowledged_on: date | None
    accepted: bool | None
    returned_on: date | None


class MunicipalRecord(BaseModel):
    municipality: str
    clients: list[MunicipalClient]
    transfers: list[MunicipalTransfer]


class HealthCheck(BaseModel):
    event_id: UUID
    checked_on: date
    details: str


M = TypeVar("M", bound=BaseModel)


def _models(model: type[M], rows: list[Any]) -> list[M]:
    return [model.model_validate(dict(r)) for r in rows]


async def _revealed(conn: asyncpg.Connection, table: str, rows: list[Any]) -> list[dict[str, object]]:
    """``rows`` of ``table`` with the sealed column revealed, with keys read now."""
    if not rows:
        return []
    return open_rows(await sealer_for(conn, [r["client_id"] for r in rows]), table, rows)


class SideViews:
    def __init__(self, schema: str) -> None:
        s = quote_ident(schema)
        self._te_clients = _TE_CLIENTS.format(s=s)
        self._te_client = _TE_CLIENT.format(s=s)
        self._te_measures = _TE_MEASURES.format(s=s)
        self._te_health = _TE_HEALTH_SUMMARIES.format(s=s)
        self._te_final = _TE_FINAL_ASSESSMENTS.format(s=s)
        self._municipal_clients = _MUNICIPAL_CLIENTS.format(s=s)
        self._municipal_transfers = _MUNICIPAL_TRANSFERS.format(s=s)
        self._health = _HEALTH_CHECKS.format(s=s)

    async def te_clients(self, conn: asyncpg.Connection, *, municipality: str | None) -> list[TeClient]:
        return _models(TeClient, await conn.fetch(self._te_clients, municipality))

    async def te_client(self, conn: asyncpg.Connection, client_id: str) -> TeClientRecord:
        row = await conn.fetchrow(self._te_client, client_id)
        measures = await _revealed(conn, "te_measures", await conn.fetch(self._te_measures, client_id))
        health = await _revealed(conn, "te_health_summaries", await conn.fetch(self._te_health, client_id))
        final = await _revealed(conn, "te_final_assessments", await conn.fetch(self._te_final, client_id))
        return TeClientRecord(
            client_id=client_id,
            client=TeClient.model_validate(dict(row)) if row is not None else None,
            measures=_models(TeMeasure, measures),
            health_summaries=_models(TeHealthSummary, health),
            final_assessments=_models(TeFinalAssessment, final),
        )

    async def municipality(self, conn: asyncpg.Connection, municipality: str) -> MunicipalRecord:
        return MunicipalRecord(
            municipality=municipality,
            clients=_models(MunicipalClient, await conn.fetch(self._municipal_clients, municipality)),
            transfers=_models(
                MunicipalTransfer,
                await _revealed(
                    conn, "municipal_transfers", await conn.fetch(self._municipal_transfers, municipality)
                ),
            ),
        )

    async def health_checks(self, conn: asyncpg.Connection, client_id: str) -> list[HealthCheck]:
        return _models(
            HealthCheck, await _revealed(conn, "health_checks", await conn.fetch(self._health, client_id))
        )
