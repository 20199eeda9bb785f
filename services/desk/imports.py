"""The info-list import of the desk (*infolistan tuonti*): a file the intake advisor
uploads is sent to intake's ``POST /referrals/import`` in parts of :data:`PART_ROWS`
rows, each part with its place in the whole file (``first_line``), so that the page can
show how far the import is and, at the end, each row's result by its line.

The desk keeps no client data of its own beyond a session (docs/adr/0045, 0049): the
file is held in memory only while its parts are sent, and the job then keeps only what
intake answered (counts, line numbers, client ids and the reasons of rejected rows), for
:data:`KEEP_FOR`, visible only to the person who started it. Importing the same list
again is safe: intake's import is idempotent, so a job that stopped part-way says where,
and the whole file can simply be sent again."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from services.desk.apis import Answer, Problem

log = logging.getLogger("reitti.desk")

#: rows of one part sent to intake: enough that a part is quick, few enough that the
#: progress moves often on a list of thousands
PART_ROWS = 500
#: the largest file the desk takes (100,000 rows of the info list are about 7 MB)
MAX_FILE_BYTES = 16 * 1024 * 1024
#: how long a finished job's result is kept for its page, in seconds
KEEP_FOR = 3600
#: the most jobs kept at once (the oldest finished go first)
MAX_JOBS = 100
#: rejected rows shown at most on the result page (the counts say them all)
MAX_SHOWN_ERRORS = 1000


class ListKind(StrEnum):
    """The file's format, as intake takes it (its Content-Type)."""

    CSV = "text/csv"
    JSON_LINES = "application/x-ndjson"


def kind_of(filename: str, content_type: str | None) -> ListKind | None:
    """The list's format by the file's name, else its declared type; None if neither."""
    name = filename.lower()
    if name.endswith((".jsonl", ".ndjson")):
        return ListKind.JSON_LINES
    if name.endswith((".csv", ".txt")):
        return ListKind.CSV
    declared = (content_type or "").split(";")[0].strip().lower()
    if declared in ("application/x-ndjson", "application/jsonl", "application/json-lines"):
        return ListKind.JSON_LINES
    if declared in ("text/csv", "text/plain", "application/vnd.ms-excel"):
        return ListKind.CSV
    return None


@dataclass(frozen=True)
class Part:
    """One part of the file: its bytes (a CSV part with the header first) and the line
    number in the whole file that intake counts the part's lines from."""

    body: bytes
    first_line: int
    rows: int
    #: the whole file's lines this part carries (for "lines X-Y were not imported")
    lines: tuple[int, int]


def parts_of(data: bytes, kind: ListKind, rows_per_part: int = PART_ROWS) -> Iterator[Part]:
    """The file in parts of ``rows_per_part`` lines. A CSV part repeats the header and
    starts one line earlier (``first_line`` is the header's line, and intake numbers
    the rows after it); a JSON Lines part starts at its first line."""
    lines = data.split(b"\n")
    if lines and lines[-1] in (b"", b"\r"):
        lines.pop()
    header: bytes | None = None
    start = 0
    if kind is ListKind.CSV and lines:
        header, start = lines[0], 1
    for index in range(start, len(lines), rows_per_part):
        chunk = lines[index : index + rows_per_part]
        body = b"\n".join(([header] if header is not None else []) + chunk) + b"\n"
        line = index + 1  # 1-based line of the chunk's first row in the whole file
        yield Part(
            body=body,
            first_line=line - 1 if header is not None else line,
            rows=len(chunk),
            lines=(line, line + len(chunk) - 1),
        )
    if header is not None and len(lines) == 1:  # a header and no rows: intake says so
        yield Part(body=header + b"\n", first_line=1, rows=0, lines=(1, 1))
    if not lines:  # an empty file: intake says it cannot be read
        yield Part(body=b"", first_line=1, rows=0, lines=(1, 1))


def count_lines(data: bytes, kind: ListKind) -> int:
    """The rows the file has, as :func:`parts_of` sends them."""
    return sum(part.rows for part in parts_of(data, kind))


#: the counts of intake's answer that a job sums
COUNTS = ("new_cases", "recorded_on_existing", "already_present", "possible_duplicates", "rejected")


class JobState(StrEnum):
    RUNNING = "running"
    DONE = "done"
    STOPPED = "stopped"


@dataclass(frozen=True)
class RowError:
    line: int
    field: str
    reason: str


@dataclass
class ImportJob:
    """One upload, as it goes: counts summed over the parts intake has answered."""

    job_id: str
    owner: str
    filename: str
    rows_total: int
    started: float = field(default_factory=time.monotonic)
    state: JobState = JobState.RUNNING
    rows_done: int = 0
    new_cases: int = 0
    recorded_on_existing: int = 0
    already_present: int = 0
    possible_duplicates: int = 0
    rejected: int = 0
    errors_total: int = 0
    errors: list[RowError] = field(default_factory=list)
    #: (line, client id) of each row written
    imported: list[tuple[int, str]] = field(default_factory=list)
    #: why the job stopped, and from which line nothing was imported
    problem: Problem | None = None
    not_sent_from: int | None = None
    finished: float | None = None

    @property
    def percent(self) -> int:
        return 100 if not self.rows_total else min(100, round(100 * self.rows_done / self.rows_total))

    def add(self, part: Part, result: dict[str, Any]) -> None:
        """Count intake's answer to one part."""
        self.rows_done += part.rows
        for name in (
            "new_cases",
            "recorded_on_existing",
            "already_present",
            "possible_duplicates",
            "rejected",
        ):
            setattr(self, name, getattr(self, name) + int(result.get(name, 0)))
        self.errors_total += int(result.get("errors_total", 0))
        for error in result.get("errors", []):
            if len(self.errors) < MAX_SHOWN_ERRORS:
                self.errors.append(RowError(int(error["line"]), str(error["field"]), str(error["reason"])))
        self.imported.extend((int(row["line"]), str(row["client_id"])) for row in result.get("imported", []))

    def stop(self, part: Part, problem: Problem) -> None:
        self.state, self.problem, self.not_sent_from = JobState.STOPPED, problem, part.lines[0]
        self.finished = time.monotonic()

    def finish(self) -> None:
        self.state, self.finished = JobState.DONE, time.monotonic()
        self.imported.sort()
        self.errors.sort(key=lambda e: e.line)


#: sends one part to intake as the user: (body, content type, first line) -> answer
Send = Callable[[bytes, str, int], Awaitable[Answer]]


async def run(job: ImportJob, data: bytes, kind: ListKind, send: Send) -> None:
    """Send the file's parts in order, counting each answer; stop at the first part
    intake does not take, saying from which line nothing was imported."""
    part: Part | None = None
    try:
        for part in parts_of(data, kind):
            answer = await send(part.body, kind.value, part.first_line)
            if answer.problem is not None:
                job.stop(part, answer.problem)
                return
            job.add(part, answer.body or {})
        job.finish()
    except Exception:
        # never a job that says "running" for ever: it stops, saying from which line
        log.exception("the desk's import %s failed", job.job_id)
        failed = Problem(500, "urn:reitti:problem:internal", "the desk failed while sending the list")
        job.stop(part or Part(b"", 1, 0, (1, 1)), failed)


@dataclass
class ImportJobs:
    """The jobs under way and their results, kept in the desk's memory only."""

    jobs: dict[str, ImportJob] = field(default_factory=dict)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def start(self, owner: str, filename: str, data: bytes, kind: ListKind, send: Send) -> ImportJob:
        self._forget_old()
        job = ImportJob(secrets.token_urlsafe(16), owner, filename, count_lines(data, kind))
        self.jobs[job.job_id] = job
        task = asyncio.create_task(run(job, data, kind, send), name=f"desk import {job.job_id}")
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return job

    def of(self, job_id: str, owner: str) -> ImportJob | None:
        """The job, only for the person who started it."""
        job = self.jobs.get(job_id)
        return job if job is not None and job.owner == owner else None

    def _forget_old(self) -> None:
        now = time.monotonic()
        for job_id, job in list(self.jobs.items()):
            if job.finished is not None and now - job.finished > KEEP_FOR:
                del self.jobs[job_id]
        finished = sorted((j for j in self.jobs.values() if j.finished is not None), key=lambda j: j.started)
        while len(self.jobs) >= MAX_JOBS and finished:
            del self.jobs[finished.pop(0).job_id]

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
