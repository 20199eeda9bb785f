"""The intake advisor's import of the TE-office's info list (*infolista*) and the
possible duplicates to resolve (docs/adr/0049).

The upload is a multipart form with the session's anti-forgery value, read in memory
only (never spooled to disk: personal data at rest must be erasable, and a temporary
file is not) and bounded. The list then goes to intake in parts (services/desk/imports.py)
while the progress page shows how far it is; it works without script (a button loads
the page again) and, with the package's small script, updates itself and says so to a
screen reader. At the end, each row's result is listed by its line.

The possible duplicates are intake's ``GET /possible-duplicates``; each is resolved
with ``POST /possible-duplicates/{referral_id}/resolution``: the same person as one of
the candidates, or different people."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from runtime.access import Permission
from services.desk.apis import Answer, Problem
from services.desk.bootstrap import parts_of
from services.desk.i18n import N_
from services.desk.imports import MAX_FILE_BYTES, JobState, kind_of
from services.desk.pages import refused
from services.desk.session import CSRF_FIELD
from services.desk.web import (
    FormRejected,
    form_context,
    form_of,
    page,
    redirect,
    session_of,
    signed_in,
    token_of,
)

#: a form's fields around the file (the anti-forgery value), in bytes
FORM_OVERHEAD = 64 * 1024


class InMemoryParser(MultiPartParser):
    """Starlette's parser, with the file kept in memory up to the desk's bound."""

    spool_max_size = MAX_FILE_BYTES + FORM_OVERHEAD


async def bounded(request: Request) -> AsyncGenerator[bytes, None]:
    """The request's body, refused (413) past the desk's bound for an upload."""
    seen = 0
    async for chunk in request.stream():
        seen += len(chunk)
        if seen > MAX_FILE_BYTES + FORM_OVERHEAD:
            raise FormRejected(413, "too-large")
        yield chunk


async def upload_of(request: Request) -> tuple[str, str | None, bytes]:
    """The uploaded list (its name, declared type, bytes), if the form is one of this
    session's; else :class:`FormRejected`."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "multipart/form-data":
        raise FormRejected(415, "not-a-form")
    try:
        form = await InMemoryParser(
            request.headers, bounded(request), max_files=1, max_fields=5, max_part_size=FORM_OVERHEAD
        ).parse()
    except MultiPartException:
        raise FormRejected(400, "unreadable") from None
    try:
        token = form.get(CSRF_FIELD)
        parts = parts_of(request.app)
        if not isinstance(token, str) or not parts.sessions.csrf_matches(session_of(request), token):
            raise FormRejected(403, "forged")
        upload = form.get("info_list")
        if not isinstance(upload, UploadFile):
            return "", None, b""
        data = await upload.read()
        return upload.filename or "", upload.content_type, data
    finally:
        await form.close()


def router() -> APIRouter:
    api = APIRouter()

    def owner_of(request: Request) -> str:
        actor = signed_in(request).actor
        assert actor is not None  # signed_in says so
        return f"{actor.role}:{actor.person_id}"

    def form_page(request: Request, problem: str | None = None, status: int = 200) -> Response:
        return page(
            request,
            "import.html",
            {"problem": problem, "max_megabytes": MAX_FILE_BYTES // (1024 * 1024)},
            title=N_("Import the info list"),
            status=status,
        )

    @api.get("/intake/import", include_in_schema=False)
    async def import_form(request: Request) -> Response:
        signed_in(request)
        return form_page(request)

    @api.post("/intake/import", include_in_schema=False)
    async def start_import(request: Request) -> Response:
        token = token_of(request)
        filename, declared, data = await upload_of(request)
        if not filename and not data:
            return form_page(request, "no-file", 422)
        kind = kind_of(filename, declared)
        if kind is None:
            return form_page(request, "not-a-list", 415)
        apis = parts_of(request.app).apis

        async def send(body: bytes, content_type: str, first_line: int) -> Answer:
            return await apis.call(
                "intake",
                "POST",
                "/referrals/import",
                token=token,
                content=body,
                content_type=content_type,
                params={"first_line": str(first_line)},
            )

        job = parts_of(request.app).imports.start(owner_of(request), filename, data, kind, send)
        return redirect(request, f"/intake/import/{job.job_id}")

    @api.get("/intake/import/{job_id}", include_in_schema=False)
    async def progress(request: Request, job_id: str) -> Response:
        job = parts_of(request.app).imports.of(job_id, owner_of(request))
        if job is None:
            return page(request, "not_found.html", {}, title=N_("No such page"), status=404)
        if job.problem is not None and job.problem.status in (401, 403) and not job.rows_done:
            return refused(
                request, Answer(job.problem.status, problem=job.problem), Permission.REFERRAL_IMPORT
            )
        return page(
            request,
            "import_job.html",
            {"job": job, "running": job.state is JobState.RUNNING},
            title=N_("Import of the info list"),
        )

    async def duplicates_page(
        request: Request,
        *,
        problem: Problem | None = None,
        problem_form: str | None = None,
        status: int = 200,
    ) -> Response:
        answer = await parts_of(request.app).apis.call(
            "intake", "GET", "/possible-duplicates", token=token_of(request), purpose="intake"
        )
        if not answer.ok:
            return refused(request, answer, Permission.QUEUE_PICK)
        return page(
            request,
            "duplicates.html",
            {
                "held": answer.body,
                **form_context(problem, None, problem_form),
                "done": request.query_params.get("done"),
            },
            title=N_("Possible duplicates"),
            status=status,
        )

    @api.get("/intake/possible-duplicates", include_in_schema=False)
    async def possible_duplicates(request: Request) -> Response:
        return await duplicates_page(request)

    @api.post("/intake/possible-duplicates/{referral_id}/resolution", include_in_schema=False)
    async def resolve(request: Request, referral_id: str) -> Response:
        token = token_of(request)
        form = await form_of(request)
        chosen = form.get("resolution", "")
        body: dict[str, Any] = {"resolution": chosen}
        if chosen.startswith("same_person:"):
            body = {"resolution": "same_person", "client_id": chosen.removeprefix("same_person:")}
        answer = await parts_of(request.app).apis.call(
            "intake",
            "POST",
            f"/possible-duplicates/{quote(referral_id, safe='')}/resolution",
            token=token,
            json=body,
        )
        if answer.ok:
            return redirect(request, "/intake/possible-duplicates?done=resolved")
        problem = answer.problem
        assert problem is not None
        if problem.status in (400, 404, 409, 422):
            return await duplicates_page(
                request, problem=problem, problem_form=referral_id, status=problem.status
            )
        return refused(request, answer, Permission.QUEUE_PICK)

    return api
