"""The side views (osapuolten näkymät): the TE side's, a municipality's social services',
the health partition's. Each read of client data is recorded in the access log."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException

from runtime.http import Purpose
from services.disclosure.policy import Kind
from services.reporting.api.common import (
    ClientId,
    HealthView,
    Municipality,
    MunicipalityPath,
    MunicipalView,
    TeView,
    Year,
    known_municipality,
    may_read,
    municipal_client_ids,
    own_municipality,
)
from services.reporting.bootstrap import Parts
from services.reporting.statistics import ServicesUsed
from services.reporting.views import HealthCheck, MunicipalRecord, TeClient, TeClientRecord

routes = APIRouter()


@routes.get(
    "/views/te/clients",
    tags=["views"],
    summary="TE side: clients whose consent to data exchange within the centre is in force",
)
async def te_clients(
    actor: TeView, why: Purpose, parts: Parts, municipality: Municipality = None
) -> list[TeClient]:
    config = parts.config
    may_read(actor, Kind.TE_VIEW)
    async with parts.pool.acquire() as conn:
        found = await parts.views.te_clients(conn, municipality=known_municipality(config, municipality))
    await parts.access_log.record(actor, [c.client_id for c in found], what="TE view", purpose=why)
    return found


@routes.get(
    "/views/te/clients/{client_id}",
    tags=["views"],
    summary="TE side: one client's record (centre data under consent; final assessments)",
)
async def te_client(actor: TeView, why: Purpose, parts: Parts, client_id: ClientId) -> TeClientRecord:
    may_read(actor, Kind.TE_VIEW, client_id)
    async with parts.pool.acquire() as conn:
        record = await parts.views.te_client(conn, client_id)
    if record.client is None and not record.final_assessments:
        raise HTTPException(404, "the TE side holds nothing of this client")
    await parts.access_log.record(actor, [client_id], what="TE view of a client", purpose=why)
    return record


@routes.get(
    "/views/municipalities/{municipality}/clients",
    tags=["views"],
    summary="A municipality's social services: residents and transfers disclosed to it by consent",
)
async def municipal_clients(
    actor: MunicipalView,
    why: Purpose,
    parts: Parts,
    municipality: MunicipalityPath,
) -> MunicipalRecord:
    config = parts.config
    name = known_municipality(config, municipality, "path")
    assert name is not None
    own_municipality(actor, name)
    async with parts.pool.acquire() as conn:
        record = await parts.views.municipality(conn, name)
    await parts.access_log.record(
        actor, municipal_client_ids(record), what=f"{name} social services view", purpose=why
    )
    return record


@routes.get(
    "/views/municipalities/{municipality}/services",
    tags=["views"],
    summary="Services a municipality's residents used (measures by kind): aggregates",
)
async def municipal_services(
    actor: MunicipalView,
    parts: Parts,
    municipality: MunicipalityPath,
    year: Year = None,
) -> ServicesUsed:
    stats, config = parts.statistics, parts.config
    name = known_municipality(config, municipality, "path")
    assert name is not None
    own_municipality(actor, name)
    async with parts.pool.acquire() as conn:
        return await stats.services_used(conn, year=year, municipality=name)


@routes.get(
    "/views/health/clients/{client_id}",
    tags=["views"],
    summary="Health partition: the health check details of one client",
)
async def health_checks(
    actor: HealthView, why: Purpose, parts: Parts, client_id: ClientId
) -> list[HealthCheck]:
    may_read(actor, Kind.HEALTH_DETAILS, client_id)
    async with parts.pool.acquire() as conn:
        found = await parts.views.health_checks(conn, client_id)
    await parts.access_log.record(actor, [client_id], what="health partition", purpose=why)
    return found
