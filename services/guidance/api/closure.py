"""Re-assessment (uudelleenarviointi) of a stalled case, the guide's closure proposal and
the closure with its final assessment (loppuarvio)."""

from __future__ import annotations

from fastapi import APIRouter

from runtime.http import context
from services.guidance.api.common import ERRORS, ClientIdPath, Closes, Parts, Proposes, Reassesses
from services.guidance.api.models import ClosureProposalRequest, ClosureRequest, ReassessmentRequest, Written
from services.guidance.api.views import written
from services.guidance.domain import closure

routes = APIRouter()


@routes.post(
    "/cases/{client_id}/reassessment",
    response_model=Written,
    tags=["cases"],
    responses=ERRORS,
    summary="Re-assess a stalled case with the client's own social worker",
)
async def reassess(
    client_id: ClientIdPath, body: ReassessmentRequest, actor: Reassesses, parts: Parts
) -> Written:
    ctx = context(actor)
    return written(
        await parts.service.execute(
            client_id,
            lambda s: closure.reassess(
                s,
                reassessed_on=body.reassessed_on,
                assessors=body.assessors,
                route=body.route,
                reason=body.reason,
                ctx=ctx,
            ),
        )
    )


@routes.post(
    "/cases/{client_id}/closure-proposal",
    response_model=Written,
    tags=["cases"],
    responses=ERRORS,
    summary="The named guide proposes the closure; the rules in force say who decides it",
)
async def propose_closure(
    client_id: ClientIdPath, body: ClosureProposalRequest, actor: Proposes, parts: Parts
) -> Written:
    ctx = context(actor)
    command = closure.ProposeClosure(**body.model_dump())
    return written(await parts.service.execute(client_id, lambda s: closure.propose(s, command, ctx=ctx)))


@routes.post(
    "/cases/{client_id}/closure",
    response_model=Written,
    tags=["cases"],
    responses=ERRORS,
    summary="Decide the closure with the final assessment (also issued to the TE-office): the "
    "guide under the seed; from 2015 the joint decision on the guide's proposal, recorded by "
    "another than the proposer",
)
async def close(client_id: ClientIdPath, body: ClosureRequest, actor: Closes, parts: Parts) -> Written:
    command = closure.CloseRelationship(
        **body.model_dump(exclude={"final_assessment", "joint_decision"}),
        final_assessment=body.final_assessment,
        joint_decision=body.joint_decision,
    )
    return written(await parts.service.close(client_id, command, context(actor)))
