"""Refusals by guidance's rules. Each message says what to do next."""

from __future__ import annotations


class DomainError(Exception):
    """A business rule refused the command (HTTP 409)."""


class CaseClosed(DomainError):
    pass


class RelationshipEnded(DomainError):
    """The case was transferred out with the relationship ending: only the client's
    return or the closure may follow."""

    def __init__(self, client_id: str) -> None:
        super().__init__(
            "the relationship ended at the transfer: record the client's return or close it "
            f"(the guidance case of {client_id} is transferred_out)"
        )


class CaseloadFull(DomainError):
    pass


class NotPermitted(Exception):
    """The caller's role or organisation may not do this (HTTP 403)."""
