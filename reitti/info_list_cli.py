"""``reitti import-info-list``: send the TE-office info list to intake's API in chunks,
with a progress bar, so a large file shows progress and errors keep their file line
numbers."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

TOTALS = (
    "rows",
    "new_cases",
    "recorded_on_existing",
    "already_present",
    "possible_duplicates",
    "rejected",
    "errors_total",
)


def chunks(path: Path, size: int) -> Iterator[tuple[bytes, int, int]]:
    """(body, first_line, rows): CSV chunks repeat the header line; ``first_line`` is the
    file line number of the body's first line, as the API's ``first_line`` expects.
    (A CSV field with a line break inside quotes is not supported by chunking.)"""
    lines = path.read_bytes().splitlines(keepends=True)
    if not lines:
        return
    if path.suffix.lower() == ".csv":
        header, rows, offset = lines[0], lines[1:], 2
        for start in range(0, len(rows), size):
            part = rows[start : start + size]
            yield header + b"".join(part), start + offset - 1, len(part)
    else:
        for start in range(0, len(lines), size):
            part = lines[start : start + size]
            yield b"".join(part), start + 1, len(part)


def content_type(path: Path) -> str:
    return "text/csv" if path.suffix.lower() == ".csv" else "application/x-ndjson"


def post_chunk(url: str, body: bytes, first_line: int, ctype: str, headers: dict[str, str]) -> dict[str, Any]:
    request = urllib.request.Request(
        f"{url.rstrip('/')}/referrals/import?first_line={first_line}", data=body, method="POST"
    )
    request.add_header("content-type", ctype)
    for key, value in headers.items():
        request.add_header(key, value)
    try:
        with urllib.request.urlopen(request, timeout=300) as response:
            result: dict[str, Any] = json.loads(response.read())
            return result
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")
        raise SystemExit(f"reitti import-info-list: intake answered {exc.code}: {detail}") from None
    except urllib.error.URLError as exc:
        raise SystemExit(f"reitti import-info-list: cannot reach intake at {url}: {exc.reason}") from None


def import_file(path: Path, *, url: str, headers: dict[str, str], chunk_size: int = 200) -> dict[str, Any]:
    if not path.is_file():
        raise SystemExit(f"reitti import-info-list: no such file: {path}")
    if path.suffix.lower() not in {".csv", ".jsonl", ".ndjson"}:
        raise SystemExit("reitti import-info-list: the file must be .csv, .jsonl or .ndjson")
    total_rows = sum(rows for _, _, rows in chunks(path, chunk_size))
    summary: dict[str, Any] = {key: 0 for key in TOTALS} | {"errors": []}
    with Progress(
        TextColumn(f"importing {path.name}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()
    ) as bar:
        task = bar.add_task("import", total=total_rows)
        for body, first_line, rows in chunks(path, chunk_size):
            result = post_chunk(url, body, first_line, content_type(path), headers)
            for key in TOTALS:
                summary[key] += result.get(key, 0)
            summary["errors"].extend(result["errors"])  # each chunk's first 100
            bar.advance(task, rows)
    return summary
