"""What the desk shows for the API's codes: roles, queue steps, referral sources, kinds
of problem and field errors, each marked for the catalogues (services/desk/i18n.py) with
the domain's own terms. A code the desk does not know is shown as the API spelled it."""

from __future__ import annotations

from collections.abc import Mapping

from contracts.intake import AssessmentArea, ClientProfile, ConsentScope, ReferralSource, Route, SupportNeed
from contracts.names import TE_OFFICE, social_services_of
from contracts.subjects import organisation_slug
from runtime.roles import Role
from services.desk.i18n import N_

ROLES: Mapping[Role, str] = {
    Role.EMPLOYMENT_ADVISOR: N_("employment advisor"),
    Role.LEAD_EMPLOYMENT_ADVISOR: N_("lead employment advisor"),
    Role.PSYCHOLOGIST: N_("psychologist"),
    Role.SERVICE_COORDINATOR: N_("service coordinator"),
    Role.SERVICE_GUIDE: N_("service guide"),
    Role.NURSE: N_("nurse"),
    Role.OFFICE_SECRETARY: N_("office secretary"),
    Role.SOCIAL_WORKER: N_("social worker"),
    Role.STEERING_GROUP_MEMBER: N_("steering group member"),
    Role.AUDITOR: N_("auditor"),
    Role.PARTNER_SYSTEM: N_("partner system"),
}

#: what a client in the intake queue waits for (the queue's ``waiting_for``)
WAITING_FOR: Mapping[str, str] = {
    "invitation": N_("an invitation to an info session"),
    "info_session": N_("the info session"),
    "assessment_appointment": N_("an assessment appointment"),
    "assessment": N_("the service-needs assessment"),
    "routed": N_("routed"),
}

SOURCES: Mapping[ReferralSource, str] = {
    ReferralSource.TE_OFFICE: N_("TE-office"),
    ReferralSource.SOCIAL_SERVICES: N_("social services"),
    ReferralSource.SELF_REFERRAL: N_("the client themself"),
    ReferralSource.OTHER: N_("another source"),
}

#: the kinds of problem (docs/adr/0024), as the page above a form says them
PROBLEMS: Mapping[str, str] = {
    "malformed": N_("The form could not be read. Try again."),
    "unauthenticated": N_("Your sign-in has ended. Sign in again."),
    "forbidden": N_("Your role may not do this."),
    "not-found": N_("There is no such client or case, or you may not see it."),
    "method-not-allowed": N_("The desk asked the service in a way it does not take. Nothing was saved."),
    "unsupported-media-type": N_("The desk sent the service something it does not read. Nothing was saved."),
    "refused": N_("The rules of the process do not allow this now."),
    "concurrent-change": N_("Someone else changed this client at the same time. Try again."),
    "too-large": N_("The form is too large."),
    "invalid-input": N_("Some fields need correcting: see the messages beside them."),
    "too-many-requests": N_("The service is busy. Try again in a moment."),
    "unavailable": N_("The service does not answer just now. Nothing was saved. Try again later."),
    "internal": N_("Something went wrong in the service. Nothing was saved."),
}

#: field errors by their ``code`` (pydantic's error types and the services' own)
FIELD_ERRORS: Mapping[str, str] = {
    "missing": N_("Fill in this field."),
    "string_too_short": N_("Fill in this field."),
    "string_too_long": N_("This is too long."),
    "int_type": N_("Give a whole number."),
    "number_type": N_("Give a whole number."),
    "iso_date": N_("Give a date."),
    "identity_code": N_("Give the personal identity code in its legal form, for example 010190-123M."),
    "identity_code_check": N_("The check character of the personal identity code does not match."),
    "municipality": N_("Choose one of the centre's municipalities."),
    "int_parsing": N_("Give a whole number."),
    "greater_than_equal": N_("The number is too small."),
    "less_than_equal": N_("The number is too large."),
    "date_type": N_("Give a date."),
    "date_from_datetime_parsing": N_("Give a date."),
    "date_parsing": N_("Give a date."),
    "enum": N_("Choose one of the options."),
    "literal_error": N_("Choose one of the options."),
}
#: a field error whose code the desk does not know
FIELD_ERROR: str = N_("This value is not accepted.")


def role_name(role: str) -> str:
    """The role's name to translate (its code if it is no role of the matrix)."""
    try:
        return ROLES[Role(role)]
    except ValueError:
        return role


#: what a client consents to (``ConsentScope``)
SCOPES: Mapping[ConsentScope, str] = {
    ConsentScope.MOVE_TO_CENTRE: N_("moving to the joint service centre"),
    ConsentScope.DATA_EXCHANGE_WITHIN_CENTRE: N_("data exchange between the centre's staff of both sides"),
    ConsentScope.DISCLOSURE_TO_ORGANISATIONS: N_("disclosure to the organisations named"),
}


def organisations(municipalities: tuple[str, ...]) -> list[tuple[str, str, dict[str, str]]]:
    """The organisations a consent may name: (code, label to translate, its values)."""
    found: list[tuple[str, str, dict[str, str]]] = [
        ("kela", N_("Kela"), {}),
        (TE_OFFICE, N_("TE-office"), {}),
    ]
    names = {organisation_slug(m): m for m in municipalities}
    for code in social_services_of(municipalities):
        found.append(
            (code, N_("social services of %(municipality)s"), {"municipality": names[code.split(":")[1]]})
        )
    return found


def consent_needs(
    needs: tuple[str, ...], municipalities: tuple[str, ...]
) -> list[tuple[str, str | None, dict[str, str]]]:
    """What a refusal's ``missing_consents`` ask for, to say: for each, the scope's label
    and, for a disclosure, the organisation's label with its values (None if none)."""
    names = {code: (label, values) for code, label, values in organisations(municipalities)}
    found: list[tuple[str, str | None, dict[str, str]]] = []
    for need in needs:
        scope, _, organisation = need.partition(":")
        try:
            label = SCOPES[ConsentScope(scope)]
        except ValueError:
            label = scope
        org_label, values = names.get(organisation, (organisation, {})) if organisation else (None, {})
        found.append((label, org_label, values))
    return found


#: the six areas of the service-needs assessment (*palvelutarvearvion osa-alueet*)
AREAS: Mapping[AssessmentArea, str] = {
    AssessmentArea.COMPETENCE: N_("competence"),
    AssessmentArea.MOTIVATION: N_("motivation"),
    AssessmentArea.WORK_ABILITY: N_("work ability"),
    AssessmentArea.SOCIAL_FUNCTIONING: N_("social functioning"),
    AssessmentArea.MATERIAL_RESOURCES: N_("material resources"),
    AssessmentArea.LABOUR_MARKET_POSITION: N_("position in the labour market"),
}

#: the support need found in one area
SUPPORT_NEEDS: Mapping[SupportNeed, str] = {
    SupportNeed.NONE: N_("no support needed"),
    SupportNeed.SOME: N_("some support needed"),
    SupportNeed.SIGNIFICANT: N_("significant support needed"),
    SupportNeed.NOT_ASSESSED: N_("not assessed"),
}

#: where the assessment sends the client (*reitti*)
ROUTES: Mapping[Route, str] = {
    Route.INDIVIDUAL_SERVICE_GUIDANCE: N_("individual service guidance"),
    Route.HEALTH_CHECK_FIRST: N_("a health check first"),
    Route.INTERMEDIATE_LABOUR_MARKET: N_("the intermediate labour market"),
    Route.PAID_OR_WAGE_SUBSIDISED_WORK: N_("paid or wage-subsidised work"),
    Route.JOB_SEARCH_SERVICES: N_("job-search services"),
    Route.REHABILITATIVE_WORK_ACTIVITY: N_("rehabilitative work activity"),
    Route.NOT_HELPED_HERE: N_("not helped here: another service"),
}

#: the client profiles the centre's team agreed on
PROFILES: Mapping[ClientProfile, str] = {
    ClientProfile.CENTRE: N_("the centre's client"),
    ClientProfile.INTERMEDIATE_LABOUR_MARKET: N_("intermediate labour market"),
    ClientProfile.REHABILITATIVE_WORK_ACTIVITY: N_("rehabilitative work activity"),
}
