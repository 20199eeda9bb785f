"""The auditor's page of one client (*tarkastaja*): the client's timeline (every event of
their streams: what happened, who did it and when) and the access report ("who has seen
or received this client's data": every read, the desk's page views among them, and
every disclosure). Both are reporting's audit API, called as the auditor with the
purpose ``audit`` (docs/adr/0045)."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse
from starlette.background import BackgroundTask

from runtime import clock
from runtime.access import Permission
from services.desk.bootstrap import parts_of
from services.desk.i18n import N_
from services.desk.pages import refused
from services.desk.web import page, signed_in, token_of

JSON_LINES = "application/x-ndjson"
#: the range of an export, as reporting takes it
EXPORT_RANGE = ("since", "until", "from_seq", "to_seq")


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

    @api.get("/audit/export", include_in_schema=False)
    async def export(request: Request) -> Response:
        """The audit log as reporting exports it (JSON Lines of CloudEvents with the
        audit chain), as a download; the range as reporting's ``GET /audit/export``
        takes it (``since``, ``until``, ``from_seq``, ``to_seq``)."""
        token = token_of(request)
        params = {k: v for k, v in request.query_params.items() if k in EXPORT_RANGE and v}
        response, refusal = await parts_of(request.app).apis.stream(
            "reporting", "/audit/export", token=token, purpose="audit", accept=JSON_LINES, params=params
        )
        if response is None:
            assert refusal is not None
            return refused(request, refusal, Permission.AUDIT_READ)
        name = f"reitti-audit-{clock.today().isoformat()}.jsonl"
        return StreamingResponse(
            response.aiter_bytes(),
            media_type=JSON_LINES,
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
            background=BackgroundTask(response.aclose),
        )

    return api
