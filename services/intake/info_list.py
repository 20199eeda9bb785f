"""Parsing the TE-office's info list (URA's *infolista*) of referrals, CSV or JSON Lines.

Pure: bytes in, rows out, line by line (a file of any length is never held parsed as a
whole). Every row is either a valid referral or the line number with each field's reason;
one bad row never stops the others.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import ConfigDict, Field, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from contracts.intake import ClientDetails, ReferralSource
from runtime.requests import RequestModel
from runtime.strict_types import IsoDate
from services.intake.domain.referral import RegisterReferral
from services.intake.identity import InvalidIdentityCode
from services.intake.identity import parse as parse_identity_code

COLUMNS = (
    "personal_identity_code",
    "first_name",
    "last_name",
    "municipality",
    "referral_date",
    "subsidy_days",
    "unemployment_months",
)
REQUIRED = COLUMNS[:5]


class ListFormat(StrEnum):
    CSV = "csv"
    JSON_LINES = "jsonl"


class InfoListRow(RequestModel):
    """One referral on the info list; the source is always the TE-office. No value may
    carry the NUL character (:class:`RequestModel`): such a row is refused by its line."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    personal_identity_code: str
    first_name: str = Field(min_length=1, max_length=100)
    last_name: str = Field(min_length=1, max_length=100)
    municipality: str = Field(min_length=1, max_length=100)
    referral_date: IsoDate
    subsidy_days: int | None = Field(default=None, ge=0, le=10_000)
    unemployment_months: int | None = Field(default=None, ge=0, le=600)

    @field_validator("personal_identity_code")
    @classmethod
    def _valid_code(cls, value: str) -> str:
        """The same rules as the API's (:func:`services.intake.identity.parse`)."""
        try:
            return parse_identity_code(value)
        except InvalidIdentityCode as exc:
            raise ValueError(str(exc)) from None

    @field_validator("subsidy_days", "unemployment_months", mode="before")
    @classmethod
    def _blank_is_unknown(cls, value: Any) -> Any:
        # A CSV cell is text, so "520" is read as a number here (unlike the API, whose JSON
        # has numbers); a JSON Lines `true` is still not 1 day.
        if isinstance(value, bool):
            raise PydanticCustomError("int_type", "give a whole number, not true or false")
        return None if isinstance(value, str) and not value.strip() else value

    def command(self) -> RegisterReferral:
        return RegisterReferral(
            source=ReferralSource.TE_OFFICE,
            source_description=None,
            municipality=self.municipality,
            referral_date=self.referral_date,
            subsidy_days=self.subsidy_days,
            unemployment_months=self.unemployment_months,
            client=ClientDetails(
                first_name=self.first_name,
                last_name=self.last_name,
                personal_identity_code=self.personal_identity_code,
            ),
        )


@dataclass(frozen=True)
class RowError:
    line: int
    field: str
    reason: str


@dataclass(frozen=True)
class ParsedRow:
    line: int
    row: InfoListRow | None
    errors: tuple[RowError, ...] = ()


class InfoListError(ValueError):
    """The file as a whole cannot be read (not a row-level problem)."""


def detect_format(content_type: str | None, filename: str | None = None) -> ListFormat:
    text = f"{content_type or ''} {filename or ''}".lower()
    if "json" in text or text.rstrip().endswith((".jsonl", ".ndjson")):
        return ListFormat.JSON_LINES
    if "csv" in text or text.rstrip().endswith(".csv"):
        return ListFormat.CSV
    raise InfoListError("send the info list as text/csv or application/x-ndjson (JSON Lines)")


def parse(data: bytes | Iterable[bytes], fmt: ListFormat) -> Iterator[ParsedRow]:
    """The rows of the list, read line by line: ``data`` is the whole file, or its lines
    (a binary file opened for reading is one). Only one row is held at a time."""
    for line, found in _records(data, fmt):
        if isinstance(found, RowError):
            yield ParsedRow(line, None, (found,))
        else:
            yield _validate(line, found)


def count_rows(data: bytes | Iterable[bytes], fmt: ListFormat, *, up_to: int) -> int:
    """The rows :func:`parse` would yield, counted without validating them, and at most
    ``up_to + 1`` (enough to tell that a list is over a bound of ``up_to``). A file that
    cannot be read as a whole raises :class:`InfoListError` here, as in :func:`parse`."""
    counted = 0
    for _ in _records(data, fmt):
        counted += 1
        if counted > up_to:
            break
    return counted


#: a row's line and its values, or its one error, before validation
Record = tuple[int, dict[str, Any] | RowError]


def _records(data: bytes | Iterable[bytes], fmt: ListFormat) -> Iterator[Record]:
    """Each row's line and its values, or its one error, before validation."""
    lines = _text_lines(io.BytesIO(data) if isinstance(data, bytes) else data)
    if fmt is ListFormat.CSV:
        yield from _csv_records(lines)
    else:
        yield from _json_records(lines)


def _text_lines(lines: Iterable[bytes]) -> Iterator[str]:
    """The file's lines (split at each line feed, each keeping its end) as text; a byte order
    mark at the start is dropped."""
    for number, raw in enumerate(lines, start=1):
        try:
            yield raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            where = f"line {number}, byte {exc.start} of the line"
            raise InfoListError(f"the file is not UTF-8 ({where})") from None


#: csv's own limit on one field (131,072 characters) would stop the whole file at a long
#: field; the body is bounded already (REITTI_MAX_IMPORT_BYTES), and each field's length is
#: checked by its row's model, so a long field is that row's error.
csv.field_size_limit(2**31 - 1)


def _csv_records(lines: Iterator[str]) -> Iterator[Record]:
    first = next(lines, "")
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.DictReader(itertools.chain([first], lines), delimiter=delimiter)
    try:
        names = reader.fieldnames
    except csv.Error as exc:  # a carriage return inside the unquoted header, for example
        raise InfoListError(f"line 1: the CSV header cannot be read ({exc})") from None
    header = [h.strip() for h in (names or [])]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise InfoListError("the header lacks the columns: " + ", ".join(missing))
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        raise InfoListError("unknown columns: " + ", ".join(unknown))
    reader.fieldnames = header
    while True:
        before = reader.line_num
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            # a field over csv's size limit, a stray quote, a NUL: that row only
            if reader.line_num == before:
                raise InfoListError(f"line {before + 1}: the CSV cannot be read on ({exc})") from None
            yield reader.line_num, RowError(reader.line_num, "-", f"not CSV: {exc}")
            continue
        line = reader.line_num
        if not any((v or "").strip() for v in record.values() if isinstance(v, str)):
            continue
        if None in record:
            yield line, RowError(line, "-", "more values than columns")
            continue
        yield line, {k: (v if v is None else v.strip()) for k, v in record.items() if v not in (None, "")}


def _json_records(lines: Iterator[str]) -> Iterator[Record]:
    for line, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            values = json.loads(raw)
        except json.JSONDecodeError as exc:
            yield line, RowError(line, "-", f"not JSON: {exc.msg}")
            continue
        except RecursionError:
            yield line, RowError(line, "-", "not a row: nested too deeply")
            continue
        except ValueError as exc:  # for example an integer of more digits than Python reads
            yield line, RowError(line, "-", f"not JSON: {exc}")
            continue
        if not isinstance(values, dict):
            yield line, RowError(line, "-", "each line must be a JSON object")
            continue
        yield line, values


def _validate(line: int, values: dict[str, Any]) -> ParsedRow:
    try:
        return ParsedRow(line, InfoListRow.model_validate(values))
    except ValidationError as exc:
        errors = tuple(
            RowError(line, ".".join(str(p) for p in e["loc"]) or "-", e["msg"]) for e in exc.errors()
        )
        return ParsedRow(line, None, errors)
