"""The answer of an info-list import is bounded: counts, the first errors by line with
the total, and the client ids of the rows written; a list over the row bound is refused
whole before any row is written (docs/adr/0026)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from runtime import clock
from services.intake.app import create_app as intake_app
from services.intake.imports import MAX_REPORTED_ERRORS
from tests.support.apps import running
from tests.support.factories import HEADERS, identity_code

pytestmark = pytest.mark.integration

CSV = {**HEADERS, "content-type": "text/csv"}
JSON_LINES = {**HEADERS, "content-type": "application/x-ndjson"}
REFERRED = clock.today() - timedelta(days=10)


def row(n: int, *, code: str | None = None, municipality: str = "Mikkeli", when: object = REFERRED) -> str:
    return f"{code or identity_code()};Etunimi{n};Sukunimi;{municipality};{when};300"


async def events_written(pool) -> int:
    async with pool.acquire() as conn:
        return int(await conn.fetchval("SELECT count(*) FROM intake.events"))


async def test_the_answer_lists_the_first_errors_by_line_their_total_and_the_imported_client_ids(
    settings,
) -> None:
    codes = [identity_code() for _ in range(3)]
    lines = ["personal_identity_code;first_name;last_name;municipality;referral_date;subsidy_days"]
    lines += [row(0, code=codes[0]), row(1, code=codes[1])]  # lines 2 and 3
    lines.append(row(2, municipality="Atlantis"))  # line 4: refused by a rule, when written
    lines += [row(n, when="2026-02-30") for n in range(3, 153)]  # lines 5-154: invalid dates
    lines.append(row(153, code=codes[2]))  # line 155
    listed = ("\n".join(lines) + "\n").encode()
    async with running(intake_app(settings)) as intake:
        answer = await intake.post("/referrals/import", content=listed, headers=CSV)
        assert answer.status_code == 200, answer.text
        result = answer.json()
        assert (result["rows"], result["new_cases"], result["rejected"], result["errors_total"]) == (
            154,
            3,
            151,
            151,
        )
        errors = result["errors"]
        assert len(errors) == MAX_REPORTED_ERRORS
        assert [e["line"] for e in errors] == list(range(4, 4 + MAX_REPORTED_ERRORS)), "the first, by line"
        assert "Atlantis" in errors[0]["reason"] and errors[1]["field"] == "referral_date"
        imported = result["imported"]
        assert [r["line"] for r in imported] == [2, 3, 155]
        for r in imported:
            case = await intake.get(f"/clients/{r['client_id']}", headers=HEADERS)
            assert case.status_code == 200, case.text

        again = (await intake.post("/referrals/import", content=listed, headers=CSV)).json()
        assert (again["new_cases"], again["already_present"], again["rejected"]) == (0, 3, 151)
        assert again["imported"] == [], "nothing written the second time"


async def test_a_list_over_the_row_bound_is_refused_whole_and_one_at_it_is_imported(settings, pool) -> None:
    def listed(rows: int) -> bytes:
        values = [
            {
                "personal_identity_code": identity_code(),
                "first_name": f"Etunimi{n}",
                "last_name": "Sukunimi",
                "municipality": "Mikkeli",
                "referral_date": str(REFERRED),
            }
            for n in range(rows)
        ]
        return "\n\n".join(json.dumps(v) for v in values).encode()  # blank lines are no rows

    async with running(intake_app(settings.with_(max_import_rows=5))) as intake:
        over = await intake.post("/referrals/import", content=listed(6), headers=JSON_LINES)
        assert over.status_code == 413, over.text
        assert "REITTI_MAX_IMPORT_ROWS" in over.text and "5 rows" in over.text
        assert await events_written(pool) == 0, "nothing of a list over the bound is written"

        at = await intake.post("/referrals/import", content=listed(5), headers=JSON_LINES)
        assert at.status_code == 200, at.text
        assert (at.json()["rows"], at.json()["new_cases"]) == (5, 5)


async def test_a_list_sent_in_chunks_without_a_length_keeps_its_lines_and_the_first_line_offset(
    settings,
) -> None:
    header = "personal_identity_code;first_name;last_name;municipality;referral_date;subsidy_days\n"
    body = (header + "\n".join([row(0), row(1, when="2026-02-30"), row(2)]) + "\n").encode()

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 7):  # chunk edges fall inside lines
            yield body[start : start + 7]

    async with running(intake_app(settings)) as intake:
        answer = await intake.post("/referrals/import?first_line=100", content=chunks(), headers=CSV)
        assert answer.status_code == 200, answer.text
        result = answer.json()
        # first_line is the header's line in the whole file: the rows follow it
        assert [r["line"] for r in result["imported"]] == [101, 103]
        assert [(e["line"], e["field"]) for e in result["errors"]] == [(102, "referral_date")]
