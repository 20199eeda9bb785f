"""Named guides (nimetty ohjaaja) and their caseloads, suggestions for a client, and the
assignment."""

from __future__ import annotations

from fastapi import APIRouter

from runtime.http import Purpose, context
from runtime.known_names import municipality_at
from services.guidance.api.common import (
    ERRORS,
    Assigns,
    ClientIdPath,
    ManagesGuides,
    Parts,
    Reads,
    read_case,
)
from services.guidance.api.models import AssignRequest, GuideRequest, GuideView, SuggestionView, Written
from services.guidance.api.views import guide_view, written
from services.guidance.domain import guides

routes = APIRouter()


@routes.post(
    "/guides",
    response_model=GuideView,
    status_code=201,
    tags=["guides"],
    summary="Add or update a named guide and the municipality areas they cover",
)
async def add_guide(body: GuideRequest, actor: ManagesGuides, parts: Parts) -> GuideView:
    # areas are the centre's municipalities, spelled as configured: a suggestion
    # matches a client's municipality against them (ADR 0027)
    municipalities = parts.settings.municipalities
    areas = list(
        dict.fromkeys(
            municipality_at(area, municipalities, "body", "areas", i) for i, area in enumerate(body.areas)
        )
    )
    async with parts.pool.acquire() as conn:
        g = await parts.repository.add_guide(
            conn, person_id=body.person_id, name=body.name, role=body.role, areas=areas
        )
    return guide_view(g, parts.service.caseload_limit)


@routes.get("/guides", response_model=list[GuideView], tags=["guides"], summary="Guides and their caseloads")
async def list_guides(actor: Reads, parts: Parts) -> list[GuideView]:
    return [guide_view(g, parts.service.caseload_limit) for g in await parts.queries.guides()]


@routes.get(
    "/cases/{client_id}/guide-suggestions",
    response_model=list[SuggestionView],
    tags=["guides"],
    responses=ERRORS,
    summary="Guides for this client: their area first, lightest caseload next",
)
async def suggestions(
    client_id: ClientIdPath, actor: Reads, why: Purpose, parts: Parts
) -> list[SuggestionView]:
    case = await read_case(parts, actor, client_id)
    await parts.access_log.record(actor, [client_id], what="client's municipality", purpose=why)
    limit = parts.service.caseload_limit
    return [
        SuggestionView(guide=guide_view(s.guide, limit), covers_area=s.covers_area, free_places=s.free_places)
        for s in guides.suggest_guides(await parts.queries.guides(), case.municipality, limit=limit)
    ]


@routes.post(
    "/cases/{client_id}/guide",
    response_model=Written,
    tags=["guides"],
    responses=ERRORS,
    summary="Assign (or reassign) the named guide; the caseload limit holds unless overridden",
)
async def assign(client_id: ClientIdPath, body: AssignRequest, actor: Assigns, parts: Parts) -> Written:
    return written(
        await parts.service.assign(
            client_id,
            body.guide_person_id,
            assigned_on=body.assigned_on,
            override_reason=body.override_reason,
            ctx=context(actor),
        )
    )
