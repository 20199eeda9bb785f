"""Refusals by guidance's rules. Each message says what to do next."""

from __future__ import annotations


class DomainError(Exception):
    """A business rule refused the command (HTTP 409)."""


class CaseClosed(DomainError):
    pass


class CaseloadFull(DomainError):
    pass


class NotPermitted(Exception):
    """The caller's role or organisation may not do this (HTTP 403)."""
