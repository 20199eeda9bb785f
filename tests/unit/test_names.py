"""One canonical spelling of the centre's municipalities and organisations (ADR 0027)."""

from __future__ import annotations

import json
import unicodedata

import pytest

from contracts.names import UnknownName, canonical_municipality, canonical_organisation
from reitti.cli import token_organisation
from runtime.config import DEFAULT_MUNICIPALITIES, ConfigError, RuntimeSection, Settings
from runtime.flat_settings import read_section
from services.reporting.config import POPULATIONS, ReportingConfig
from services.settings import ReittiConfig

CENTRE = DEFAULT_MUNICIPALITIES


@pytest.mark.parametrize(
    ("written", "configured"),
    [
        ("Mikkeli", "Mikkeli"),
        ("mikkeli", "Mikkeli"),
        ("  MIKKELI ", "Mikkeli"),
        ("mäntyharju", "Mäntyharju"),
        ("MÄNTYHARJU", "Mäntyharju"),
        ("mantyharju", "Mäntyharju"),  # its slug, as organisation ids spell it
        (unicodedata.normalize("NFD", "Mäntyharju"), "Mäntyharju"),  # a decomposed ä
    ],
)
def test_a_municipality_is_spelled_as_configured(written: str, configured: str) -> None:
    assert canonical_municipality(written, CENTRE) == configured


@pytest.mark.parametrize("written", ["Atlantis", "", " ", "Mikkeli!", "Mik keli", "Helsinki"])
def test_an_unknown_municipality_is_refused_listing_the_known_ones(written: str) -> None:
    with pytest.raises(UnknownName) as refused:
        canonical_municipality(written, CENTRE)
    assert all(m in str(refused.value) for m in CENTRE)
    assert refused.value.known == CENTRE


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("social_services:mikkeli", "social_services:mikkeli"),
        ("social_services:Mikkeli", "social_services:mikkeli"),
        ("Social_Services:MÄNTYHARJU", "social_services:mantyharju"),
        ("social_services:Mäntyharju", "social_services:mantyharju"),
        ("Kela", "kela"),
        ("te-office", "te-office"),
    ],
)
def test_an_organisation_has_one_spelling(written: str, canonical: str) -> None:
    assert canonical_organisation(written, CENTRE) == canonical


@pytest.mark.parametrize(
    "written", ["social_services:atlantis", "social_services:", "social_services:helsinki"]
)
def test_social_services_of_another_municipality_are_refused(written: str) -> None:
    with pytest.raises(UnknownName, match="social_services:mantyharju"):
        canonical_organisation(written, CENTRE)


@pytest.mark.parametrize("written", ["", "kela office", "kela;drop", "-kela"])
def test_an_organisation_id_of_other_characters_is_refused(written: str) -> None:
    with pytest.raises(ValueError, match="organisation id"):
        canonical_organisation(written, CENTRE)


def test_the_setting_is_parsed_once_in_one_spelling() -> None:
    assert read_section(RuntimeSection, {}).municipalities == CENTRE
    nfd = unicodedata.normalize("NFD", "Mäntyharju")
    parsed = read_section(RuntimeSection, {"REITTI_MUNICIPALITIES": f" Mikkeli , {nfd},,"}).municipalities
    assert parsed == ("Mikkeli", "Mäntyharju")
    settings = Settings(nats_url="nats://x", database_url="postgresql://x", municipalities=(nfd,))
    assert settings.municipalities == ("Mäntyharju",)


@pytest.mark.parametrize("raw", ["Mikkeli,mikkeli", "Mäntyharju,Mantyharju", "Mikkeli,!!", " , "])
def test_a_setting_with_two_spellings_of_one_name_or_none_is_refused(raw: str) -> None:
    with pytest.raises(ConfigError, match="REITTI_MUNICIPALITIES"):
        read_section(RuntimeSection, {"REITTI_MUNICIPALITIES": raw})


def test_reporting_takes_the_settings_municipalities() -> None:
    read = ReittiConfig.from_env({"REITTI_MUNICIPALITIES": "Atlantis"})
    assert ReportingConfig.from_config(read).municipalities == CENTRE
    assert ReportingConfig.from_config(read, municipalities=("Puumala",)).municipality("PUUMALA") == "Puumala"
    assert set(POPULATIONS) == set(CENTRE)


def test_a_social_workers_token_names_the_social_services_of_a_centre_municipality() -> None:
    assert token_organisation("social_worker", "social_services:Mikkeli", CENTRE) == "social_services:mikkeli"
    assert token_organisation("social_worker", "Mäntyharju", CENTRE) == "social_services:mantyharju"
    with pytest.raises(ConfigError, match="social_services:mikkeli"):
        token_organisation("social_worker", None, CENTRE)
    with pytest.raises(ConfigError, match="social_services:mikkeli"):
        token_organisation("social_worker", "social_services:atlantis", CENTRE)
    assert token_organisation("employment_advisor", None, CENTRE) == "te-office"
    assert token_organisation("service_coordinator", None, CENTRE) == "centre"
    assert token_organisation("auditor", "Kela", CENTRE) == "kela"


@pytest.mark.parametrize(
    "written",
    [
        "social_services:Mikkeli",
        "Social_Services:MÄNTYHARJU",
        "social_services:mantyharju",
        "kela",
        "Kela",
        "te-office",
        "social_services:atlantis",
        "social_services:",
        "",
        "kela office",
        "-kela",
        "social_services:mikkeli:x",
    ],
)
def test_the_openapi_pattern_of_an_organisation_accepts_what_the_service_accepts(written: str) -> None:
    import re

    from runtime.openapi_names import organisation_pattern

    try:
        canonical_organisation(written, CENTRE)
        accepted = True
    except ValueError:
        accepted = False
    assert bool(re.fullmatch(organisation_pattern(CENTRE), written)) is accepted


def test_the_openapi_lists_the_configured_municipalities_where_a_name_is_asked() -> None:
    from services.guidance.app import create_app as guidance_app
    from services.intake.app import create_app as intake_app
    from services.reporting.app import create_app as reporting_app
    from tests.unit.test_openapi import SETTINGS

    settings = SETTINGS.with_(municipalities=("Puumala", "Mäntyharju"))
    listed = 0
    for factory in (intake_app, guidance_app, reporting_app):
        text = json.dumps(factory(settings).openapi(), ensure_ascii=False)
        assert "x-reitti-names" not in text
        listed += text.count('"enum": ["Puumala", "Mäntyharju"]')
    assert listed >= 15  # referral, queue, areas, transfer, reporting's parameters
