"""Importing the TE-office info list: each valid row is one referral, in its own
transaction, so one bad or refused row never undoes the others."""

from __future__ import annotations

from pydantic import BaseModel, Field

from runtime.decision import Context
from runtime.eventstore import ConcurrencyConflict
from runtime.purposes import PurposeCode, ReadPurpose
from services.intake.application import IntakeService, ReferralKind
from services.intake.domain.errors import DomainError
from services.intake.info_list import ListFormat, parse

#: the purpose of an import's identity-code lookups
IMPORTING = ReadPurpose(PurposeCode.INTAKE, "importing the TE-office info list")


class ImportError_(BaseModel):
    line: int = Field(
        ge=1, description="The row's line in the whole file (a CSV header is line 1; see first_line)"
    )
    field: str = Field(description="The column that is wrong, or `-` for the row as a whole")
    reason: str = Field(description="Why the row was not imported")


class ImportResult(BaseModel):
    rows: int = Field(description="Data rows read")
    new_cases: int = Field(description="Rows that opened a new intake case")
    recorded_on_existing: int = Field(description="A different referral of a client already known")
    already_present: int = Field(description="The same referral imported before: nothing written")
    possible_duplicates: int = Field(
        default=0,
        description="Held for the intake advisor: they may be of a known client (GET /possible-duplicates)",
    )
    errors: list[ImportError_] = Field(description="Rows not imported, with their line numbers")


async def import_info_list(
    svc: IntakeService, data: bytes, fmt: ListFormat, ctx: Context, *, line_offset: int = 0
) -> ImportResult:
    result = ImportResult(rows=0, new_cases=0, recorded_on_existing=0, already_present=0, errors=[])
    for parsed in parse(data, fmt):
        result.rows += 1
        line = parsed.line + line_offset
        if parsed.row is None:
            result.errors.extend(
                ImportError_(line=line, field=e.field, reason=e.reason) for e in parsed.errors
            )
            continue
        for attempt in range(3):
            try:
                registered = await svc.register_referral(parsed.row.command(), ctx, purpose=IMPORTING)
            except ConcurrencyConflict:
                if attempt == 2:
                    result.errors.append(
                        ImportError_(line=line, field="-", reason="changed concurrently; retry")
                    )
                continue
            except DomainError as exc:
                result.errors.append(ImportError_(line=line, field="-", reason=str(exc)))
            else:
                if registered.kind is ReferralKind.NEW_CASE:
                    result.new_cases += 1
                elif registered.kind is ReferralKind.RECORDED_ON_EXISTING_CASE:
                    result.recorded_on_existing += 1
                elif registered.kind is ReferralKind.POSSIBLE_DUPLICATE:
                    result.possible_duplicates += 1
                else:
                    result.already_present += 1
            break
    return result
