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
from pydantic import BaseModel, Field

from contracts.guidance import Continuation, MeasureStatus, Outcome, OutsideLabourForceReason, Phase
from contracts.intake import ClientProfile, ReferralSource, Route
from runtime.field_docs import CLIENT_ID, MINISTRY_SEGMENT, MUNICIPALITY, PERSON_ID
from runtime.sql import SqlStatements
from services.reporting.sealed import open_rows, sealer_for


class ViewsSql(SqlStatements):
    """The side views' reads (osapuolten näkymät), formatted once for a schema."""

    te_clients = """
        SELECT client_id, municipality, referral_source, referral_date, route, profile, ministry_segment,
               opened_on, guide_person_id, phase, closed_on, outcome
        FROM {schema}.te_clients WHERE ($1::text IS NULL OR municipality = $1) ORDER BY client_id
    """

    te_client = """
        SELECT client_id, municipality, referral_source, referral_date, route, profile, ministry_segment,
               opened_on, guide_person_id, phase, closed_on, outcome
        FROM {schema}.te_clients WHERE client_id = $1
    """

    te_measures = """
        SELECT client_id, measure_id, kind, provider, start_on, end_on, status FROM {schema}.te_measures
        WHERE client_id = $1 ORDER BY start_on, measure_id
    """

    te_health = """
        SELECT client_id, n, checked_on, work_restrictions_found, recommended_next_step
        FROM {schema}.te_health_summaries WHERE client_id = $1 ORDER BY n
    """

    te_final = """
        SELECT event_id, client_id, closed_on, outcome, outside_labour_force_reason, services_continue,
               follow_up_advisor_person_id, work_ability_clarified, competence_improved,
               recommended_services, assessment_text
        FROM {schema}.te_final_assessments WHERE client_id = $1 ORDER BY closed_on, event_id
    """

    municipal_clients = """
        SELECT municipality, client_id, home_municipality, route, opened_on, closed_on, at_social_services,
               name
        FROM {schema}.municipal_clients WHERE municipality = $1 ORDER BY client_id
    """

    municipal_transfers = """
        SELECT municipality, transfer_id, client_id, transferred_on, plan_start, plan_months, days_per_week,
               hours_per_day,
               place, relationship_stays_open, acknowledged_on, accepted, returned_on
        FROM {schema}.municipal_transfers WHERE municipality = $1 ORDER BY transferred_on, transfer_id
    """

    health = """
        SELECT event_id, client_id, checked_on, details FROM {schema}.health_checks WHERE client_id = $1
        ORDER BY checked_on, event_id
    """


class TeClient(BaseModel):
    client_id: str = Field(description=CLIENT_ID)
    municipality: str = Field(description=MUNICIPALITY)
    referral_source: ReferralSource | None = Field(
        description="Who referred the client (te_office, social_services, ...)"
    )
    referral_date: date | None = Field(description="The day of the referral")
    route: Route | None = Field(description="The route of the latest assessment; null before one")
    profile: ClientProfile | None = Field(description="The client profile; null if none")
    ministry_segment: int | None = Field(ge=1, le=3, description=MINISTRY_SEGMENT)
    opened_on: date | None = Field(description="The day the guidance case opened; null if not opened")
    guide_person_id: str | None = Field(description=f"The named guide: {PERSON_ID}; null if none")
    phase: Phase | None = Field(description="The phase of service guidance; null before a case")
    closed_on: date | None = Field(description="The day the relationship closed; null while open")
    outcome: Outcome | None = Field(description="How the relationship ended; null while open")


class TeMeasure(BaseModel):
    measure_id: str = Field(description="The measure's id within the plan")
    kind: str = Field(description="A code from the measure catalogue")
    provider: str = Field(description="Who provides it; personal data")
    start_on: date = Field(description="The day it starts")
    end_on: date | None = Field(description="The day it ends; null if open")
    status: MeasureStatus = Field(description="Where the measure stands")


class TeHealthSummary(BaseModel):
    checked_on: date = Field(description="The day of the health check")
    work_restrictions_found: bool = Field(description="The check found restrictions on work")
    recommended_next_step: str = Field(description="What the nurse recommends next; personal data")


class TeFinalAssessment(BaseModel):
    event_id: UUID = Field(description="The FinalAssessmentIssued event's id")
    closed_on: date = Field(description="The day the relationship closed")
    outcome: Outcome = Field(description="How the relationship ended")
    outside_labour_force_reason: OutsideLabourForceReason | None = Field(
        description="For outcome outside_labour_force: why"
    )
    services_continue: Continuation = Field(description="Where services continue after closure")
    follow_up_advisor_person_id: str | None = Field(description=f"Who follows the client up: {PERSON_ID}")
    work_ability_clarified: bool = Field(description="The client's work ability was clarified")
    competence_improved: bool = Field(description="The client's competence improved")
    recommended_services: list[str] = Field(description="Services recommended after closure")
    assessment_text: str = Field(description="The final assessment's text; personal data")


class TeClientRecord(BaseModel):
    """What the TE side holds of one client: the centre's data while the client's consent
    to data exchange within the centre is in force (else ``client`` is null and the lists
    are empty), and the final assessments, which are the TE-office's own."""

    client_id: str = Field(description=CLIENT_ID)
    client: TeClient | None = Field(
        description="The centre's data of the client; null while no consent to data exchange is in force"
    )
    measures: list[TeMeasure] = Field(description="The plan's measures; empty without that consent")
    health_summaries: list[TeHealthSummary] = Field(
        description="The health checks' shareable summaries; empty without that consent"
    )
    final_assessments: list[TeFinalAssessment] = Field(
        description="The final assessments issued to the TE-office (its own data)"
    )


#: the activation plan's terms: null for the hand-over at opening (transfer_id "opening")
PLAN_NOTE = "null for the hand-over at opening (transfer_id `opening`)"


class MunicipalClient(BaseModel):
    client_id: str = Field(description=CLIENT_ID)
    name: str | None = Field(
        description="The client's name (first and last; personal data), shown while a consent in force "
        "names this municipality's social services; null once the client's data is erased"
    )
    home_municipality: str = Field(description=MUNICIPALITY)
    route: Route | None = Field(description="The route of the latest assessment")
    opened_on: date | None = Field(description="The day the guidance case opened")
    closed_on: date | None = Field(description="The day the relationship closed; null while open")
    at_social_services: bool = Field(description="The client is with this municipality's social services now")


class MunicipalTransfer(BaseModel):
    transfer_id: str = Field(
        description="The transfer's id; `opening` for a case opened with social services"
    )
    client_id: str = Field(description=CLIENT_ID)
    transferred_on: date = Field(description="The day of the hand-over")
    plan_start: date | None = Field(description=f"The activation plan's first day; {PLAN_NOTE}")
    plan_months: int | None = Field(description=f"The activation plan's months; {PLAN_NOTE}")
    days_per_week: int | None = Field(description=f"Days a week; {PLAN_NOTE}")
    hours_per_day: Decimal | None = Field(description=f"Hours a day; {PLAN_NOTE}")
    place: str | None = Field(description=f"Where the client works (personal data); {PLAN_NOTE}")
    relationship_stays_open: bool = Field(description="The centre's client relationship stays open meanwhile")
    acknowledged_on: date | None = Field(description="The day social services answered; null until then")
    accepted: bool | None = Field(description="Social services accepted (true) or declined; null until then")
    returned_on: date | None = Field(description="The day the client came back to a guide; null if not back")


class MunicipalRecord(BaseModel):
    municipality: str = Field(description="The municipality whose view this is")
    clients: list[MunicipalClient] = Field(description="The municipality's clients in the centre")
    transfers: list[MunicipalTransfer] = Field(description="Hand-overs to its social services")


class HealthCheck(BaseModel):
    event_id: UUID = Field(description="The HealthCheckDetailsRecorded event's id")
    checked_on: date = Field(description="The day of the health check")
    details: str = Field(description="The health check's details: the health partition only; personal data")


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
        self.sql = ViewsSql(schema)

    async def te_clients(self, conn: asyncpg.Connection, *, municipality: str | None) -> list[TeClient]:
        return _models(TeClient, await conn.fetch(self.sql.te_clients, municipality))

    async def te_client(self, conn: asyncpg.Connection, client_id: str) -> TeClientRecord:
        row = await conn.fetchrow(self.sql.te_client, client_id)
        measures = await _revealed(conn, "te_measures", await conn.fetch(self.sql.te_measures, client_id))
        health = await _revealed(conn, "te_health_summaries", await conn.fetch(self.sql.te_health, client_id))
        final = await _revealed(conn, "te_final_assessments", await conn.fetch(self.sql.te_final, client_id))
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
            clients=_models(
                MunicipalClient,
                await _revealed(
                    conn, "municipal_clients", await conn.fetch(self.sql.municipal_clients, municipality)
                ),
            ),
            transfers=_models(
                MunicipalTransfer,
                await _revealed(
                    conn, "municipal_transfers", await conn.fetch(self.sql.municipal_transfers, municipality)
                ),
            ),
        )

    async def health_checks(self, conn: asyncpg.Connection, client_id: str) -> list[HealthCheck]:
        return _models(
            HealthCheck, await _revealed(conn, "health_checks", await conn.fetch(self.sql.health, client_id))
        )
