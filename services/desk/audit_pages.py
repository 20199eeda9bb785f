"""The auditor's page of one client (*tarkastaja*): the client's timeline (every event of
their streams: what happened, who did it and when) and the access report ("who has seen
or received this client's data": every read, the desk's page views among them, and
every disclosure). Both are reporting's audit API, called as the auditor with the
purpose ``audit`` (docs/adr/0045)."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from runtime.access import Permission
from services.desk.bootstrap import parts_of
from services.desk.i18n import N_
from services.desk.pages import refused
from services.desk.web import page, signed_in


def router() -> APIRouter:
    api = APIRouter()

    @api.get("/audit/clients", include_in_schema=False)
    async def client_audit(request: Request) -> Response:
        session = signed_in(request)
        assert session.token is not None
        client_id = request.query_params.get("client_id", "").strip()
        context: dict[str, object] = {"client_id": client_id, "timeline": None, "accesses": None}
        if client_id:
            apis, client = parts_of(request.app).apis, quote(client_id, safe="")
            timeline = await apis.call(
                "reporting", "GET", f"/audit/clients/{client}/timeline", token=session.token, purpose="audit"
            )
            if not timeline.ok:
                return refused(request, timeline, Permission.AUDIT_READ)
            accesses = await apis.call(
                "reporting",
                "GET",
                f"/audit/clients/{client}/access-report",
                token=session.token,
                purpose="audit",
            )
            if not accesses.ok:
                return refused(request, accesses, Permission.AUDIT_READ)
            context.update(timeline=timeline.body, accesses=accesses.body)
        return page(request, "audit.html", context, title=N_("A client's timeline and access report"))

    return api
