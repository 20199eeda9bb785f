"""The desk's catalogues (services/desk/locale): every string the templates and the code
show is in each of them, and none is left untranslated (empty or fuzzy) in Finnish or
Swedish; every code the API answers with has a label (docs/adr/0045)."""

from __future__ import annotations

import pytest

from contracts.intake import ReferralSource
from runtime.problems import ProblemType
from runtime.roles import Role
from services.desk import labels
from services.desk.catalogues import used_messages
from services.desk.i18n import LANGUAGES, read_catalogue
from services.desk.process import STATUTES
from services.guidance.domain.plan import DEFAULT_MEASURE_CATALOGUE
from services.intake.domain.case import Stage
from services.rules import RULE_SETS

TRANSLATED = ("fi", "sv")


@pytest.fixture(scope="module")
def used() -> dict[str, list[str]]:
    return used_messages()


def test_the_extraction_finds_the_templates_and_the_code(used: dict[str, list[str]]) -> None:
    places = {place.split(":")[0] for where in used.values() for place in where}
    assert any(p.startswith("templates/") for p in places) and "labels.py" in places
    assert "Skip to content" in used, "a template's _()"
    assert labels.ROLES[Role.SERVICE_GUIDE] in used, "an N_() of the code"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_string_shown_is_in_the_catalogue(used: dict[str, list[str]], language: str) -> None:
    catalogue = read_catalogue(language)
    missing = {message: where for message, where in used.items() if catalogue.get(message) is None}
    assert missing == {}, f"run `reitti desk-messages` and translate them in {language}"


@pytest.mark.parametrize("language", TRANSLATED)
def test_no_string_is_left_untranslated(language: str) -> None:
    catalogue = read_catalogue(language)
    untranslated = [m.id for m in catalogue if m.id and (not m.string or m.fuzzy)]
    assert untranslated == []
    assert not catalogue.fuzzy, "the catalogue's header is marked fuzzy"


def test_a_placeholder_of_a_message_is_kept_in_its_translations() -> None:
    for language in TRANSLATED:
        for message in read_catalogue(language):
            if message.id and "%(" in str(message.id):
                names = sorted(set(str(message.id).split("%(")[1:]))
                for name in names:
                    assert f"%({name.split(')')[0]})" in str(message.string), (language, message.id)


def test_every_code_the_api_answers_with_has_a_label() -> None:
    assert set(labels.ROLES) == set(Role)
    assert set(labels.SOURCES) == set(ReferralSource)
    assert set(labels.WAITING_FOR) == {stage.value for stage in Stage}, "the queue's waiting_for"
    assert {t.value.rsplit(":", 1)[-1] for t in ProblemType} <= set(labels.PROBLEMS)
    assert {rules.statute for rules in RULE_SETS} <= set(STATUTES)


def test_every_measure_of_the_catalogue_is_translated(used: dict[str, list[str]]) -> None:
    assert set(DEFAULT_MEASURE_CATALOGUE.values()) <= set(used), "the one catalogue's names"
    for language in TRANSLATED:
        catalogue = read_catalogue(language)
        for name in DEFAULT_MEASURE_CATALOGUE.values():
            translated = catalogue.get(name)
            assert translated is not None and translated.string not in ("", name), (language, name)
