"""HTTP pieces every service API shares: the caller's purpose, the access log, a
command's context, and the error answers."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Annotated, Any
from uuid import uuid4

import asyncpg
import nats.errors
from fastapi import Depends, FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from contracts.base import Actor
from runtime import clock, purposes
from runtime.access import Forbidden
from runtime.access_log import AccessLog
from runtime.auth import Unauthenticated
from runtime.decision import Context
from runtime.eventstore import ConcurrencyConflict
from runtime.outages import broker_outage, is_outage
from runtime.problems import ProblemType, problem
from runtime.purposes import PurposeCode, ReadPurpose
from runtime.routes import api_routes

log = logging.getLogger(__name__)

Responses = dict[int | str, dict[str, Any]]


def access_log(request: Request) -> AccessLog:
    """The service's access log (every read of client data is recorded through it)."""
    log: AccessLog = request.app.state.access_log
    return log


def context(actor: Actor) -> Context:
    """A command's context; ``now`` is in the centre's zone, so ``ctx.now.date()`` is the
    Finnish business date."""
    return Context(actor=actor, now=clock.now(), correlation_id=uuid4())


async def purpose(
    x_reitti_purpose: Annotated[PurposeCode, Header(description=purposes.PURPOSE_DESCRIPTION)],
    x_reitti_purpose_detail: Annotated[
        str | None,
        Header(
            description=purposes.DETAIL_DESCRIPTION,
            max_length=purposes.DETAIL_MAX_LENGTH,
            pattern=purposes.DETAIL_PATTERN,
        ),
    ] = None,
) -> ReadPurpose:
    """The purpose of reading client data: a code of the vocabulary (required) and a
    free-text detail (optional), both recorded in the access log (runtime/purposes.py)."""
    return purposes.parse(x_reitti_purpose, x_reitti_purpose_detail)


def _field_errors(exc: RequestValidationError) -> list[dict[str, object]]:
    """Each invalid field: where, its name and JSON Pointer, and the reason. The rejected
    input is not echoed: it may be personal data."""
    out: list[dict[str, object]] = []
    for error in exc.errors():
        loc = [str(part) for part in error.get("loc", ())]
        where = loc[0] if loc and loc[0] in _LOCATIONS else "body"
        path = loc[1:] if loc and loc[0] in _LOCATIONS else loc
        entry: dict[str, object] = {
            "in": where,
            "field": ".".join(path),
            "reason": str(error.get("msg", "invalid")),
            "code": str(error.get("type", "invalid")),
        }
        if where == "body":
            entry["pointer"] = "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in path)
        out.append(entry)
    return out


_LOCATIONS = frozenset({"body", "query", "path", "header", "cookie"})


def _summary(errors: list[dict[str, object]]) -> str:
    names = sorted({str(e["field"]) or str(e["in"]) for e in errors})
    shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
    return f"{len(errors)} {'field is' if len(errors) == 1 else 'fields are'} invalid: {shown}"


def install_error_handlers(
    app: FastAPI,
    *,
    refusals: tuple[type[Exception], ...],
    not_found: tuple[type[Exception], ...] = (),
    invalid: tuple[type[Exception], ...] = (),
) -> None:
    """Every error as one problem document (runtime/problems.py). Invalid input answers
    422 with each field and reason; a body that is not JSON 400; a business-rule refusal
    409 with the rule's message; a concurrent change to the same client 409 that says to
    retry. Nothing was written in any of these cases."""

    async def refused(_: Request, exc: Exception) -> JSONResponse:
        return problem(ProblemType.REFUSED, str(exc), missing_consents=missing_consents(exc))

    async def conflict(_: Request, exc: Exception) -> JSONResponse:
        return problem(ProblemType.CONCURRENT_CHANGE, str(exc))

    async def invalid_request(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = _field_errors(exc)
        if any(e["code"] == "json_invalid" for e in errors):
            return problem(
                ProblemType.MALFORMED, "the body is not a well-formed JSON document", errors=errors
            )
        return problem(ProblemType.INVALID_INPUT, _summary(errors), errors=errors)

    async def missing(_: Request, exc: Exception) -> JSONResponse:
        return problem(ProblemType.NOT_FOUND, str(exc))

    async def unprocessable(_: Request, exc: Exception) -> JSONResponse:
        return problem(ProblemType.INVALID_INPUT, str(exc))

    async def unauthenticated(_: Request, exc: Exception) -> JSONResponse:
        return problem(ProblemType.UNAUTHENTICATED, str(exc))

    async def forbidden(_: Request, exc: Exception) -> JSONResponse:
        return problem(ProblemType.FORBIDDEN, str(exc))

    app.add_exception_handler(Unauthenticated, unauthenticated)
    app.add_exception_handler(Forbidden, forbidden)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(StarletteHTTPException, http_error)
    for kind in not_found:
        app.add_exception_handler(kind, missing)
    for kind in invalid:
        app.add_exception_handler(kind, unprocessable)
    for refusal in refusals:
        app.add_exception_handler(refusal, refused)
    app.add_exception_handler(ConcurrencyConflict, conflict)

    # Two transactions that wait on each other: PostgreSQL cancels one, nothing of it is
    # written, and a retry succeeds.
    async def contended(_: Request, exc: Exception) -> JSONResponse:
        return problem(ProblemType.CONCURRENT_CHANGE, "another change was made at the same moment; retry")

    for contention in (asyncpg.DeadlockDetectedError, asyncpg.SerializationError):
        app.add_exception_handler(contention, contended)
    install_outage_handlers(app)


#: the framework's own errors (an unknown path, a method the path does not take, a body
#: it cannot decode) by status; anything else it raises keeps its status and reason
_FRAMEWORK: dict[int, tuple[ProblemType, str | None]] = {
    400: (ProblemType.MALFORMED, "the body could not be read: send JSON encoded as UTF-8"),
    404: (ProblemType.NOT_FOUND, None),
    405: (ProblemType.METHOD_NOT_ALLOWED, None),
}


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    """An ``HTTPException`` (the framework's, or an endpoint's 404) as a problem."""
    assert isinstance(exc, StarletteHTTPException)
    kind, fixed = _FRAMEWORK.get(exc.status_code, (None, None))
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        # The router names the methods of the first route on the path only; a path served
        # by several routes (GET and POST /info-sessions) takes all of theirs.
        headers = {"Allow": ", ".join(methods_of(request))}
    detail = fixed or (exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase)
    if kind is ProblemType.NOT_FOUND and detail == "Not Found":
        detail = "no such path"
    if kind is ProblemType.METHOD_NOT_ALLOWED:
        detail = f"this path does not take that method; it takes {headers['Allow']}"
    if kind is None:
        kind = ProblemType.INTERNAL if exc.status_code >= 500 else ProblemType.INVALID_INPUT
    return problem(kind, detail, headers=headers)


def methods_of(request: Request) -> list[str]:
    """The methods the routes on the request's path take."""
    methods: set[str] = set()
    for route in api_routes(list(request.app.router.routes)):
        match, _ = route.matches(request.scope)
        if match is not Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    return sorted(methods)


#: seconds a client is asked to wait before retrying during an outage
OUTAGE_RETRY_AFTER = 2


def install_outage_handlers(app: FastAPI) -> None:
    """The database or broker is unreachable (runtime/outages.py): 503 with
    ``Retry-After``, as a problem document; nothing was written. Any other unexpected
    error is a 500 problem document with an id that is also in the log, and nothing of
    the failure's internals.

    The waits that make the answer quick are bounded where they happen: the pool's
    connect, acquire and command timeouts (runtime/db.py), and the broker checked before
    a request that needs it (``ServiceHost.require_broker``)."""

    async def unavailable(request: Request, exc: Exception) -> JSONResponse:
        if not is_outage(exc):
            return internal_error(request, exc)
        return outage_problem(exc)

    async def internal(request: Request, exc: Exception) -> JSONResponse:
        if is_outage(exc):
            return outage_problem(exc)
        return internal_error(request, exc)

    for kind in (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, nats.errors.Error):
        app.add_exception_handler(kind, unavailable)
    app.add_exception_handler(Exception, internal)


def internal_error(request: Request, exc: BaseException) -> JSONResponse:
    """A 500 whose id is in the log beside the traceback; the caller sees only the id."""
    error_id = uuid4().hex
    log.error("internal error %s on %s %s", error_id, request.method, request.url.path, exc_info=exc)
    return problem(
        ProblemType.INTERNAL,
        f"the request failed unexpectedly; it has been logged as {error_id}",
        error_id=error_id,
    )


def outage_problem(exc: BaseException) -> JSONResponse:
    what = "broker" if broker_outage(exc) else "database"
    return problem(
        ProblemType.UNAVAILABLE,
        f"the {what} cannot be reached right now; nothing was changed, retry shortly",
        retry_after=OUTAGE_RETRY_AFTER,
    )


def missing_consents(exc: Exception) -> list[str] | None:
    """The consents a refusal names as missing (``missing`` of the disclosure policy's
    refusals and of intake's ConsentMissing), for the problem's ``missing_consents``."""
    missing = getattr(exc, "missing", None)
    if isinstance(missing, list) and all(isinstance(m, str) for m in missing):
        return list(missing) or None
    return None


def install_forbidden(app: FastAPI, kinds: tuple[type[Exception], ...]) -> None:
    """The caller's role or organisation may not do this: 403 saying what is missing."""

    async def forbidden(_: Request, exc: Exception) -> JSONResponse:
        return problem(ProblemType.FORBIDDEN, str(exc), missing_consents=missing_consents(exc))

    for kind in kinds:
        app.add_exception_handler(kind, forbidden)


#: the purpose of a read of client data, as an endpoint parameter
Purpose = Annotated[ReadPurpose, Depends(purpose)]
