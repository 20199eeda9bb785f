"""The nurse's health check (*terveystarkastus*): the form that records it through
guidance's ``POST /cases/{id}/health-check`` (the summary for the team, the details into
the health partition) and the details recorded so far, read through
``GET /cases/{id}/health-details`` (health staff only; each read is in the access log).
Any other role gets the denied page, as the API refuses them (docs/adr/0045)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from runtime import clock
from runtime.access import Permission
from services.desk.apis import Problem
from services.desk.bootstrap import parts_of
from services.desk.i18n import N_
from services.desk.pages import refused, submitted
from services.desk.web import Form, form_context, form_of, page, signed_in


def health_check_body(form: Form) -> dict[str, Any]:
    """The API's body: what is left empty is left out (the API says it is missing)."""
    body: dict[str, Any] = {
        name: form[name] for name in ("checked_on", "recommended_next_step", "details") if form.get(name)
    }
    if form.get("work_restrictions_found") in ("yes", "no"):
        body["work_restrictions_found"] = form["work_restrictions_found"] == "yes"
    return body


def router() -> APIRouter:
    api = APIRouter()

    async def health_page(
        request: Request,
        client_id: str,
        *,
        problem: Problem | None = None,
        values: Form | None = None,
        status: int = 200,
    ) -> Response:
        session = signed_in(request)
        assert session.token is not None
        client = quote(client_id, safe="")
        details = await parts_of(request.app).apis.call(
            "guidance", "GET", f"/cases/{client}/health-details", token=session.token, purpose="health_check"
        )
        if not details.ok:
            return refused(request, details, Permission.HEALTH_READ)
        return page(
            request,
            "health.html",
            {
                "client_id": client_id,
                "details": details.body,
                **form_context(problem, values),
                "today": clock.today().isoformat(),
                "done": request.query_params.get("done") == "health-check",
            },
            title=N_("Health check"),
            status=status,
        )

    @api.get("/guidance/cases/{client_id}/health", include_in_schema=False)
    async def health(request: Request, client_id: str) -> Response:
        return await health_page(request, client_id)

    @api.post("/guidance/cases/{client_id}/health", include_in_schema=False)
    async def record(request: Request, client_id: str) -> Response:
        session = signed_in(request)
        assert session.token is not None
        form = await form_of(request)
        client = quote(client_id, safe="")
        answer = await parts_of(request.app).apis.call(
            "guidance",
            "POST",
            f"/cases/{client}/health-check",
            token=session.token,
            json=health_check_body(form),
        )
        return await submitted(
            request,
            answer,
            done=f"/guidance/cases/{client}/health?done=health-check",
            again=lambda problem: health_page(
                request, client_id, problem=problem, values=form, status=problem.status
            ),
            permission=Permission.HEALTH_RECORD,
        )

    return api
