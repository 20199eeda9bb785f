"""The intake advisor's service-needs assessment (*palvelutarvearvio*) of one client: the
six areas, each with its support need and notes, the advisor and an optional pair
assessor (*pariarvioija*, a municipal or TE assessor), the entry rule and the route it
leads to. The form posts to the desk, which sends intake's ``POST
/clients/{id}/assessment`` as the user and shows the answer's problem beside the field it
names (``findings.2.support_need``, ``assessors.1.role``): the areas are always sent in
the one order of :data:`AREAS`, so an error's index is its area's row."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from contracts.intake import AssessmentArea, ClientProfile, Route, SupportNeed
from runtime import clock
from runtime.access import Permission
from runtime.roles import Role
from services.desk.apis import Problem
from services.desk.bootstrap import parts_of
from services.desk.i18n import N_
from services.desk.pages import refused, submitted
from services.desk.session import DeskSession
from services.desk.web import Form, form_context, form_of, page, signed_in

#: the areas in the order the form shows and sends them
AREAS: tuple[AssessmentArea, ...] = tuple(AssessmentArea)
#: the pair assessor's fields: all three are sent once any is filled in
PAIR_FIELDS = ("person_id", "role", "organisation")
#: the roles the form offers for the pair assessor (the API checks who may assess)
PAIR_ROLES: tuple[Role, ...] = (
    Role.SOCIAL_WORKER,
    Role.EMPLOYMENT_ADVISOR,
    Role.PSYCHOLOGIST,
    Role.SERVICE_GUIDE,
)


def assessment_body(form: Form, session: DeskSession) -> dict[str, Any]:
    """The API's body from the form. The signed-in user is the first assessor; what is
    left empty is left out, for the API to name beside its field."""
    assert session.actor is not None
    me = {
        "person_id": session.actor.person_id,
        "role": session.actor.role,
        "organisation": session.actor.organisation,
    }
    assessors: list[dict[str, str]] = [me]
    pair = {name: form.get(f"assessors.1.{name}", "").strip() for name in PAIR_FIELDS}
    if any(pair.values()):
        assessors.append(pair)
    body: dict[str, Any] = {
        "assessors": assessors,
        "findings": [
            {
                "area": area.value,
                "support_need": form.get(f"findings.{index}.support_need") or SupportNeed.NOT_ASSESSED.value,
                "notes": form.get(f"findings.{index}.notes", ""),
            }
            for index, area in enumerate(AREAS)
        ],
        "summary": form.get("summary", ""),
    }
    for name in ("assessed_on", "route", "destination"):
        if form.get(name):
            body[name] = form[name]
    if form.get("capacity_allows_rehabilitative_work") in ("yes", "no"):
        body["capacity_allows_rehabilitative_work"] = form["capacity_allows_rehabilitative_work"] == "yes"
    body["profile"] = form.get("profile") or None
    segment = form.get("ministry_segment", "")
    body["ministry_segment"] = (int(segment) if segment.isdigit() else segment) if segment else None
    return body


def router() -> APIRouter:
    api = APIRouter()

    async def assessment_page(
        request: Request,
        client_id: str,
        *,
        problem: Problem | None = None,
        values: Form | None = None,
        status: int = 200,
    ) -> Response:
        session = signed_in(request)
        assert session.token is not None
        case = await parts_of(request.app).apis.call(
            "intake", "GET", f"/clients/{quote(client_id, safe='')}", token=session.token, purpose="intake"
        )
        if not case.ok:
            return refused(request, case, Permission.ASSESSMENT_COMPLETE)
        return page(
            request,
            "assessment.html",
            {
                "case": case.body,
                "areas": list(enumerate(AREAS)),
                "needs": list(SupportNeed),
                "routes": list(Route),
                "profiles": list(ClientProfile),
                "pair_roles": [role.value for role in PAIR_ROLES],
                **form_context(problem, values),
                "today": clock.today().isoformat(),
            },
            title=N_("Service-needs assessment"),
            status=status,
        )

    @api.get("/intake/clients/{client_id}/assessment", include_in_schema=False)
    async def form(request: Request, client_id: str) -> Response:
        return await assessment_page(request, client_id)

    @api.post("/intake/clients/{client_id}/assessment", include_in_schema=False)
    async def complete(request: Request, client_id: str) -> Response:
        session = signed_in(request)
        values = await form_of(request)
        assert session.token is not None
        answer = await parts_of(request.app).apis.call(
            "intake",
            "POST",
            f"/clients/{quote(client_id, safe='')}/assessment",
            token=session.token,
            json=assessment_body(values, session),
        )
        return await submitted(
            request,
            answer,
            done=f"/intake/clients/{quote(client_id, safe='')}?done=assessment",
            again=lambda problem: assessment_page(
                request, client_id, problem=problem, values=values, status=problem.status
            ),
            permission=Permission.ASSESSMENT_COMPLETE,
        )

    return api
