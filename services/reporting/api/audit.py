"""The audit log (tarkastusloki): a client's timeline, who has seen the client's data, and
the export of a range as CloudEvents envelopes with the chain attributes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import StreamingResponse

from runtime.http import Purpose
from runtime.strict_types import IsoInstant
from services.disclosure.policy import Kind
from services.reporting.access_report import AccessEntry
from services.reporting.api.common import Auditor, ClientId, invalid, may_read
from services.reporting.audit import AuditEntry, export_lines
from services.reporting.bootstrap import Parts

JSON_LINES = "application/x-ndjson"

routes = APIRouter()


@routes.get(
    "/audit/clients/{client_id}/timeline",
    tags=["audit"],
    summary="Every event of a client stream: type, time, actor, correlation and causation, chain hashes",
)
async def timeline(actor: Auditor, why: Purpose, parts: Parts, client_id: ClientId) -> list[AuditEntry]:
    may_read(actor, Kind.AUDIT, client_id)
    projection = parts.projection
    async with parts.pool.acquire() as conn:
        entries = await projection.audit.timeline(conn, client_id)
    if not entries:
        raise HTTPException(404, "no events for this stream")
    await parts.access_log.record(actor, [client_id], what="audit timeline", purpose=why)
    return entries


@routes.get(
    "/audit/clients/{client_id}/access-report",
    tags=["audit"],
    summary="Who has seen or received the client's data: every read and disclosure (default: two years)",
)
async def access_report(
    actor: Auditor,
    why: Purpose,
    parts: Parts,
    client_id: ClientId,
    since: Annotated[
        IsoInstant | None, Query(description="From when, an ISO timestamp (default: two years ago)")
    ] = None,
) -> list[AccessEntry]:
    if since is not None and since.tzinfo is None:
        raise invalid("since", "give a time zone (for example Z)")
    may_read(actor, Kind.AUDIT, client_id)
    start = since or datetime.now(UTC) - timedelta(days=2 * 365 + 1)
    projection = parts.projection
    async with parts.pool.acquire() as conn:
        entries = await projection.access.report(conn, client_id, start)
    await parts.access_log.record(actor, [client_id], what="access report", purpose=why)
    return entries


@routes.get(
    "/audit/export",
    tags=["audit"],
    summary="Export a range as JSON Lines of CloudEvents envelopes with the audit chain attributes",
    response_class=StreamingResponse,
    responses={200: {"content": {JSON_LINES: {}}}},
)
async def export(
    actor: Auditor,
    why: Purpose,
    parts: Parts,
    from_seq: Annotated[int | None, Query(ge=1, description="First stream sequence")] = None,
    to_seq: Annotated[int | None, Query(ge=1, description="Last stream sequence")] = None,
    since: Annotated[
        IsoInstant | None, Query(description="Events that occurred at or after (ISO timestamp)")
    ] = None,
    until: Annotated[
        IsoInstant | None, Query(description="Events that occurred before (ISO timestamp)")
    ] = None,
) -> StreamingResponse:
    if from_seq is not None and to_seq is not None and to_seq < from_seq:
        raise invalid("to_seq", "must not be before from_seq")
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise invalid(name, "give a time zone (for example Z)")
    if since is not None and until is not None and until <= since:
        raise invalid("until", "must be after since")
    may_read(actor, Kind.AUDIT)
    projection = parts.projection
    js = parts.require_broker()  # the export reads the log: a 503 now, not a broken stream later
    async with parts.pool.acquire() as conn:
        entries = await projection.audit.entries(
            conn, from_seq=from_seq, to_seq=to_seq, since=since, until=until
        )

    streams = sorted({e.stream_id for e in entries if e.stream_id.startswith("client-")})
    await parts.access_log.record(actor, streams, what="audit export", purpose=why)

    async def lines() -> AsyncIterator[bytes]:
        async for line in export_lines(js, parts.settings, entries):
            yield line

    return StreamingResponse(lines(), media_type=JSON_LINES)
