"""The service coordinator's guides (*palveluohjaajat*): every named guide with the areas
they cover and their caseload against the limit, the guides of each area (the pairs per
area the centre's staff asked for), and the form that registers a guide or changes their
areas, through guidance's ``GET /guides`` and ``POST /guides`` (docs/adr/0045)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from runtime.access import Permission, allowed
from services.desk.apis import Problem
from services.desk.bootstrap import parts_of
from services.desk.i18n import N_
from services.desk.pages import refused, submitted
from services.desk.web import Form, form_context, form_of, page, signed_in


def guide_body(form: Form) -> dict[str, Any]:
    """The API's body: what is left empty is left out (the API says it is missing)."""
    body: dict[str, Any] = {name: form[name] for name in ("person_id", "name", "role") if form.get(name)}
    body["areas"] = [area for area in form.all("areas") if area]
    return body


def by_area(guides: list[dict[str, Any]], municipalities: tuple[str, ...]) -> dict[str, list[dict[str, Any]]]:
    """Each municipality -> the guides who cover it (an area with none listed empty)."""
    return {area: [g for g in guides if area in g["areas"]] for area in municipalities}


def router() -> APIRouter:
    api = APIRouter()

    async def guides_page(
        request: Request, *, problem: Problem | None = None, values: Form | None = None, status: int = 200
    ) -> Response:
        session = signed_in(request)
        assert session.token is not None and session.actor is not None
        parts = parts_of(request.app)
        answer = await parts.apis.call("guidance", "GET", "/guides", token=session.token)
        if not answer.ok:
            return refused(request, answer, Permission.GUIDANCE_READ)
        return page(
            request,
            "guides.html",
            {
                "guides": answer.body,
                "areas": by_area(answer.body, parts.municipalities),
                "municipalities": parts.municipalities,
                "may_manage": allowed(Permission.GUIDES_MANAGE, session.actor.role),
                **form_context(problem, values),
                "chosen_areas": values.all("areas") if values else [],
                "done": request.query_params.get("done") == "guide",
            },
            title=N_("Guides and their areas"),
            status=status,
        )

    @api.get("/guidance/guides", include_in_schema=False)
    async def guides(request: Request) -> Response:
        return await guides_page(request)

    @api.post("/guidance/guides", include_in_schema=False)
    async def register(request: Request) -> Response:
        session = signed_in(request)
        assert session.token is not None
        form = await form_of(request)
        answer = await parts_of(request.app).apis.call(
            "guidance", "POST", "/guides", token=session.token, json=guide_body(form)
        )
        return await submitted(
            request,
            answer,
            done="/guidance/guides?done=guide",
            again=lambda problem: guides_page(request, problem=problem, values=form, status=problem.status),
            permission=Permission.GUIDES_MANAGE,
        )

    return api
