"""The roles callers act in, and the side of the centre each belongs to. Pure (no
FastAPI), so the disclosure policy in the domain can use them; ``runtime.access`` maps
the roles to the endpoints they may call."""

from __future__ import annotations

from enum import StrEnum

from contracts.base import Side


class Role(StrEnum):
    # TE side, working at the centre
    EMPLOYMENT_ADVISOR = "employment_advisor"
    LEAD_EMPLOYMENT_ADVISOR = "lead_employment_advisor"
    PSYCHOLOGIST = "psychologist"
    # municipal side, at the centre
    SERVICE_COORDINATOR = "service_coordinator"
    SERVICE_GUIDE = "service_guide"
    NURSE = "nurse"
    OFFICE_SECRETARY = "office_secretary"
    # a municipality's social services
    SOCIAL_WORKER = "social_worker"
    # readers
    STEERING_GROUP_MEMBER = "steering_group_member"
    AUDITOR = "auditor"
    PARTNER_SYSTEM = "partner_system"


SIDE_OF_ROLE: dict[Role, Side] = {
    Role.EMPLOYMENT_ADVISOR: Side.TE,
    Role.LEAD_EMPLOYMENT_ADVISOR: Side.TE,
    Role.PSYCHOLOGIST: Side.TE,
    Role.SERVICE_COORDINATOR: Side.MUNICIPAL,
    Role.SERVICE_GUIDE: Side.MUNICIPAL,
    Role.NURSE: Side.HEALTH,
    Role.OFFICE_SECRETARY: Side.MUNICIPAL,
    Role.SOCIAL_WORKER: Side.MUNICIPAL,
    Role.STEERING_GROUP_MEMBER: Side.CENTRE,
    Role.AUDITOR: Side.CENTRE,
    Role.PARTNER_SYSTEM: Side.CENTRE,
}


def side_of(role: str) -> Side | None:
    """The side of ``role``; None for a role Reitti does not know (a system's)."""
    try:
        return SIDE_OF_ROLE[Role(role)]
    except ValueError:
        return None
