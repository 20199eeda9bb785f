""" "How the centre works" (*näin keskus toimii*), the induction page of every role: the
process step by step, who does each step and the rules in force, read from the code that
applies them: the roles of each step from the permission matrix (``runtime.access.MATRIX``),
the rules from the rule sets (``services.rules``), the caseload limit from the settings.
Nothing here is a second copy of a rule: change the matrix or a rule set and the page
changes with it (docs/adr/0045)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from runtime.access import MATRIX, Permission
from runtime.roles import Role
from services.desk.i18n import N_
from services.rules import RULE_SETS, RuleSet, TriggerBasis


@dataclass(frozen=True)
class Step:
    title: str
    what: str
    permission: Permission

    @property
    def roles(self) -> list[Role]:
        """Who may do the step: the roles the matrix gives its permission, in the matrix's order."""
        return [role for role in Role if role in MATRIX[self.permission]]


#: the process, in its order (docs/domain.md, "The process, step by step")
STEPS: tuple[Step, ...] = (
    Step(
        N_("Referral"),
        N_("Referred by the TE-office, social services, the client themself or another source."),
        Permission.REFERRAL_REGISTER,
    ),
    Step(
        N_("The TE-office's info list"),
        N_("The TE-office's list of clients to invite is imported as a file."),
        Permission.REFERRAL_IMPORT,
    ),
    Step(
        N_("The intake queue"),
        N_("The advisor who does first assessments takes the client from the one intake queue."),
        Permission.QUEUE_PICK,
    ),
    Step(
        N_("Info session, invitation and attendance"),
        N_("The client is invited to an info session; attendance is recorded on the session's day or later."),
        Permission.SESSION_MANAGE,
    ),
    Step(
        N_("Consent"),
        N_("The client consents to sharing named data with named organisations, and may withdraw it."),
        Permission.CONSENT_RECORD,
    ),
    Step(
        N_("Service-needs assessment"),
        N_("The service-needs assessment over six areas, alone or with a pair assessor, leads to the route."),
        Permission.ASSESSMENT_COMPLETE,
    ),
    Step(
        N_("Named guide"),
        N_("A guide is named for the client within the caseload limit."),
        Permission.GUIDE_ASSIGN,
    ),
    Step(
        N_("Service guidance and the plan"),
        N_("The phases of service guidance, and the plan with its measures from the catalogue."),
        Permission.PLAN_REVISE,
    ),
    Step(
        N_("Health check"),
        N_("The nurse's health check: a summary for the team, the details for health staff only."),
        Permission.HEALTH_RECORD,
    ),
    Step(
        N_("Transfer to rehabilitative work activity"),
        N_("The client is transferred to the municipality's rehabilitative work activity."),
        Permission.TRANSFER_MAKE,
    ),
    Step(
        N_("Acknowledgement of the transfer"),
        N_("The receiving social services accept or decline the transfer."),
        Permission.TRANSFER_ACKNOWLEDGE,
    ),
    Step(
        N_("Return to the centre"),
        N_("The client returns from social services to the centre."),
        Permission.TRANSFER_RETURN,
    ),
    Step(
        N_("Re-assessment"),
        N_("A stalled case is assessed again, with the client's social worker as co-assessor."),
        Permission.REASSESSMENT_RECORD,
    ),
    Step(
        N_("Closure proposal"),
        N_("The client's guide proposes to close the case."),
        Permission.CLOSURE_PROPOSE,
    ),
    Step(
        N_("Closure and final assessment"),
        N_("The case is closed with the final assessment, which goes to the TE-office's system."),
        Permission.CLOSURE_RECORD,
    ),
)

TRIGGERS: dict[TriggerBasis, str] = {
    TriggerBasis.NATIONAL_CRITERION: N_(
        "National criterion: at least half of the centre's clients have over %(days)s days of "
        "labour-market subsidy."
    ),
    TriggerBasis.DAY_AND_MONTH_TRIGGERS: N_(
        "An assessment is due at %(days)s days of labour-market subsidy, or after %(adult)s months "
        "of unemployment (%(young)s months under %(age)s years)."
    ),
    TriggerBasis.NEED_BASED: N_(
        "Need-based: limits of work or functional capacity, or life-management problems."
    ),
}


#: each rule set's statute, as the page names it (a unit test checks every rule set has one)
STATUTES: dict[str, str] = {
    "no statute on joint service; national TYP criterion": N_(
        "Before the act on joint service: the national TYP criterion"
    ),
    "Act 1369/2014": N_("Act 1369/2014 on multi-sectoral joint service"),
    "Act 1369/2014 (as amended, in force 2 May 2022)": N_("Act 1369/2014 as amended from 2 May 2022"),
    "Act 381/2023": N_("Act 381/2023 on multi-sectoral joint service"),
}


@dataclass(frozen=True)
class RuleRow:
    """One rule of one rule set, as the page shows it: a label to translate, and the
    value with the parameters to put in it."""

    label: str
    text: str
    values: dict[str, object]


def rule_rows(rules: RuleSet, caseload_limit: int) -> list[RuleRow]:
    triggers = rules.assessment_triggers
    months = N_("within %(months)s months")
    none = N_("the law sets none")
    rows = [
        RuleRow(
            N_("Who is assessed"),
            TRIGGERS[triggers.basis],
            {
                "days": triggers.national_criterion_over_days or triggers.subsidy_days,
                "adult": triggers.unemployment_months_adult,
                "young": triggers.unemployment_months_young,
                "age": triggers.adult_age,
            },
        ),
        RuleRow(
            N_("Service-needs assessment"),
            months if rules.assessment_within_months else none,
            {"months": rules.assessment_within_months},
        ),
        RuleRow(
            N_("The plan"), months if rules.plan_within_months else none, {"months": rules.plan_within_months}
        ),
        RuleRow(
            N_("Plan review"),
            N_("at least every %(months)s months") if rules.plan_review_every_months else none,
            {"months": rules.plan_review_every_months},
        ),
        RuleRow(
            N_("Closure"),
            N_("a joint decision of the TE-office, the municipality and Kela")
            if rules.closure_by_joint_decision
            else N_("the guide decides or proposes"),
            {},
        ),
        RuleRow(N_("Caseload limit"), N_("%(limit)s active clients per guide"), {"limit": caseload_limit}),
    ]
    return rows


@dataclass(frozen=True)
class RulePeriod:
    rules: RuleSet
    in_force: bool
    rows: list[RuleRow]

    @property
    def statute(self) -> str:
        return STATUTES.get(self.rules.statute, self.rules.statute)


def rule_periods(today: date, caseload_limit: int) -> list[RulePeriod]:
    """Every rule set, newest first, the one in force today marked."""
    return [
        RulePeriod(rules, rules.in_force_on(today), rule_rows(rules, caseload_limit))
        for rules in reversed(RULE_SETS)
    ]
