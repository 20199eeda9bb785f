"""The intake advisor's pages for one client and for the info sessions (*infotilaisuudet*):
the client's intake case, taking them from the queue, the invitation, the attendance and
the consents (*suostumukset*) with their withdrawal; the upcoming sessions and scheduling
one. Each form posts to the desk, which calls intake's API as the user and shows the
answer's problem beside the form and field it concerns (services/desk/pages.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from contracts.intake import ConsentScope
from runtime import clock
from runtime.access import Permission, allowed
from services.desk.apis import Answer, Problem
from services.desk.bootstrap import parts_of
from services.desk.i18n import N_
from services.desk.labels import organisations
from services.desk.pages import refused, submitted
from services.desk.process import STATUTES
from services.desk.web import Form, form_context, form_of, page, signed_in

#: the forms of the client page, by the action they post to
CLIENT_FORMS = ("pick", "invitation", "attendance", "appointment", "consent", "withdrawal")


def aware(value: str) -> str:
    """A ``datetime-local`` value (no offset) in the centre's zone, as the API takes it; a
    value that is no time is sent as typed, for the API to answer beside its field."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    return (moment if moment.tzinfo else moment.replace(tzinfo=clock.zone())).isoformat()


def body_of(action: str, form: Form) -> dict[str, Any]:
    """The API's body of one of the client page's forms."""
    if action == "invitation":
        return {"client_id": form.get("client_id", "")}
    if action == "attendance":
        body: dict[str, Any] = {
            "session_id": form.get("session_id", ""),
            "initial_survey_form_given": "initial_survey_form_given" in form,
            "data_protection_leaflet_given": "data_protection_leaflet_given" in form,
        }
        if form.get("attended") in ("yes", "no"):
            body["attended"] = form["attended"] == "yes"
        if form.get("attended_on"):
            body["attended_on"] = form["attended_on"]
        return body
    if action == "appointment":
        body = {"assessor_person_id": form.get("assessor_person_id", "")}
        if form.get("appointment_at"):
            body["appointment_at"] = aware(form["appointment_at"])
        return body
    if action == "consent":
        body = {"scopes": form.all("scopes"), "organisations": form.all("organisations")}
        if form.get("given_on"):
            body["given_on"] = form["given_on"]
        return body
    if action == "withdrawal":
        return {"withdrawn_on": form["withdrawn_on"]} if form.get("withdrawn_on") else {}
    return {}


def api_call(action: str, client_id: str, form: Form) -> tuple[str, str]:
    """The API's method path of one of the client page's forms."""
    client = quote(client_id, safe="")
    return {
        "pick": ("POST", f"/queue/{client}/pick"),
        "invitation": ("POST", f"/info-sessions/{quote(form.get('session_id', ''), safe='')}/invitations"),
        "attendance": ("POST", f"/clients/{client}/info-session-attendance"),
        "appointment": ("POST", f"/clients/{client}/assessment-appointment"),
        "consent": ("POST", f"/clients/{client}/consents"),
        "withdrawal": (
            "POST",
            f"/clients/{client}/consents/{quote(form.get('consent_id', ''), safe='')}/withdrawal",
        ),
    }[action]


def router() -> APIRouter:
    api = APIRouter()

    async def client_page(
        request: Request,
        client_id: str,
        *,
        problem: Problem | None = None,
        problem_form: str | None = None,
        values: Form | None = None,
        status: int = 200,
    ) -> Response:
        session = signed_in(request)
        assert session.token is not None and session.actor is not None
        parts = parts_of(request.app)
        case = await parts.apis.call(
            "intake", "GET", f"/clients/{quote(client_id, safe='')}", token=session.token, purpose="intake"
        )
        if not case.ok:
            return refused(request, case, Permission.INTAKE_CASE_READ)
        known = organisations(parts.municipalities)
        sessions: Answer = Answer(200, [])
        if allowed(Permission.SESSION_READ, session.actor.role):
            sessions = await parts.apis.call("intake", "GET", "/info-sessions", token=session.token)
        return page(
            request,
            "client.html",
            {
                "case": case.body,
                "statute": STATUTES.get(case.body["rules"]["statute"], case.body["rules"]["statute"]),
                "sessions": sessions.body if sessions.ok else [],
                **form_context(problem, values, problem_form),
                "scopes": list(ConsentScope),
                "organisations": known,
                "organisation_names": {code: (label, v) for code, label, v in known},
                "today": clock.today().isoformat(),
                "done": request.query_params.get("done"),
            },
            title=N_("Client"),
            status=status,
        )

    @api.get("/intake/clients/{client_id}", include_in_schema=False)
    async def client(request: Request, client_id: str) -> Response:
        return await client_page(request, client_id)

    @api.post("/intake/clients/{client_id}/{action}", include_in_schema=False)
    async def act(request: Request, client_id: str, action: str) -> Response:
        session = signed_in(request)
        form = await form_of(request)
        assert session.token is not None
        if action not in CLIENT_FORMS:
            return page(request, "not_found.html", {}, title=N_("No such page"), status=404)
        method, path = api_call(action, client_id, form)
        answer = await parts_of(request.app).apis.call(
            "intake",
            method,
            path,
            token=session.token,
            json=body_of(action, form) if action != "pick" else None,
        )
        return await submitted(
            request,
            answer,
            done=f"/intake/clients/{quote(client_id, safe='')}?done={action}",
            again=lambda problem: client_page(
                request, client_id, problem=problem, problem_form=action, values=form, status=problem.status
            ),
            permission=Permission.INTAKE_CASE_READ,
        )

    async def sessions_page(
        request: Request, *, problem: Problem | None = None, values: Form | None = None, status: int = 200
    ) -> Response:
        session = signed_in(request)
        assert session.token is not None
        answer = await parts_of(request.app).apis.call("intake", "GET", "/info-sessions", token=session.token)
        if not answer.ok:
            return refused(request, answer, Permission.SESSION_READ)
        return page(
            request,
            "sessions.html",
            {
                "sessions": answer.body,
                **form_context(problem, values),
                "done": request.query_params.get("done") == "scheduled",
            },
            title=N_("Info sessions"),
            status=status,
        )

    @api.get("/intake/info-sessions", include_in_schema=False)
    async def info_sessions(request: Request) -> Response:
        return await sessions_page(request)

    @api.post("/intake/info-sessions", include_in_schema=False)
    async def schedule(request: Request) -> Response:
        session = signed_in(request)
        form = await form_of(request)
        assert session.token is not None
        body: dict[str, Any] = {"place": form.get("place", "")}
        if form.get("starts_at"):
            body["starts_at"] = aware(form["starts_at"])
        capacity = form.get("capacity", "")
        if capacity:
            body["capacity"] = int(capacity) if capacity.isdigit() else capacity
        answer = await parts_of(request.app).apis.call(
            "intake", "POST", "/info-sessions", token=session.token, json=body
        )
        return await submitted(
            request,
            answer,
            done="/intake/info-sessions?done=scheduled",
            again=lambda problem: sessions_page(request, problem=problem, values=form, status=problem.status),
            permission=Permission.SESSION_MANAGE,
        )

    return api
