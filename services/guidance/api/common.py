"""What every area of guidance's routes shares: the parts (through ``Depends``), the
permissions each route requires, the error answers, and reading cases under the
disclosure policy with the access log."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import Depends, Path, Request

from contracts.base import Actor
from runtime import clock
from runtime.access import Permission, require
from runtime.field_docs import CLIENT_ID
from runtime.http import Responses
from runtime.purposes import ReadPurpose
from services.disclosure.policy import Crossing, Kind, decide, ensure
from services.guidance.bootstrap import GuidanceParts
from services.guidance.domain.case import GuidanceCase, disclosure_client


def parts(request: Request) -> GuidanceParts:
    """The service's parts, built once at start-up (services/guidance/bootstrap.py)."""
    found: GuidanceParts = request.app.state.parts
    return found


Parts = Annotated[GuidanceParts, Depends(parts)]

Reads = Annotated[Actor, Depends(require(Permission.GUIDANCE_READ))]
ManagesGuides = Annotated[Actor, Depends(require(Permission.GUIDES_MANAGE))]
Assigns = Annotated[Actor, Depends(require(Permission.GUIDE_ASSIGN))]
Plans = Annotated[Actor, Depends(require(Permission.PLAN_REVISE))]
RecordsHealth = Annotated[Actor, Depends(require(Permission.HEALTH_RECORD))]
ReadsHealth = Annotated[Actor, Depends(require(Permission.HEALTH_READ))]
Transfers = Annotated[Actor, Depends(require(Permission.TRANSFER_MAKE))]
Acknowledges = Annotated[Actor, Depends(require(Permission.TRANSFER_ACKNOWLEDGE))]
Returns = Annotated[Actor, Depends(require(Permission.TRANSFER_RETURN))]
Reassesses = Annotated[Actor, Depends(require(Permission.REASSESSMENT_RECORD))]
Closes = Annotated[Actor, Depends(require(Permission.CLOSURE_RECORD))]
Proposes = Annotated[Actor, Depends(require(Permission.CLOSURE_PROPOSE))]
ERRORS: Responses = {
    403: {"description": "The caller's role or organisation may not do this"},
    404: {"description": "No such case or guide"},
    409: {"description": "Refused by a rule, or a concurrent change (retryable)"},
}

ClientIdPath = Annotated[str, Path(description=CLIENT_ID)]
TransferIdPath = Annotated[str, Path(description="The transfer's id, as POST .../transfers answered it")]


def today() -> date:
    return clock.today()


async def readable(parts: GuidanceParts, actor: Actor, state: GuidanceCase) -> bool:
    """Whether the disclosure policy lets ``actor`` read this case (raise nothing)."""
    consents = await parts.queries.consents(state.client_id)
    crossing = Crossing(Kind.GUIDANCE_CASE)
    return decide(actor, crossing, disclosure_client(state, consents), on=(today(),)).allowed


async def read_case(
    parts: GuidanceParts, actor: Actor, client_id: str, kind: Kind = Kind.GUIDANCE_CASE
) -> GuidanceCase:
    """The case, if the disclosure policy lets ``actor`` read it (else 403 saying why)."""
    state = await parts.service.get(client_id)
    await ensure_readable(parts, actor, state, kind)
    return state


async def ensure_readable(
    parts: GuidanceParts, actor: Actor, state: GuidanceCase, kind: Kind = Kind.GUIDANCE_CASE
) -> None:
    """Raise 403 saying why, unless the disclosure policy lets ``actor`` read ``state``."""
    consents = await parts.queries.consents(state.client_id)
    ensure(decide(actor, Crossing(kind), disclosure_client(state, consents), on=(today(),)))


async def cases(
    parts: GuidanceParts, actor: Actor, why: ReadPurpose, what: str, **filters: Any
) -> list[GuidanceCase]:
    """Open cases, leaving out those the disclosure policy does not let ``actor`` read; the
    read is recorded in the access log (lokitieto)."""
    found = [c for c in await parts.queries.open_cases(**filters) if await readable(parts, actor, c)]
    await parts.access_log.record(actor, [c.client_id for c in found], what=what, purpose=why)
    return found
