"""Named guides, their caseloads and areas, assignment and suggestion."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from contracts.base import EventBase
from contracts.guidance import GuideAssigned
from runtime.decision import Context
from services.guidance.domain.case import GuidanceCase, require_open
from services.guidance.domain.errors import CaseloadFull, DomainError, NotPermitted
from services.rules import caseload

GUIDE_ROLES = frozenset({"employment_advisor", "service_guide"})
#: Who may override the caseload limit, with a recorded reason.
OVERRIDE_ROLES = frozenset({"service_coordinator"})


@dataclass(frozen=True)
class Guide:
    """A named guide: an employment advisor or a service guide, with the municipality
    areas they (or their pair) are responsible for and their current caseload."""

    person_id: str
    name: str
    role: str
    areas: tuple[str, ...]
    caseload: int


def assign_guide(
    state: GuidanceCase,
    guide: Guide,
    *,
    limit: int,
    assigned_on: date,
    override_reason: str | None,
    ctx: Context,
) -> list[EventBase]:
    require_open(state)
    if state.guide == guide.person_id:
        return []
    if assigned_on < state.opened_on:
        raise DomainError("a guide cannot be assigned before the case was opened")
    if caseload.full(guide.caseload, limit):
        if not override_reason:
            raise CaseloadFull(
                f"{guide.name} already has {guide.caseload} active clients (limit {limit}); choose another "
                "guide, or a service coordinator may override with a reason"
            )
        if ctx.actor.role not in OVERRIDE_ROLES:
            raise NotPermitted("only a service coordinator may exceed the caseload limit")
    return [
        GuideAssigned(
            **ctx.envelope(state.client_id, state.version + 1),
            municipality=state.municipality,
            guide_person_id=guide.person_id,
            guide_role=guide.role,
            previous_guide_person_id=state.guide,
            assigned_on=assigned_on,
            over_limit_override_reason=override_reason if caseload.full(guide.caseload, limit) else None,
        )
    ]


@dataclass(frozen=True)
class Suggestion:
    guide: Guide
    covers_area: bool
    free_places: int


def suggest_guides(guides: Sequence[Guide], municipality: str, *, limit: int) -> list[Suggestion]:
    """Guides for a client of ``municipality``: those responsible for the area first, then
    the lightest caseloads; guides at the limit are left out."""
    candidates = [
        Suggestion(g, municipality in g.areas, limit - g.caseload)
        for g in guides
        if not caseload.full(g.caseload, limit)
    ]
    return sorted(candidates, key=lambda s: (not s.covers_area, -s.free_places, s.guide.name))
