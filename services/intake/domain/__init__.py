"""Intake's pure domain: state folded from events, and decisions that take state and a
command and return new events. No I/O: the clock, new ids and the actor come in as a
:class:`Context`."""

from runtime.decision import Context
from services.intake.domain.case import Consent, IntakeCase, Stage, evolve, fold
from services.intake.domain.errors import (
    AlreadyAssessed,
    ConsentMissing,
    DomainError,
    NotInvited,
    SessionFull,
    UnknownMunicipality,
)

__all__ = [
    "AlreadyAssessed",
    "Consent",
    "ConsentMissing",
    "Context",
    "DomainError",
    "IntakeCase",
    "NotInvited",
    "SessionFull",
    "Stage",
    "UnknownMunicipality",
    "evolve",
    "fold",
]
