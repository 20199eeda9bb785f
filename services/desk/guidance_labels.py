"""What the desk shows for guidance's codes (*palveluohjaus*): the phases, where a case
stands, the measures' status, the outcomes, where services continue and why a client
left the labour force, each marked for the catalogues. A code the desk does not know is
shown as the API spelled it."""

from __future__ import annotations

from collections.abc import Mapping

from contracts.guidance import (
    Continuation,
    MeasureStatus,
    Outcome,
    OutsideLabourForceReason,
    Phase,
)
from services.desk.i18n import N_
from services.settings import GuidanceSection

#: The measure catalogue's names, which the desk shows translated (a measure's code ->
#: the name guidance's ``GET /measure-catalogue`` answers -> its translation). They come from
#: the one catalogue, the settings' default (services/guidance/domain/plan.py), not a copy:
#: ``reitti desk-messages`` adds them to the desk's catalogues. A centre's own configured
#: name is shown as it was written.
MEASURE_NAMES: tuple[str, ...] = tuple(GuidanceSection.model_fields["measure_catalogue"].default.values())
#: when each measure is meant to be used, as guidance's ``GET /measure-guide`` answers it,
#: translated the same way (from the one source, services/guidance/domain/plan.py)
MEASURE_USES: tuple[str, ...] = tuple(GuidanceSection.model_fields["measure_uses"].default.values())


def measure_name(code: str, catalogue: Mapping[str, str]) -> str:
    """The name to translate for measure ``code``: the catalogue's, or the code itself."""
    return catalogue.get(code, code)


PHASES: Mapping[str, str] = {
    Phase.REFERRAL: N_("referral"),
    Phase.SURVEY_AND_RESEARCH: N_("survey and research"),
    Phase.REHABILITATION_AND_GUIDANCE: N_("rehabilitation and guidance"),
    Phase.COACHING_AND_EMPLOYMENT: N_("coaching and employment"),
    Phase.CLOSURE: N_("closure"),
}

#: where a guidance case stands (its ``status``)
STATUSES: Mapping[str, str] = {
    "waiting_for_guide": N_("waiting for a named guide"),
    "active": N_("in service guidance"),
    "with_social_services": N_("with social services"),
    "transferred_out": N_("transferred to social services"),
    "closed": N_("closed"),
}

MEASURE_STATUSES: Mapping[str, str] = {
    MeasureStatus.PLANNED: N_("planned"),
    MeasureStatus.ONGOING: N_("ongoing"),
    MeasureStatus.COMPLETED: N_("completed"),
    MeasureStatus.INTERRUPTED: N_("interrupted"),
    MeasureStatus.CANCELLED: N_("cancelled"),
}

OUTCOMES: Mapping[str, str] = {
    Outcome.OPEN_LABOUR_MARKET: N_("the open labour market"),
    Outcome.EDUCATION: N_("education"),
    Outcome.WAGE_SUBSIDISED_WORK: N_("wage-subsidised work"),
    Outcome.OUTSIDE_LABOUR_FORCE: N_("outside the labour force"),
    Outcome.UNEMPLOYED: N_("unemployed"),
    Outcome.INTERRUPTED: N_("interrupted"),
}

CONTINUATIONS: Mapping[str, str] = {
    Continuation.VAAKSA: N_("Vaaksa"),
    Continuation.TE_OFFICE: N_("the TE-office"),
    Continuation.LIGHT_FOLLOW_UP: N_("light follow-up"),
    Continuation.NONE: N_("none"),
}

OUTSIDE_REASONS: Mapping[str, str] = {
    OutsideLabourForceReason.PENSION: N_("pension"),
    OutsideLabourForceReason.LONG_REHABILITATION: N_("long rehabilitation"),
    OutsideLabourForceReason.CARER: N_("carer"),
    OutsideLabourForceReason.PARENTAL_LEAVE: N_("parental leave"),
}
