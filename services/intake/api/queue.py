"""The intake queue (*jono*), possible duplicates and one client's case."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from contracts.intake import ReferralSource
from runtime import clock
from runtime.access import Permission, allowed
from runtime.field_docs import MUNICIPALITY
from runtime.http import Purpose, context
from runtime.known_names import municipality_at
from runtime.openapi_names import MUNICIPALITY as NAMES_ONE
from runtime.timeline import TimelineEntry, timeline
from services.disclosure.policy import Client, Crossing, Kind, decide, ensure
from services.intake.api.case_reads import (
    case_decision,
    readable_cases,
    record_case_reads,
    shown_name,
)
from services.intake.api.dependencies import (
    CONFLICT,
    NOT_FOUND,
    ClientIdPath,
    Picks,
    ReadsCase,
    ReadsQueue,
    ReferralIdPath,
    ResolvesDuplicates,
    Service,
)
from services.intake.api.models import (
    CaseView,
    NameView,
    PossibleDuplicateView,
    QueueEntry,
    ResolutionRequest,
    ResolutionWritten,
    Written,
)
from services.intake.api.views import candidate_view, case_view, written
from services.intake.bootstrap import Parts
from services.intake.domain import referral
from services.intake.domain.case import Stage


def router() -> APIRouter:
    api = APIRouter()

    @api.get(
        "/possible-duplicates",
        response_model=list[PossibleDuplicateView],
        tags=["referrals"],
        summary="Referrals held because they may be of a client already known, with the candidates",
        description="Names are shown only to roles that may read intake cases, and a candidate's "
        "only where the disclosure policy lets the caller read that client's case; every listing "
        "is recorded in the access log (the held referrals and their candidates).",
    )
    async def possible_duplicates(
        actor: ResolvesDuplicates,
        why: Purpose,
        svc: Service,
        parts: Parts,
        limit: Annotated[int, Query(ge=1, le=500, description="The most held referrals to list")] = 200,
    ) -> list[PossibleDuplicateView]:
        found = await svc.possible_duplicates(limit=limit)
        may_read = allowed(Permission.INTAKE_CASE_READ, actor.role)
        candidates = {c for _, held in found for c in held.candidates}
        # A candidate's name, municipality and stage are its intake case: shown only where
        # the disclosure policy lets this caller read that case, as GET /clients/{id} does.
        cases = await readable_cases(actor, svc, sorted(candidates), clock.today())
        shown = [row.referral_id for row, _ in found] + sorted(candidates)
        await parts.access_log.record(actor, shown, what="possible duplicates", purpose=why)
        return [
            PossibleDuplicateView(
                referral_id=row.referral_id,
                reason=held.reason,
                held_at=row.held_at,
                municipality=held.held.municipality,
                source=held.held.source,
                referral_date=held.held.referral_date,
                name=NameView(first_name=held.held.client.first_name, last_name=held.held.client.last_name)
                if may_read
                else None,
                candidates=[candidate_view(c, cases.get(c)) for c in held.candidates],
            )
            for row, held in found
        ]

    @api.post(
        "/possible-duplicates/{referral_id}/resolution",
        response_model=ResolutionWritten,
        tags=["referrals"],
        summary="Resolve a possible duplicate: the same person (recorded on their case) or different people",
        description="same_person with the candidate's client_id records the referral on that case. "
        "different_people opens the referral's own case when its identity code was new, and "
        "dismisses it when the code is another client's. The held copy is then erased.",
        responses={**NOT_FOUND, **CONFLICT},
    )
    async def resolve(
        referral_id: ReferralIdPath, body: ResolutionRequest, actor: ResolvesDuplicates, svc: Service
    ) -> ResolutionWritten:
        decided = await svc.resolve_possible_duplicate(
            referral_id, body.resolution, client_id=body.client_id, ctx=context(actor)
        )
        return ResolutionWritten(
            referral_id=referral_id,
            resolution=body.resolution,
            client_id=decided.case_id,
            event_ids=[e.event_id for e in (*decided.held_events, *decided.case_events)],
        )

    @api.get(
        "/queue",
        response_model=list[QueueEntry],
        tags=["queue"],
        summary="The one intake queue: who waits for what, and for how long",
        description="Each entry carries the client's name where the caller may read the "
        "client's intake case (as GET /clients/{id} decides); those reads are recorded in the "
        "access log as intake-case reads, and the listing itself as the intake queue. An erased "
        "client's entry has no name.",
    )
    async def queue(
        actor: ReadsQueue,
        why: Purpose,
        svc: Service,
        parts: Parts,
        waiting_for: Annotated[
            Stage | None, Query(description="Only clients waiting for this step; all when left out")
        ] = None,
        municipality: Annotated[
            str | None,
            Query(
                max_length=100,
                description=f"Only this municipality's clients. {MUNICIPALITY}",
                json_schema_extra=NAMES_ONE,
            ),
        ] = None,
        limit: Annotated[int, Query(ge=1, le=2000, description="The most entries to list")] = 500,
    ) -> list[QueueEntry]:
        if municipality is not None:
            municipality = municipality_at(municipality, svc.municipalities, "query", "municipality")
        today = clock.today()
        rows = await parts.queries.queue(stage=waiting_for, municipality=municipality, limit=limit)
        queue = Crossing(Kind.INTAKE_QUEUE)
        rows = [
            r
            for r in rows
            if decide(actor, queue, Client(r.client_id, r.municipality, referred_by=r.source)).allowed
        ]
        cases = await readable_cases(actor, svc, [r.client_id for r in rows], today)
        await parts.access_log.record(actor, [r.client_id for r in rows], what="intake queue", purpose=why)
        await record_case_reads(parts.access_log, actor, cases, why)
        return [
            QueueEntry(
                client_id=r.client_id,
                name=shown_name(cases.get(r.client_id)),
                municipality=r.municipality,
                source=ReferralSource(r.source),
                referral_date=r.referral_date,
                received_by=r.received_by,
                owner=r.owner,
                waiting_for=r.stage,
                waiting_since=r.stage_since,
                waiting_days=max(0, (today - r.stage_since).days),
                rule_set=r.rule_set,
                assessment_deadline=r.assessment_deadline,
                overdue=r.assessment_deadline is not None and today > r.assessment_deadline,
            )
            for r in rows
        ]

    @api.post(
        "/queue/{client_id}/pick",
        response_model=Written,
        tags=["queue"],
        summary="Take the client from the queue: the caller owns the case",
        responses={**NOT_FOUND, **CONFLICT},
    )
    async def pick(client_id: ClientIdPath, actor: Picks, svc: Service) -> Written:
        ctx = context(actor)
        return written(await svc.execute(client_id, lambda s: referral.pick_referral(s, ctx=ctx)))

    @api.get(
        "/clients/{client_id}",
        response_model=CaseView,
        tags=["clients"],
        summary="One client's intake case, with the rules that apply and the deadline",
        responses=NOT_FOUND,
    )
    async def get_case(
        client_id: ClientIdPath, actor: ReadsCase, why: Purpose, svc: Service, parts: Parts
    ) -> CaseView:
        state = await svc.get(client_id)
        today = clock.today()
        ensure(case_decision(actor, state, today))
        await record_case_reads(parts.access_log, actor, [client_id], why)
        return case_view(state, today)

    @api.get(
        "/clients/{client_id}/timeline",
        response_model=list[TimelineEntry],
        tags=["clients"],
        summary="One client's intake timeline: what happened, who did it and when",
        responses=NOT_FOUND,
    )
    async def case_timeline(
        client_id: ClientIdPath, actor: ReadsCase, why: Purpose, svc: Service, parts: Parts
    ) -> list[TimelineEntry]:
        """Every event of the client's intake stream, its type, day and doer only, to whom
        the disclosure policy lets read the intake case (as ``GET /clients/{client_id}``:
        403 with the consents missing); the read is in the access log."""
        state, events = await svc.history(client_id)
        ensure(case_decision(actor, state, clock.today()))
        await parts.access_log.record(actor, [client_id], what="intake timeline", purpose=why)
        return timeline("intake", events)

    return api
