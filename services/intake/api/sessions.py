"""Info sessions (*infotilaisuudet*), invitations, attendance and the assessment appointment."""

from __future__ import annotations

from fastapi import APIRouter

from runtime import clock
from runtime.http import context
from services.intake.api.dependencies import (
    CONFLICT,
    NOT_FOUND,
    ClientIdPath,
    ManagesSessions,
    ReadsSessions,
    Service,
    SessionIdPath,
)
from services.intake.api.models import (
    AppointmentRequest,
    AttendanceRequest,
    InfoSessionRequest,
    InfoSessionView,
    InvitationRequest,
    Written,
)
from services.intake.api.views import session_view, written
from services.intake.bootstrap import Parts
from services.intake.domain import sessions


def router() -> APIRouter:
    api = APIRouter()

    @api.post(
        "/info-sessions",
        response_model=InfoSessionView,
        status_code=201,
        tags=["info sessions"],
        summary="Schedule an info session",
        responses=CONFLICT,
    )
    async def schedule(body: InfoSessionRequest, actor: ManagesSessions, svc: Service) -> InfoSessionView:
        return session_view(
            await svc.schedule_session(
                starts_at=body.starts_at, place=body.place, capacity=body.capacity, ctx=context(actor)
            )
        )

    @api.get(
        "/info-sessions",
        response_model=list[InfoSessionView],
        tags=["info sessions"],
        summary="Upcoming info sessions and their free places",
    )
    async def list_sessions(parts: Parts, actor: ReadsSessions) -> list[InfoSessionView]:
        found = await parts.queries.sessions(since=clock.now())
        return [session_view(s) for s in found]

    @api.post(
        "/info-sessions/{session_id}/invitations",
        response_model=Written,
        status_code=201,
        tags=["info sessions"],
        summary="Invite a client; a full session refuses",
        responses={**NOT_FOUND, **CONFLICT},
    )
    async def invite(
        session_id: SessionIdPath, body: InvitationRequest, actor: ManagesSessions, svc: Service
    ) -> Written:
        return written(await svc.invite(session_id, body.client_id, context(actor)))

    @api.post(
        "/clients/{client_id}/info-session-attendance",
        response_model=Written,
        tags=["info sessions"],
        summary="Record attendance or a no-show, and the handouts",
        responses={**NOT_FOUND, **CONFLICT},
    )
    async def attendance(
        client_id: ClientIdPath, body: AttendanceRequest, actor: ManagesSessions, svc: Service
    ) -> Written:
        ctx = context(actor)
        return written(
            await svc.execute(
                client_id,
                lambda s: sessions.record_attendance(
                    s,
                    session_id=body.session_id,
                    attended=body.attended,
                    attended_on=body.attended_on,
                    initial_survey_form_given=body.initial_survey_form_given,
                    data_protection_leaflet_given=body.data_protection_leaflet_given,
                    ctx=ctx,
                ),
            )
        )

    @api.post(
        "/clients/{client_id}/assessment-appointment",
        response_model=Written,
        tags=["assessment"],
        summary="Book the personal assessment appointment",
        responses={**NOT_FOUND, **CONFLICT},
    )
    async def book(
        client_id: ClientIdPath, body: AppointmentRequest, actor: ManagesSessions, svc: Service
    ) -> Written:
        ctx = context(actor)
        return written(
            await svc.execute(
                client_id,
                lambda s: sessions.book_assessment(
                    s, appointment_at=body.appointment_at, assessor_person_id=body.assessor_person_id, ctx=ctx
                ),
            )
        )

    return api
