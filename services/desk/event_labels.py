"""What the desk calls each event of a client's timeline (*tapahtumat*), in the domain's
terms, marked for the catalogues. An event type the desk does not know is shown as the
API spelled it."""

from __future__ import annotations

from collections.abc import Mapping

from services.desk.i18n import N_

EVENTS: Mapping[str, str] = {
    # intake (*vastaanotto*)
    "ClientReferred": N_("referred to the centre"),
    "DuplicateReferralReceived": N_("another referral of the same person received"),
    "ReferralHeldAsPossibleDuplicate": N_("referral held as a possible duplicate"),
    "PossibleDuplicateResolved": N_("possible duplicate resolved"),
    "ReferralPicked": N_("referral picked from the queue"),
    "InvitedToInfoSession": N_("invited to an info session"),
    "InfoSessionAttended": N_("attended the info session"),
    "InfoSessionMissed": N_("missed the info session"),
    "AssessmentAppointmentBooked": N_("assessment appointment booked"),
    "ConsentGiven": N_("consent given"),
    "ConsentWithdrawn": N_("consent withdrawn"),
    "AssessmentCompleted": N_("service-needs assessment completed"),
    "ClientDataErased": N_("client's personal data erased"),
    # guidance (*palveluohjaus*)
    "GuidanceCaseOpened": N_("client relationship opened"),
    "GuideAssigned": N_("named guide assigned"),
    "PhaseChanged": N_("phase changed"),
    "PlanRevised": N_("plan drawn up or revised"),
    "HealthCheckSummaryRecorded": N_("health check recorded"),
    "HealthCheckDetailsRecorded": N_("health check details recorded (health partition)"),
    "TransferredToSocialServices": N_("transferred to social services"),
    "TransferAcknowledged": N_("transfer acknowledged by social services"),
    "ReturnedFromSocialServices": N_("returned from social services"),
    "ReassessmentCompleted": N_("re-assessment completed"),
    "ClosureProposed": N_("closure proposed"),
    "ClientRelationshipClosed": N_("client relationship closed"),
    "FinalAssessmentIssued": N_("final assessment issued to the TE-office"),
}

#: the services whose part of a timeline each entry is
SOURCES: Mapping[str, str] = {"intake": N_("intake"), "guidance": N_("service guidance")}


def event_name(event_type: str) -> str:
    """The name to translate for ``event_type``: the desk's, or the type itself."""
    return EVENTS.get(event_type, event_type)
