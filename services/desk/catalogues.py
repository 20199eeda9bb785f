"""The desk's messages as the code and the templates use them: what ``pybabel extract``
would find, read with Babel's extractors (Python: ``N_`` and ``_``; templates: Jinja2's
``_``, ``gettext`` and ``ngettext``). ``reitti desk-messages`` merges them into the
``.po`` catalogues (new strings empty, to be translated; strings gone marked obsolete),
and a unit test fails when a catalogue lacks one or a Finnish or Swedish one is empty or
fuzzy (docs/adr/0045)."""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import write_po

from services.desk.guidance_labels import MEASURE_NAMES, MEASURE_USES
from services.desk.i18n import DOMAIN, LANGUAGES, catalogue_path, read_catalogue

PACKAGE = Path(__file__).resolve().parent
METHODS = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
#: where the measure catalogue's names are taken from, as their catalogues' location
MEASURE_SOURCE, MEASURE_LINE = "guidance_labels.py", 1
KEYWORDS = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2)}
OPTIONS = {
    "**/templates/**.html": {"extensions": "jinja2.ext.i18n", "trim_blocks": "true", "lstrip_blocks": "true"}
}


def used_messages() -> dict[str, list[str]]:
    """Every message the desk shows -> where (file:line) it is used."""
    found: dict[str, list[str]] = {}
    for filename, line, message, _comments, _context in extract_from_dir(
        str(PACKAGE), METHODS, OPTIONS, KEYWORDS
    ):
        key = message if isinstance(message, str) else message[0]
        found.setdefault(key, []).append(f"{filename}:{line}")
    # texts the desk translates at run time, as the API answers them: the measure
    # catalogue's names and when each measure is meant to be used
    for name in (*MEASURE_NAMES, *MEASURE_USES):
        found.setdefault(name, []).append(f"{MEASURE_SOURCE}:{MEASURE_LINE}")
    return found


def merged(language: str, used: dict[str, list[str]]) -> Catalog:
    """``language``'s catalogue with every used message (a new one untranslated, English
    given its own text) and without those no longer used."""
    old = read_catalogue(language)
    catalogue = Catalog(locale=language, domain=DOMAIN, project="reitti-desk", fuzzy=False)
    for message_id, places in sorted(used.items()):
        previous = old.get(message_id)
        text = previous.string if previous is not None else ""
        if language == "en" and not text:
            text = message_id
        catalogue.add(
            message_id,
            text,
            locations=[(p.rsplit(":", 1)[0], int(p.rsplit(":", 1)[1])) for p in places],
            flags=previous.flags if previous is not None else (),
        )
    return catalogue


def write_catalogues() -> list[Path]:
    """Merge the used messages into every catalogue (``reitti desk-messages``)."""
    used = used_messages()
    written = []
    for language in LANGUAGES:
        path = Path(str(catalogue_path(language)))
        catalogue = merged(language, used)  # read before the file is opened for writing
        with path.open("wb") as po:
            write_po(po, catalogue, width=100, sort_output=True)
        written.append(path)
    return written
