"""The desk's info-list import without servers (services/desk/imports.py): the file in
parts, each with its place in the whole file; the counts summed; a part intake refuses
stops the job, saying from which line nothing was imported; and a refusal's missing
consents said with the organisation's name (services/desk/labels.py)."""

from __future__ import annotations

import pytest

from services.desk.apis import Answer, Problem
from services.desk.imports import ImportJob, JobState, ListKind, kind_of, parts_of, run
from services.desk.labels import consent_needs

HEADER = b"personal_identity_code;first_name;last_name;municipality;referral_date"


def csv(rows: int) -> bytes:
    return HEADER + b"\n" + b"".join(b"row%d\n" % n for n in range(rows))


def test_a_csv_list_goes_in_parts_each_with_the_header_and_its_first_line() -> None:
    parts = list(parts_of(csv(1201), ListKind.CSV, rows_per_part=500))
    assert [p.rows for p in parts] == [500, 500, 201]
    assert all(p.body.startswith(HEADER + b"\n") for p in parts)
    # first_line is the header's line: intake numbers the part's rows from the next one
    assert [p.first_line for p in parts] == [1, 501, 1001]
    assert [p.lines for p in parts] == [(2, 501), (502, 1001), (1002, 1202)]
    assert parts[1].body.split(b"\n")[1] == b"row500"  # line 502 of the file
    assert sum(p.body.count(b"\n") - 1 for p in parts) == 1201, "every row, once"


def test_a_json_lines_list_has_no_header_and_starts_at_its_first_line() -> None:
    data = b"".join(b'{"n": %d}\n' % n for n in range(7))
    parts = list(parts_of(data, ListKind.JSON_LINES, rows_per_part=3))
    assert [(p.first_line, p.rows) for p in parts] == [(1, 3), (4, 3), (7, 1)]
    assert b"".join(p.body for p in parts) == data


@pytest.mark.parametrize(
    ("name", "declared", "kind"),
    [
        ("infolista.csv", None, ListKind.CSV),
        ("lista.JSONL", "application/octet-stream", ListKind.JSON_LINES),
        ("lista", "text/csv", ListKind.CSV),
        ("kuva.png", "image/png", None),
    ],
)
def test_the_format_is_the_file_s_name_else_its_type(name: str, declared: str | None, kind: object) -> None:
    assert kind_of(name, declared) is kind


async def test_the_counts_are_summed_and_a_refused_part_stops_the_job_at_its_first_line() -> None:
    sent: list[int] = []

    async def send(body: bytes, content_type: str, first_line: int) -> Answer:
        sent.append(first_line)
        if first_line == 1001:
            return Answer(503, problem=Problem(503, "urn:reitti:problem:unavailable", "down"))
        line = first_line + 1
        return Answer(
            200,
            {
                "new_cases": 499,
                "rejected": 1,
                "errors_total": 1,
                "errors": [{"line": line, "field": "referral_date", "reason": "not a date"}],
                "imported": [{"line": line + 1, "client_id": f"client-{line}"}],
            },
        )

    job = ImportJob("job", "advisor", "lista.csv", rows_total=1201)
    await run(job, csv(1201), ListKind.CSV, send)
    assert sent == [1, 501, 1001]
    assert job.state is JobState.STOPPED and job.not_sent_from == 1002
    assert (job.new_cases, job.rejected, job.rows_done) == (998, 2, 1000)
    assert [e.line for e in job.errors] == [2, 502]
    assert job.imported == [(3, "client-2"), (503, "client-502")]


async def test_a_job_whose_sending_fails_unexpectedly_stops_and_never_stays_running() -> None:
    async def send(body: bytes, content_type: str, first_line: int) -> Answer:
        raise RuntimeError("a bug")

    job = ImportJob("job", "advisor", "lista.csv", rows_total=3)
    await run(job, csv(3), ListKind.CSV, send)
    assert job.state is JobState.STOPPED and job.problem is not None and job.problem.status == 500


def test_a_missing_consent_is_said_with_its_scope_and_the_organisation_s_name() -> None:
    needs = ("move_to_centre", "disclosure_to_organisations:social_services:mantyharju")
    said = consent_needs(needs, ("Mikkeli", "Mäntyharju"))
    assert said[0] == ("moving to the joint service centre", None, {})
    assert said[1] == (
        "disclosure to the organisations named",
        "social services of %(municipality)s",
        {"municipality": "Mäntyharju"},
    )
