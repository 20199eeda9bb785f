"""Guidance's request bodies refuse the NUL character, which PostgreSQL cannot store,
naming the field and never echoing the value (no server needed)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from services.guidance.api.models import (
    AcknowledgementRequest,
    AssignRequest,
    ClosureRequest,
    GuideRequest,
    PlanRequest,
    TransferRequest,
)

CLOSURE: dict[str, Any] = {
    "closed_on": "2016-06-01",
    "outcome": "education",
    "services_continue": "te_office",
    "final_assessment": {"text": "Studies.", "work_ability_clarified": True, "competence_improved": True},
}
PLAN = {"start": "2016-06-01", "months": 6, "days_per_week": 3, "hours_per_day": 6, "place": "Vartti"}


@pytest.mark.parametrize(
    ("model", "body", "field", "where"),
    [
        (GuideRequest, {"person_id": "g\x00", "name": "G", "role": "service_guide"}, "person_id", ""),
        (
            GuideRequest,
            {"person_id": "g", "name": "G", "role": "service_guide", "areas": ["Mikkeli\x00"]},
            "areas",
            "areas.0",
        ),
        (
            AssignRequest,
            {"guide_person_id": "g", "assigned_on": "2016-06-01", "override_reason": "\x00"},
            "override_reason",
            "",
        ),
        (
            PlanRequest,
            {
                "revised_on": "2016-06-01",
                "measures": [
                    {"measure_id": "m1", "kind": "training", "provider": "V\x00", "start": "2016-06-01"}
                ],
            },
            "measures",
            "measures.0.provider",
        ),
        (
            TransferRequest,
            {
                "transferred_on": "2016-06-01",
                "activation_plan": {**PLAN, "place": "W\x00"},
                "relationship_stays_open": True,
            },
            "activation_plan",
            "activation_plan.place",
        ),
        (
            AcknowledgementRequest,
            {"accepted": False, "reason": "full\x00", "acknowledged_on": "2016-06-01"},
            "reason",
            "",
        ),
        (
            ClosureRequest,
            {**CLOSURE, "final_assessment": {**CLOSURE["final_assessment"], "text": "\x00"}},
            "final_assessment",
            "final_assessment.text",
        ),
    ],
)
def test_a_request_with_a_nul_character_is_refused_naming_the_field(
    model: type[BaseModel], body: dict[str, Any], field: str, where: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        model.model_validate(body)
    [error] = refused.value.errors()
    assert (error["loc"], error["type"]) == ((field,), "nul_character")
    assert error["msg"].startswith(f"{where or field}: must not contain the NUL character")
    assert "\x00" not in str(refused.value.errors(include_input=False))


def test_the_same_requests_without_the_nul_character_are_accepted() -> None:
    assert ClosureRequest.model_validate(CLOSURE).final_assessment.text == "Studies."
    assert (
        TransferRequest.model_validate(
            {"transferred_on": "2016-06-01", "activation_plan": PLAN, "relationship_stays_open": True}
        ).activation_plan.place
        == "Vartti"
    )
