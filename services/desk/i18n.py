"""The desk's languages (*kielet*): Finnish, Swedish and English, through gettext
catalogues read with Babel.

The catalogues are the ``.po`` files in ``services/desk/locale``, read at start-up with
Babel's ``read_po`` and compiled in memory, so no compiled ``.mo`` can go stale beside
them (docs/adr/0045). Strings in Python are marked with :func:`N_` and translated where
they are shown; a unit test fails on any string of the templates or the code that a
catalogue lacks, and on any empty or fuzzy translation in the Finnish and Swedish ones.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime
from importlib import resources
from typing import Final

from babel import Locale, negotiate_locale
from babel.dates import format_date, format_datetime
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations

from runtime import clock

#: the languages, in the order the switcher shows them; the first is the default
LANGUAGES: Final = ("fi", "sv", "en")
DEFAULT_LANGUAGE: Final = "fi"
#: each language's own name, as the switcher shows it (never translated)
LANGUAGE_NAMES: Final = {"fi": "suomeksi", "sv": "på svenska", "en": "in English"}
DOMAIN: Final = "messages"


def N_(message: str) -> str:
    """Marks ``message`` for the catalogues; it is translated where it is shown."""
    return message


def catalogue_path(language: str) -> resources.abc.Traversable:
    return resources.files("services.desk") / "locale" / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalogue(language: str) -> Catalog:
    with catalogue_path(language).open("rb") as po:
        return read_po(po, locale=language, domain=DOMAIN)


def translations(language: str) -> Translations:
    """``language``'s catalogue as gettext translations (fuzzy entries left out)."""
    buffer = io.BytesIO()
    write_mo(buffer, read_catalogue(language), use_fuzzy=False)
    buffer.seek(0)
    return Translations(fp=buffer, domain=DOMAIN)


def chosen(value: str | None, accept_language: str | None = None) -> str:
    """The language a session asked for, else the browser's preference, else Finnish."""
    if value in LANGUAGES:
        return value
    if accept_language:
        wanted = [part.split(";")[0].strip().replace("-", "_") for part in accept_language.split(",")]
        found = negotiate_locale([w for w in wanted if w], LANGUAGES, sep="_")
        if found in LANGUAGES:
            return found
    return DEFAULT_LANGUAGE


@dataclass(frozen=True)
class Formats:
    """Dates and numbers in one language's locale (Babel's CLDR data)."""

    language: str

    @property
    def locale(self) -> Locale:
        return Locale.parse(self.language)

    def date(self, value: date | str | None) -> str:
        if value is None or value == "":
            return ""
        day = date.fromisoformat(value) if isinstance(value, str) else value
        return format_date(day, format="medium", locale=self.language)

    def datetime(self, value: datetime | str | None) -> str:
        if value is None or value == "":
            return ""
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
        # An instant is shown on the centre's clock (runtime.clock's zone, Europe/Helsinki
        # by default), as the forms read it, never in the zone the API wrote it in (UTC).
        if moment.tzinfo is None:  # already a wall-clock time: shown as it is
            return format_datetime(moment, format="medium", locale=self.language)
        return format_datetime(moment, format="medium", tzinfo=clock.zone(), locale=self.language)

    def number(self, value: float | int | None) -> str:
        return "" if value is None else format_decimal(value, locale=self.language)
