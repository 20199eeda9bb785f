"""Intake's request bodies refuse the NUL character, which PostgreSQL cannot store,
naming the field and never echoing the value (no server needed)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from runtime.requests import nul_path
from services.intake.api.models import AssessmentRequest, ConsentRequest, InvitationRequest, ReferralRequest
from services.intake.info_list import ListFormat, parse
from tests.support.factories import AREAS, referral_request


def assessment_body() -> dict[str, Any]:
    return {
        "assessed_on": "2016-06-01",
        "assessors": [{"person_id": "advisor-1", "role": "employment_advisor", "organisation": "te-office"}],
        "findings": [{"area": a, "support_need": "some", "notes": "free text"} for a in AREAS],
        "capacity_allows_rehabilitative_work": True,
        "profile": "centre",
        "ministry_segment": 3,
        "route": "individual_service_guidance",
    }


def only_error(exc: pytest.ExceptionInfo[ValidationError]) -> dict[str, Any]:
    [error] = exc.value.errors()
    return dict(error)


def test_a_nul_character_anywhere_in_a_string_is_found_with_its_path() -> None:
    assert nul_path("plain") is None
    assert nul_path("a\x00b") == ()
    assert nul_path({"client": {"first_name": "Ma\x00ija"}}) == ("client", "first_name")
    assert nul_path({"findings": [{"notes": "ok"}, {"notes": "\x00"}]}) == ("findings", 1, "notes")
    assert nul_path({"a": [1, 2.5, None, True]}) is None


@pytest.mark.parametrize(
    ("model", "body", "field", "where"),
    [
        (ReferralRequest, {**referral_request(), "need_based_reason": "x\x00"}, "need_based_reason", ""),
        (
            ReferralRequest,
            {**referral_request(), "client": {**referral_request()["client"], "first_name": "Ma\x00ija"}},
            "client",
            "client.first_name",
        ),
        (InvitationRequest, {"client_id": "client-\x00"}, "client_id", ""),
        (
            ConsentRequest,
            {
                "scopes": ["disclosure_to_organisations"],
                "organisations": ["kela\x00"],
                "given_on": "2016-06-01",
            },
            "organisations",
            "organisations.0",
        ),
        (
            AssessmentRequest,
            {
                **assessment_body(),
                "findings": [
                    *assessment_body()["findings"][:5],
                    {"area": "labour_market_position", "support_need": "some", "notes": "\x00"},
                ],
            },
            "findings",
            "findings.5.notes",
        ),
        (AssessmentRequest, {**assessment_body(), "summary": "long\x00summary"}, "summary", ""),
    ],
)
def test_a_request_with_a_nul_character_is_refused_naming_the_field(
    model: type[BaseModel], body: dict[str, Any], field: str, where: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        model.model_validate(body)
    error = only_error(refused)
    assert (error["loc"], error["type"]) == ((field,), "nul_character")
    assert error["msg"].startswith(f"{where or field}: must not contain the NUL character")
    assert "\x00" not in str(refused.value.errors(include_input=False))


def test_an_info_list_row_with_a_nul_character_is_refused_by_its_line() -> None:
    header = "personal_identity_code;first_name;last_name;municipality;referral_date\n"
    data = (
        header + "010190-123M;Ma\x00ija;M;Mikkeli;2010-03-01\n010190-123M;Maija;M;Mikkeli;2010-03-01\n"
    ).encode()
    bad, good = parse(data, ListFormat.CSV)
    assert bad.row is None and [(e.line, e.field) for e in bad.errors] == [(2, "first_name")]
    assert "NUL" in bad.errors[0].reason
    assert good.row is not None
    line = b'{"personal_identity_code": "010190-123M", "first_name": "M", "last_name": "M\\u0000",'
    line += b' "municipality": "Mikkeli", "referral_date": "2010-03-01"}\n'
    [row] = parse(line, ListFormat.JSON_LINES)
    assert row.row is None and [e.field for e in row.errors] == ["last_name"]


def test_a_wrong_check_character_names_the_identity_code_field_and_not_its_value() -> None:
    body = referral_request()
    code = body["client"]["personal_identity_code"]
    wrong = code[:-1] + ("A" if code[-1] != "A" else "B")
    with pytest.raises(ValidationError) as raised:
        ReferralRequest.model_validate(
            {**body, "client": {**body["client"], "personal_identity_code": wrong}}
        )
    error = only_error(raised)
    assert error["loc"] == ("client", "personal_identity_code")
    assert error["msg"] == "the check character does not match"
    assert wrong not in str([{k: v for k, v in e.items() if k != "input"} for e in raised.value.errors()])
