"""Strict types for what callers send: a date is an ISO date, an instant an ISO timestamp,
a count a number, a yes-or-no a JSON boolean. Pydantic's lax mode would read ``as_of=0``
or ``until=0.5`` as days of 1970, a timestamp where a date is meant as its day, ``true``
as 1 and ``1`` or ``"yes"`` as true; each of these is a caller's mistake, answered 422
naming the field.

They live in contracts because the contract models that request bodies embed (a plan's
measures, an activation plan, a joint decision) use them; an event read back from the
store is ISO text and JSON numbers and booleans, so it passes them unchanged. None of
them changes a JSON Schema: a date is still ``format: date``."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BeforeValidator, Strict
from pydantic_core import PydanticCustomError

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ISO_INSTANT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}"  # the day and the hour and minute
    r"(:[0-9]{2}(\.[0-9]{1,9})?)?"  # seconds, and their fraction
    r"([Zz]|[+-][0-9]{2}:?[0-9]{2})?"  # the offset
)


def _iso_date(value: Any) -> Any:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        return value
    raise PydanticCustomError("iso_date", "give a date as YYYY-MM-DD (for example 2010-03-01)")


def _iso_instant(value: Any) -> Any:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_INSTANT.fullmatch(value):
        return value
    raise PydanticCustomError(
        "iso_instant", "give a time as an ISO timestamp (for example 2010-03-01T08:00:00Z)"
    )


#: a calendar day, written YYYY-MM-DD
IsoDate = Annotated[date, BeforeValidator(_iso_date)]
#: an instant, written as an ISO 8601 timestamp
IsoInstant = Annotated[datetime, BeforeValidator(_iso_instant)]
#: a whole number that is a number (``true`` is not 1)
StrictCount = Annotated[int, Strict()]
#: an instant with its offset (``Z`` or ``+02:00``), written as an ISO 8601 timestamp
AwareIsoInstant = Annotated[AwareDatetime, BeforeValidator(_iso_instant)]
#: a JSON boolean (``1`` and ``"yes"`` are not true)
StrictFlag = Annotated[bool, Strict()]
