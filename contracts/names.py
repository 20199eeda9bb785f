"""One canonical spelling of the centre's municipalities and of the organisations named
after them.

A caller may write ``"mikkeli"``, ``" MIKKELI "`` or ``"Mikkeli"``; all mean the configured
``"Mikkeli"``, and that spelling is what is stored. ``"Mäntyharju"`` may also be written
as its slug ``"mantyharju"`` (organisation ids and broker subjects use slugs, so callers
meet that spelling too). A name that is none of the configured municipalities is refused
with :class:`UnknownName`, which lists the known ones. Pure functions: the configured
municipalities are passed in (``Settings.municipalities``).

Organisations: a municipality's social services are ``social_services:<slug>``
(``social_services:mantyharju``); ``social_services:Mäntyharju`` is stored as that,
``social_services:atlantis`` is refused. Other organisations (``kela``, ``te-office``,
projects) have no configured register; their canonical spelling is lower case.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from contracts.subjects import organisation_slug, social_services

#: the prefix of a municipality's social services' organisation id
SOCIAL_SERVICES = "social_services:"
#: the TE-office's (TE-toimisto) organisation id, also the token of its broker feed
TE_OFFICE = "te-office"
#: other organisation ids: lower-case letters, digits, ``_`` and ``-`` (``kela``, ``te-office``)
_ORGANISATION = re.compile(r"[a-z0-9][a-z0-9_-]{0,99}")


class UnknownName(ValueError):
    """A name that is not one of the centre's configured ones; the message lists them."""

    def __init__(self, message: str, known: tuple[str, ...]) -> None:
        super().__init__(message)
        self.known = known


def _key(name: str) -> str:
    return unicodedata.normalize("NFC", name).strip().casefold()


def _slug(name: str) -> str | None:
    try:
        return organisation_slug(unicodedata.normalize("NFC", name))
    except ValueError:
        return None


def canonical_municipality(name: str, known: Iterable[str]) -> str:
    """The configured municipality ``name`` means: the same name ignoring case, outer
    spaces and Unicode composition, or its slug. Else :class:`UnknownName`."""
    centre = tuple(known)
    wanted = _key(name)
    for municipality in centre:
        if _key(municipality) == wanted or _slug(municipality) == wanted:
            return municipality
    raise UnknownName("not one of the centre's municipalities; use one of: " + ", ".join(centre), centre)


def canonical_organisation(name: str, known: Iterable[str]) -> str:
    """The canonical id of an organisation: ``social_services:<slug>`` of a configured
    municipality (:class:`UnknownName` if it is none), or another organisation's id in
    lower case (``Kela`` -> ``kela``)."""
    centre = tuple(known)
    text = unicodedata.normalize("NFC", name).strip()
    if _key(text).startswith(SOCIAL_SERVICES):
        try:
            municipality = canonical_municipality(text[len(SOCIAL_SERVICES) :], centre)
        except UnknownName:
            raise UnknownName(
                "names no social services of the centre's municipalities; use one of: "
                + ", ".join(social_services_of(centre)),
                centre,
            ) from None
        return social_services(municipality)
    lowered = text.casefold()
    if not _ORGANISATION.fullmatch(lowered):
        raise ValueError(
            "use an organisation id such as kela or te-office (lower-case letters, digits, _ and -), "
            "or social_services:<municipality>"
        )
    return lowered


def social_services_of(municipalities: Iterable[str]) -> list[str]:
    """The organisation ids of the municipalities' social services."""
    return [social_services(m) for m in municipalities]
