"""Refusals by intake's rules. Each message says what to do next."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date


class DomainError(Exception):
    """A business rule refused the command (HTTP 409)."""


class FieldRequired(DomainError):
    """A rule needs a field the command left empty; ``field`` names it and ``code`` the
    rule, so the API can answer 422 naming the field, as for any invalid input."""

    def __init__(self, field: str, code: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.code = code


class UnknownMunicipality(DomainError):
    pass


class AlreadyAssessed(DomainError):
    pass


class SessionFull(DomainError):
    pass


class NotInvited(DomainError):
    pass


class ConsentMissing(DomainError):
    def __init__(self, missing: list[str], *, days: Sequence[date] = ()) -> None:
        self.missing = missing
        self.days = tuple(days)
        on = " on " + " and on ".join(str(d) for d in self.days) if self.days else ""
        super().__init__(
            f"no consent in force{on} covers: " + ", ".join(missing) + ". A route into the centre "
            "needs the consent in force both on the assessment date and on the day the assessment "
            "is recorded. Record the client's consent (POST /clients/{client_id}/consents) before "
            "routing them into the centre"
        )


class AlreadyErased(DomainError):
    """The client's personal data is already erased."""
