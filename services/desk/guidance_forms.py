"""The API bodies of the guidance forms of the desk (*palveluohjaus*): the named guide,
the phase, the plan and its measures, the transfer to social services, its
acknowledgement and the return, the re-assessment (*uudelleenarviointi*), the closure
proposal and the closure with the final assessment (*loppuarvio*).

Each form's fields are named as guidance's API names them (``activation_plan.months``,
``measures.0.kind``, ``final_assessment.text``), so the API's field errors land beside
their fields. What is left empty is left out and a number that is no number is sent as
typed: the API checks and says what is wrong (docs/adr/0045)."""

from __future__ import annotations

from typing import Any

from contracts.base import Actor
from services.desk.web import Form

#: the measure fields of one plan row (``measures.N.<field>``)
MEASURE_FIELDS = ("measure_id", "kind", "provider", "start", "end", "status")
#: the activation plan's fields in a transfer (``activation_plan.<field>``)
ACTIVATION_FIELDS = ("start", "months", "days_per_week", "hours_per_day", "place")
ACTIVATION_NUMBERS = {"months": int, "days_per_week": int, "hours_per_day": float}
#: a joint decision's people and day (``joint_decision.<field>``)
JOINT_FIELDS = ("decided_on", "te_office_person_id", "municipality_person_id", "kela_person_id")


def number(value: str, kind: type[int] | type[float]) -> int | float | str:
    """``value`` as a number, or as typed when it is none (the API says so beside it)."""
    try:
        return kind(value.replace(",", "."))
    except ValueError:
        return value


def yes_no(form: Form, name: str, body: dict[str, Any]) -> None:
    """A yes/no radio group as a boolean, left out when neither is chosen."""
    if form.get(name) in ("yes", "no"):
        body[name] = form[name] == "yes"


def given(form: Form, body: dict[str, Any], *names: str) -> None:
    for name in names:
        if form.get(name):
            body[name] = form[name]


def nested(form: Form, prefix: str, names: tuple[str, ...]) -> dict[str, str]:
    return {name: form[f"{prefix}.{name}"] for name in names if form.get(f"{prefix}.{name}")}


def guide_body(form: Form) -> dict[str, Any]:
    body: dict[str, Any] = {}
    given(form, body, "guide_person_id", "assigned_on", "override_reason")
    return body


def phase_body(form: Form) -> dict[str, Any]:
    body: dict[str, Any] = {}
    given(form, body, "phase", "changed_on")
    return body


def reassessment_body(form: Form, actor: Actor) -> dict[str, Any]:
    """The signed-in guide is the first assessor; the client's own social worker, whose
    id and organisation the form asks, the second (the API checks both)."""
    me = {"person_id": actor.person_id, "role": actor.role, "organisation": actor.organisation}
    social_worker = nested(form, "assessors.1", ("person_id", "organisation"))
    body: dict[str, Any] = {
        "assessors": [me, {**social_worker, "role": "social_worker"}],
        "reason": form.get("reason", ""),
    }
    given(form, body, "reassessed_on", "route")
    return body


def plan_body(form: Form) -> dict[str, Any]:
    """The plan as revised: every row with a kind, in the form's order."""
    rows = sorted(
        {
            int(key.split(".")[1])
            for key in form
            if key.startswith("measures.") and key.count(".") == 2 and key.split(".")[1].isdigit()
        }
    )
    measures = []
    for index in rows:
        row = nested(form, f"measures.{index}", MEASURE_FIELDS)
        if row.get("kind"):
            row.setdefault("measure_id", f"m{index + 1}")
            measures.append(row)
    body: dict[str, Any] = {"measures": measures, "review": "review" in form}
    given(form, body, "revised_on")
    return body


def transfer_body(form: Form) -> dict[str, Any]:
    body: dict[str, Any] = {}
    given(form, body, "transferred_on", "receiving_municipality")
    yes_no(form, "relationship_stays_open", body)
    plan: dict[str, Any] = dict(nested(form, "activation_plan", ACTIVATION_FIELDS))
    for name, kind in ACTIVATION_NUMBERS.items():
        if name in plan:
            plan[name] = number(plan[name], kind)
    body["activation_plan"] = plan
    return body


def acknowledgement_body(form: Form) -> dict[str, Any]:
    body: dict[str, Any] = {}
    yes_no(form, "accepted", body)
    given(form, body, "acknowledged_on", "reason")
    return body


def return_body(form: Form) -> dict[str, Any]:
    body: dict[str, Any] = {}
    given(form, body, "returned_on")
    return body


def proposal_body(form: Form) -> dict[str, Any]:
    body: dict[str, Any] = {"reason": form.get("reason", "")}
    given(form, body, "proposed_on", "outcome", "services_continue")
    return body


def closure_body(form: Form) -> dict[str, Any]:
    body: dict[str, Any] = {}
    given(form, body, "closed_on", "outcome", "services_continue", "outside_labour_force_reason")
    final: dict[str, Any] = {"text": form.get("final_assessment.text", "")}
    yes_no(form, "final_assessment.work_ability_clarified", final)
    yes_no(form, "final_assessment.competence_improved", final)
    body["final_assessment"] = {key.removeprefix("final_assessment."): value for key, value in final.items()}
    joint = nested(form, "joint_decision", JOINT_FIELDS)
    if joint:
        body["joint_decision"] = joint
    return body
