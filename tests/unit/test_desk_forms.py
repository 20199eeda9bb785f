"""The desk's form helpers (services/desk/web.py, services/desk/intake_pages.py): where a
form may send the browser on to, how a form's fields become the API's body, and the
centre's zone added to a local time."""

from __future__ import annotations

from datetime import datetime

import pytest

from runtime import clock
from services.desk.intake_pages import aware, body_of
from services.desk.pages import referral_body
from services.desk.web import Form, local_path


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("/intake/queue?done=referral", "/intake/queue?done=referral"),
        ("https://evil.example/", "/"),
        ("//evil.example/path", "/"),
        ("/\\evil.example/path", "/"),
        ("javascript:alert(1)", "/"),
        ("intake/queue", "/"),
        ("", "/"),
        (None, "/"),
    ],
)
def test_a_form_goes_on_only_to_a_path_of_the_desk(given: str | None, expected: str) -> None:
    assert local_path(given) == expected


def test_the_referral_form_becomes_the_api_s_body_and_leaves_its_checks_to_the_api() -> None:
    body = referral_body(
        Form(
            {
                "client.first_name": ["Maija"],
                "client.personal_identity_code": ["010190-123M"],
                "municipality": ["Mikkeli"],
                "subsidy_days": ["520"],
                "unemployment_months": ["many"],
                "source_description": [""],
            }
        )
    )
    assert body == {
        "municipality": "Mikkeli",
        "subsidy_days": 520,
        "unemployment_months": "many",
        "client": {"first_name": "Maija", "personal_identity_code": "010190-123M"},
    }


def test_a_consent_form_keeps_every_ticked_box() -> None:
    form = Form({"scopes": ["move_to_centre", "disclosure_to_organisations"], "organisations": ["kela"]})
    assert body_of("consent", form) == {
        "scopes": ["move_to_centre", "disclosure_to_organisations"],
        "organisations": ["kela"],
    }
    attendance = body_of("attendance", Form({"session_id": ["s"], "attended": ["no"]}))
    assert attendance["attended"] is False and attendance["initial_survey_form_given"] is False


def test_a_local_time_gets_the_centre_s_offset_and_a_wrong_one_is_sent_as_typed() -> None:
    moment = datetime.fromisoformat(aware("2026-03-10T09:00"))
    assert moment.utcoffset() == clock.zone().utcoffset(datetime(2026, 3, 10, 9))
    assert aware("tomorrow") == "tomorrow"
