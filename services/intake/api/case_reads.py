"""Who may read a client's intake case (*asiakkaan tiedot*): the one rule that
``GET /clients/{id}``, the queue's names and the possible duplicates' candidates apply, and
the access-log entry such a read leaves (``what="intake case"``)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from contracts.base import ERASED, Actor
from runtime.access import Permission, allowed
from runtime.access_log import AccessLog
from runtime.purposes import ReadPurpose
from services.disclosure.policy import Crossing, Decision, Kind, decide
from services.intake.api.models import NameView
from services.intake.application import IntakeService
from services.intake.domain.case import IntakeCase, disclosure_client

#: what the access log says was read, for every read of an intake case
CASE_READ = "intake case"


def case_decision(actor: Actor, case: IntakeCase, today: date) -> Decision:
    """The disclosure policy's answer to ``actor`` reading ``case`` today."""
    return decide(actor, Crossing(Kind.INTAKE_CASE), disclosure_client(case), on=(today,))


async def readable_cases(
    actor: Actor, svc: IntakeService, client_ids: Iterable[str], today: date
) -> dict[str, IntakeCase]:
    """The intake cases of ``client_ids`` that ``actor`` may read: the role's permission
    to read intake cases and then the disclosure policy, case by case."""
    if not allowed(Permission.INTAKE_CASE_READ, actor.role):
        return {}
    found = await svc.cases(list(dict.fromkeys(client_ids)))
    return {cid: case for cid, case in found.items() if case_decision(actor, case, today).allowed}


async def record_case_reads(
    log: AccessLog, actor: Actor, client_ids: Iterable[str], purpose: ReadPurpose
) -> None:
    """The access-log entry of reading these clients' intake cases (or a part of them)."""
    await log.record(actor, client_ids, what=CASE_READ, purpose=purpose)


def shown_name(case: IntakeCase | None) -> NameView | None:
    """The client's name as an answer shows it; none for an unreadable or erased client."""
    if case is None or ERASED in (case.client.first_name, case.client.last_name):
        return None
    return NameView(first_name=case.client.first_name, last_name=case.client.last_name)
