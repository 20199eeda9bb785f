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
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AwareDatetime, BeforeValidator, GetJsonSchemaHandler, Strict
from pydantic.json_schema import JsonSchemaValue
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


def _number(value: Any) -> Any:
    """A JSON number: not a boolean, not text (``true`` is not 1, ``"6"`` not 6)."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise PydanticCustomError("number_type", "give a JSON number")
    return value


#: a whole number that is a JSON number (``true`` and ``"520"`` are not; ``520.0`` is, as
#: JSON Schema's ``integer`` says)
StrictCount = Annotated[int, BeforeValidator(_number)]


class _NumberSchema:
    """A decimal's JSON Schema is its number branch alone: text is refused (``_number``)."""

    def __get_pydantic_json_schema__(self, core: Any, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        schema = handler(core)
        numbers = [b for b in schema.get("anyOf", []) if b.get("type") == "number"]
        return numbers[0] if numbers else schema


#: a decimal that is a JSON number (``""`` and ``"6"`` are not)
StrictDecimal = Annotated[Decimal, BeforeValidator(_number), _NumberSchema()]
#: an instant with its offset (``Z`` or ``+02:00``), written as an ISO 8601 timestamp
AwareIsoInstant = Annotated[AwareDatetime, BeforeValidator(_iso_instant)]
#: a JSON boolean (``1`` and ``"yes"`` are not true)
StrictFlag = Annotated[bool, Strict()]

#: a decimal query parameter: sent as text, as every parameter is, and documented as the
#: number it must be (so ``daily_amount=`` is not offered as valid)
NumberInQuery = Annotated[Decimal, _NumberSchema()]
