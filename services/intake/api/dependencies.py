"""What intake's routes depend on: the caller's permission for each kind of request, the
path parameters, and the parts the start-up built (services/intake/bootstrap.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from contracts.base import Actor
from runtime.access import Permission, require
from runtime.field_docs import CLIENT_ID
from runtime.http import Responses
from services.intake.application import IntakeService
from services.intake.bootstrap import Parts

Registers = Annotated[Actor, Depends(require(Permission.REFERRAL_REGISTER))]
Imports = Annotated[Actor, Depends(require(Permission.REFERRAL_IMPORT))]
ReadsQueue = Annotated[Actor, Depends(require(Permission.QUEUE_READ))]
Picks = Annotated[Actor, Depends(require(Permission.QUEUE_PICK))]
#: the intake advisor, who picks referrals from the queue, resolves possible duplicates
ResolvesDuplicates = Annotated[Actor, Depends(require(Permission.QUEUE_PICK))]
ReadsCase = Annotated[Actor, Depends(require(Permission.INTAKE_CASE_READ))]
ManagesSessions = Annotated[Actor, Depends(require(Permission.SESSION_MANAGE))]
ReadsSessions = Annotated[Actor, Depends(require(Permission.SESSION_READ))]
RecordsConsent = Annotated[Actor, Depends(require(Permission.CONSENT_RECORD))]
Assesses = Annotated[Actor, Depends(require(Permission.ASSESSMENT_COMPLETE))]
Erases = Annotated[Actor, Depends(require(Permission.CLIENT_ERASE))]
SetsTargets = Annotated[Actor, Depends(require(Permission.TARGETS_SET))]
CONFLICT: Responses = {409: {"description": "Refused by a rule, or a concurrent change (retryable)"}}
NOT_FOUND: Responses = {404: {"description": "No such client or session"}}


ClientIdPath = Annotated[str, Path(description=CLIENT_ID)]
ConsentIdPath = Annotated[str, Path(description="The consent's id, as POST .../consents answered it")]
SessionIdPath = Annotated[str, Path(description="The info session's id, `info-session-<uuid>`")]
ReferralIdPath = Annotated[
    str, Path(description="The held referral's id, as GET /possible-duplicates lists it")
]


def service(parts: Parts) -> IntakeService:
    """The application service, from the parts the start-up built."""
    return parts.service


Service = Annotated[IntakeService, Depends(service)]
