"""The desk's info-list import over real HTTP against intake on the test's database
(services/desk/import_pages.py, docs/adr/0049): a list of more rows than one part, each
row's result by its line in the whole file (a part's edge loses and doubles nothing),
the job visible only to the person who started it, and a forged or oversized upload
refused with nothing imported."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from services.desk.imports import MAX_FILE_BYTES, PART_ROWS
from tests.e2e.test_desk import BROWSER, csrf, sign_in
from tests.e2e.test_import_summary import row
from tests.support.apps import eventually
from tests.support.desk import desk_over_intake

pytestmark = pytest.mark.integration

HEADER = "personal_identity_code;first_name;last_name;municipality;referral_date;subsidy_days"
#: more rows than two parts: the third part's edge falls inside the list
ROWS = 2 * PART_ROWS + 234
#: lines in error: the first row, and one just past the first part's edge
BAD_LINES = (2, PART_ROWS + 3)


def info_list() -> bytes:
    lines = [HEADER]
    for line in range(2, ROWS + 2):
        lines.append(row(line, when="2026-02-30") if line in BAD_LINES else row(line))
    return ("\n".join(lines) + "\n").encode()


async def upload(desk: httpx.AsyncClient, data: bytes, token: str | None = None) -> httpx.Response:
    token = token if token is not None else csrf((await desk.get("/intake/import")).text)
    return await desk.post(
        "/intake/import", data={"csrf": token}, files={"info_list": ("infolista.csv", data, "text/csv")}
    )


async def queued(pool) -> int:
    """Clients referred: one event per row written."""
    query = "SELECT count(*) FROM intake.events WHERE event_type = 'ClientReferred'"
    async with pool.acquire() as conn:
        return int(await conn.fetchval(query))


def lines_of(html: str, testid: str) -> list[int]:
    """The line numbers of a results table's rows (shown in the page's locale)."""
    return [int(re.sub(r"\D", "", n)) for n in re.findall(testid + r'"><td>([^<]+)<', html)]


async def test_a_list_of_several_parts_is_imported_row_by_row_with_each_result_by_its_line(
    settings, pool, tmp_path: Path
) -> None:
    async with (
        desk_over_intake(settings, tmp_path) as (desk_url, _),
        httpx.AsyncClient(base_url=desk_url, headers=BROWSER, timeout=60) as desk,
    ):
        await sign_in(desk, "employment_advisor", "advisor-import")
        started = await upload(desk, info_list())
        assert started.status_code == 303, started.text
        job = started.headers["location"]

        done = await eventually(
            lambda: desk.get(job), lambda r: 'data-state="running"' not in r.text, within=120
        )
        assert 'data-testid="import-done"' in done.text, done.text[:2000]

        def count(name: str) -> int:
            found = re.search(rf'data-testid="count-{name}">([\d\s\xa0]+)<', done.text)
            assert found is not None, name
            return int(re.sub(r"\D", "", found.group(1)))

        assert count("new_cases") == ROWS - len(BAD_LINES)
        assert count("rejected") == len(BAD_LINES)
        errors = set(lines_of(done.text, "import-error-row"))
        assert errors == set(BAD_LINES), "each rejected row by its line in the whole file"
        imported = lines_of(done.text, "import-row")
        assert sorted(imported) == [n for n in range(2, ROWS + 2) if n not in BAD_LINES]
        assert await queued(pool) == ROWS - len(BAD_LINES), "every valid row once, none twice"

        # the job and its client ids are only for the person who started it
        await sign_in(desk, "employment_advisor", "advisor-other")
        other = await desk.get(job)
        assert other.status_code == 404 and "client-" not in other.text


async def test_a_forged_or_oversized_upload_is_refused_and_nothing_is_imported(
    settings, pool, tmp_path: Path
) -> None:
    async with (
        desk_over_intake(settings, tmp_path) as (desk_url, _),
        httpx.AsyncClient(base_url=desk_url, headers=BROWSER, timeout=60) as desk,
    ):
        await sign_in(desk, "employment_advisor", "advisor-import")
        forged = await upload(desk, info_list(), token="not-this-session-s")
        assert forged.status_code == 403
        oversized = await upload(desk, b"x" * (MAX_FILE_BYTES + 128 * 1024))
        assert oversized.status_code == 413
        not_a_list = await desk.post(
            "/intake/import",
            data={"csrf": csrf((await desk.get("/intake/import")).text)},
            files={"info_list": ("kuva.png", b"\x89PNG", "image/png")},
        )
        assert not_a_list.status_code == 415 and 'data-testid="error-info_list"' in not_a_list.text
        assert await queued(pool) == 0
