"""Refusals by intake's rules. Each message says what to do next."""

from __future__ import annotations


class DomainError(Exception):
    """A business rule refused the command (HTTP 409)."""


class UnknownMunicipality(DomainError):
    pass


class AlreadyAssessed(DomainError):
    pass


class SessionFull(DomainError):
    pass


class NotInvited(DomainError):
    pass


class ConsentMissing(DomainError):
    def __init__(self, missing: list[str]) -> None:
        self.missing = missing
        super().__init__(
            "no consent in force covers: " + ", ".join(missing) + ". Record the client's consent "
            "(POST /clients/{client_id}/consents) before routing them into the centre"
        )
