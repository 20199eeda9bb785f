"""Importing the TE-office info list: each valid row is one referral, in its own
transaction, so one bad or refused row never undoes the others.

The list is read off the event loop and never held parsed as a whole (docs/adr/0026):
the body is spooled (in memory up to :data:`SPOOL_IN_MEMORY`, then on disk), its rows
are counted in a worker thread, and a list over the row bound is refused whole (413)
before anything is written. The rows are then parsed and validated in a worker thread,
:data:`BATCH_ROWS` at a time, and each batch is written on the loop through the pool.
"""

from __future__ import annotations

import io
import tempfile
import time
from collections.abc import AsyncIterable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, TypeVar

from anyio import to_thread
from pydantic import BaseModel, Field

from runtime.decision import Context
from runtime.eventstore import ConcurrencyConflict
from runtime.purposes import PurposeCode, ReadPurpose
from services.intake.application import IntakeService, ReferralKind
from services.intake.domain.errors import DomainError
from services.intake.domain.referral import RegisterReferral
from services.intake.info_list import ListFormat, ParsedRow, count_rows, parse

#: the errors an answer lists (the first ones, by line); ``errors_total`` counts them all
MAX_REPORTED_ERRORS = 100
#: rows of the default bound of one import (``REITTI_MAX_IMPORT_ROWS``)
DEFAULT_MAX_IMPORT_ROWS = 100_000
#: rows parsed and validated per turn of a worker thread: large enough that a thread's
#: start is nothing beside it, small enough that only a batch is held at a time
BATCH_ROWS = 500
#: valid rows (commands) of one batch, written before the next is parsed
WRITES_PER_BATCH = 50
#: bytes of a body held in memory before its spool moves to a temporary file
SPOOL_IN_MEMORY = 1024 * 1024
#: seconds a worker thread parses before it lets go of the GIL for GIL_PAUSE. A thread
#: that holds the GIL makes the loop wait up to the interpreter's switch interval (5 ms)
#: at every wake-up, and one /healthz wakes the loop a dozen times; a thread that pauses
#: often makes it wait about a millisecond at most (docs/adr/0026)
GIL_HOLD = 0.001
GIL_PAUSE = 0.0005
PURPOSE = ReadPurpose(PurposeCode.INTAKE, "importing the TE-office info list")
T = TypeVar("T")


class TooManyRows(Exception):
    """The list has more rows than one import takes (HTTP 413); nothing was written."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"the info list has more than {limit} rows, the most one import takes "
            "(REITTI_MAX_IMPORT_ROWS); nothing was imported: send it in parts, with first_line "
            "giving each part's first line in the whole file"
        )
        self.limit = limit


class ImportError_(BaseModel):
    line: int = Field(description="Line number in the whole file (see first_line)")
    field: str = Field(description="The row's field at fault, or - for the row as a whole")
    reason: str = Field(description="Why the row was not imported")


class ImportedRow(BaseModel):
    line: int = Field(description="Line number in the whole file (see first_line)")
    client_id: str = Field(description="The client's intake case the referral was recorded on")


class ImportResult(BaseModel):
    rows: int = Field(
        description="Data rows read: new_cases + recorded_on_existing + already_present + "
        "possible_duplicates + rejected"
    )
    new_cases: int = Field(description="Rows that opened a new intake case")
    recorded_on_existing: int = Field(description="A different referral of a client already known")
    already_present: int = Field(description="The same referral imported before: nothing written")
    possible_duplicates: int = Field(
        default=0,
        description="Held for the intake advisor: they may be of a known client (GET /possible-duplicates)",
    )
    rejected: int = Field(description="Rows not imported: invalid, or refused by a rule")
    errors_total: int = Field(
        description="Every error found (a rejected row may have several, one per field)"
    )
    errors: list[ImportError_] = Field(
        description=f"The first {MAX_REPORTED_ERRORS} errors, by line; errors_total counts them all",
        max_length=MAX_REPORTED_ERRORS,
    )
    imported: list[ImportedRow] = Field(
        description="The rows written (new_cases and recorded_on_existing), by line, with their "
        "client ids; at most one per row, so at most REITTI_MAX_IMPORT_ROWS (100,000 rows: about 6 MB)",
    )


@dataclass
class _Tally:
    """The answer as it is counted: plain values, made a model once, off the loop."""

    rows: int = 0
    new_cases: int = 0
    recorded_on_existing: int = 0
    already_present: int = 0
    possible_duplicates: int = 0
    rejected: int = 0
    errors_total: int = 0
    errors: list[tuple[int, str, str]] = field(default_factory=list)
    imported: list[tuple[int, str]] = field(default_factory=list)

    def reject(self, line: int, *errors: tuple[str, str]) -> None:
        self.rejected += 1
        self.errors_total += len(errors)
        self.errors.extend((line, name, reason) for name, reason in errors)
        if len(self.errors) > 2 * MAX_REPORTED_ERRORS:
            self._trim()

    def _trim(self) -> None:
        """Keep the first errors by line (the rows are not always rejected in the order of
        their lines: a batch's refusals by a rule come after its invalid rows). Trimming
        early loses none of the first: an error not among the first of those seen is not
        among the first of more. The stable sort keeps a row's errors in their order."""
        self.errors.sort(key=lambda error: error[0])
        del self.errors[MAX_REPORTED_ERRORS:]

    def result(self) -> ImportResult:
        self._trim()
        return ImportResult(
            rows=self.rows,
            new_cases=self.new_cases,
            recorded_on_existing=self.recorded_on_existing,
            already_present=self.already_present,
            possible_duplicates=self.possible_duplicates,
            rejected=self.rejected,
            errors_total=self.errors_total,
            errors=[ImportError_(line=line, field=name, reason=why) for line, name, why in self.errors],
            imported=[ImportedRow(line=line, client_id=client_id) for line, client_id in self.imported],
        )


async def spool(body: AsyncIterable[bytes]) -> IO[bytes]:
    """The body as a file, read as it arrives: in memory while small, then on disk. (A
    chunk's write is a copy into the page cache at worst: not worth a thread.)"""
    file: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115
    async for chunk in body:
        file.write(chunk)
    return file


async def import_info_list(
    svc: IntakeService,
    data: bytes | AsyncIterable[bytes],
    fmt: ListFormat,
    ctx: Context,
    *,
    line_offset: int = 0,
    max_rows: int = DEFAULT_MAX_IMPORT_ROWS,
) -> ImportResult:
    """Import the list, or refuse it whole: over ``max_rows`` rows (:class:`TooManyRows`)
    or unreadable as a file (:class:`InfoListError`), before anything is written."""
    file = io.BytesIO(data) if isinstance(data, bytes) else await spool(data)
    with file:

        def counted() -> int:
            file.seek(0)
            return count_rows(_pausing(file), fmt, up_to=max_rows)

        if await to_thread.run_sync(counted) > max_rows:
            raise TooManyRows(max_rows)
        file.seek(0)
        rows = _pausing(parse(file, fmt))
        tally = _Tally()
        more = True
        while more:
            batch, more = await to_thread.run_sync(_next_batch, rows, tally, line_offset)
            for line, command in batch:
                await _write(svc, line, command, ctx, tally)
    return await to_thread.run_sync(tally.result)


def _next_batch(
    rows: Iterator[ParsedRow], tally: _Tally, line_offset: int
) -> tuple[list[tuple[int, RegisterReferral]], bool]:
    """In a worker thread: up to BATCH_ROWS rows parsed, of which at most WRITES_PER_BATCH
    valid ones are returned, as commands with their lines; invalid ones are tallied here
    and dropped at once. (What the loop holds while it writes a batch outlives the
    collector's young generations; kept small, it seldom sets off a full collection,
    which stops every thread for 100 ms.) Also whether rows may remain."""
    valid: list[tuple[int, RegisterReferral]] = []
    for read, parsed in enumerate(rows, start=1):
        tally.rows += 1
        line = parsed.line + line_offset
        if parsed.row is None:
            tally.reject(line, *((e.field, e.reason) for e in parsed.errors))
        else:
            valid.append((line, parsed.row.command()))
        if read == BATCH_ROWS or len(valid) == WRITES_PER_BATCH:
            return valid, True
    return valid, False


def _pausing(items: Iterable[T]) -> Iterator[T]:
    """``items``, with a pause of GIL_PAUSE each GIL_HOLD seconds: for a worker thread,
    so that the event loop never waits long for the GIL."""
    held_since = time.perf_counter()
    for item in items:
        yield item
        if time.perf_counter() - held_since > GIL_HOLD:
            time.sleep(GIL_PAUSE)
            held_since = time.perf_counter()


async def _write(
    svc: IntakeService, line: int, command: RegisterReferral, ctx: Context, tally: _Tally
) -> None:
    for attempt in range(3):
        try:
            registered = await svc.register_referral(command, ctx, purpose=PURPOSE)
        except ConcurrencyConflict:
            if attempt == 2:
                tally.reject(line, ("-", "changed concurrently; retry"))
            continue
        except DomainError as exc:
            tally.reject(line, ("-", str(exc)))
        else:
            if registered.kind is ReferralKind.NEW_CASE:
                tally.new_cases += 1
            elif registered.kind is ReferralKind.RECORDED_ON_EXISTING_CASE:
                tally.recorded_on_existing += 1
            elif registered.kind is ReferralKind.POSSIBLE_DUPLICATE:
                tally.possible_duplicates += 1
            else:
                tally.already_present += 1
            if registered.kind in (ReferralKind.NEW_CASE, ReferralKind.RECORDED_ON_EXISTING_CASE):
                assert registered.client_id is not None
                tally.imported.append((line, registered.client_id))
        break
