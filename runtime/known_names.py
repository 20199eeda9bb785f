"""The centre's names in a request: a field that names a municipality or an
organisation is checked against the configuration and answered 422 naming the field
(listing the known names) when it is none of them. The rule itself is
:mod:`contracts.names`; this only turns its refusal into a validation error."""

from __future__ import annotations

from collections.abc import Iterable

from fastapi.exceptions import RequestValidationError

from contracts.names import UnknownName, canonical_municipality, canonical_organisation


def invalid(loc: tuple[str | int, ...], message: str) -> RequestValidationError:
    """A 422 for the field at ``loc`` (for example ``("body", "areas", 0)``)."""
    return RequestValidationError([{"loc": loc, "msg": message, "type": "value_error"}])


def municipality_at(name: str, known: Iterable[str], *loc: str | int) -> str:
    """The configured spelling of the municipality ``name`` at ``loc``, or a 422."""
    try:
        return canonical_municipality(name, known)
    except UnknownName as exc:
        raise invalid(loc, str(exc)) from None


def organisation_at(name: str, known: Iterable[str], *loc: str | int) -> str:
    """The canonical id of the organisation ``name`` at ``loc``, or a 422."""
    try:
        return canonical_organisation(name, known)
    except ValueError as exc:
        raise invalid(loc, str(exc)) from None
