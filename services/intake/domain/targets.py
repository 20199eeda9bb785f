"""The steering group's yearly intake targets (*vuoden asiakastavoite*): one stream per
year, ``intake-target-<year>``; each setting is an :class:`IntakeTargetSet`, and a later
one supersedes an earlier (effective-dated by its ``set_on``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from contracts.base import EventBase
from contracts.intake import IntakeTargetSet
from runtime.decision import Context
from services.intake.domain.errors import DomainError

#: the years a target may be set for (the same range every statistic accepts)
FIRST_YEAR, LAST_YEAR = 2000, 2100


def stream_id(year: int) -> str:
    """The stream of ``year``'s target settings."""
    return f"intake-target-{year}"


@dataclass(frozen=True)
class SetIntakeTarget:
    year: int
    target: int
    set_on: date
    #: canonical municipality names -> their part, adding up to ``target``; None: by population
    municipalities: Mapping[str, int] | None = None


def set_target(command: SetIntakeTarget, *, version: int, ctx: Context) -> list[EventBase]:
    """The setting as an event after the stream's ``version``; refused when it cannot hold."""
    c = command
    if not FIRST_YEAR <= c.year <= LAST_YEAR:
        raise DomainError(f"a target is set for a year from {FIRST_YEAR} to {LAST_YEAR}")
    if c.set_on.year > c.year:
        raise DomainError(f"the target for {c.year} cannot be set after the year, on {c.set_on}")
    if c.municipalities is not None and sum(c.municipalities.values()) != c.target:
        raise DomainError(
            f"the municipalities' targets add up to {sum(c.municipalities.values())}, not to "
            f"the target {c.target}; leave them out to apportion the target by population"
        )
    return [
        IntakeTargetSet(
            **ctx.envelope(stream_id(c.year), version + 1),
            year=c.year,
            target=c.target,
            set_on=c.set_on,
            municipalities=None if c.municipalities is None else dict(c.municipalities),
        )
    ]
