"""The purpose vocabulary of reads (runtime/purposes.py, ADR 0027)."""

from __future__ import annotations

import pytest
from fastapi.exceptions import RequestValidationError

from runtime import purposes
from runtime.purposes import DETAIL_MAX_LENGTH, PurposeCode, ReadPurpose


def refusal(code: str, detail: str | None = None) -> str:
    with pytest.raises(RequestValidationError) as refused:
        purposes.parse(code, detail)
    [error] = refused.value.errors()
    return f"{error['loc']} {error['msg']}"


def test_every_code_is_documented_and_lower_case() -> None:
    for code in PurposeCode:
        assert code.value == code.value.lower() and " " not in code.value
        assert len(code.description) > 20, code
        assert f"`{code.value}`" in purposes.PURPOSE_DESCRIPTION


@pytest.mark.parametrize("code", [". .", "abc", "", "Service_Guidance", "service guidance"])
def test_a_purpose_outside_the_vocabulary_is_refused_naming_the_header_and_the_codes(code: str) -> None:
    message = refusal(code)
    assert "x-reitti-purpose" in message
    assert all(c.value in message for c in PurposeCode)


def test_a_known_code_passes_with_or_without_a_detail() -> None:
    assert purposes.parse("service_guidance") == ReadPurpose(PurposeCode.SERVICE_GUIDANCE)
    assert purposes.parse("audit", "  quarterly check ") == ReadPurpose(PurposeCode.AUDIT, "quarterly check")
    assert purposes.parse("audit", "   ") == ReadPurpose(PurposeCode.AUDIT), "a blank detail is none"
    assert str(purposes.parse("audit", "quarterly check")) == "audit: quarterly check"


@pytest.mark.parametrize(
    "detail", ["tab\there", "nul\x00", "bell\x07", "del\x7f", "x" * (DETAIL_MAX_LENGTH + 1), "ä" * 101]
)
def test_a_detail_with_control_characters_or_too_long_is_refused_naming_its_header(detail: str) -> None:
    assert "x-reitti-purpose-detail" in refusal("intake", detail)


def test_a_utf8_detail_reads_as_sent() -> None:
    # an HTTP server hands header bytes over as latin-1
    sent = "yhteinen palvelutarvearvio, jatko".replace("a", "ä").encode().decode("latin-1")
    assert purposes.parse("assessment", sent).detail == "yhteinen palvelutarvearvio, jatko".replace("a", "ä")
    assert purposes.parse("assessment", "café").detail == "café", "latin-1 that is not UTF-8 stays"


def test_the_openapi_documents_the_codes_and_the_detail_on_every_read() -> None:
    from services.guidance.app import create_app as guidance_app
    from services.intake.app import create_app as intake_app
    from services.reporting.app import create_app as reporting_app
    from tests.unit.test_openapi import SETTINGS

    codes = [code.value for code in PurposeCode]
    reads = 0
    for factory in (intake_app, guidance_app, reporting_app):
        document = factory(SETTINGS).openapi()
        schemas = document["components"]["schemas"]
        for path in document["paths"].values():
            for operation in path.values():
                parameters = {p["name"].lower(): p for p in operation.get("parameters", [])}
                if "x-reitti-purpose" not in parameters:
                    continue
                reads += 1
                assert "x-reitti-purpose-detail" in parameters
                schema = parameters["x-reitti-purpose"]["schema"]
                ref = schema.get("$ref") or next(s["$ref"] for s in schema.get("anyOf", []) if "$ref" in s)
                assert schemas[ref.rsplit("/", 1)[1]]["enum"] == codes
                assert "`system_test`" in parameters["x-reitti-purpose"]["description"]
    assert reads >= 10
