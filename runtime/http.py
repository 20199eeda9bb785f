"""HTTP pieces every service API shares: the caller's purpose, the access log, a
command's context, and the error answers."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import uuid4

import asyncpg
import nats.errors
from fastapi import Depends, FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from contracts.base import Actor
from runtime import clock, purposes
from runtime.access import Forbidden
from runtime.access_log import AccessLog
from runtime.auth import Unauthenticated
from runtime.decision import Context
from runtime.eventstore import ConcurrencyConflict
from runtime.outages import broker_outage, is_outage
from runtime.purposes import PurposeCode, ReadPurpose

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
    x_reitti_purpose_detail: Annotated[str | None, Header(description=purposes.DETAIL_DESCRIPTION)] = None,
) -> ReadPurpose:
    """The purpose of reading client data: a code of the vocabulary (required) and a
    free-text detail (optional), both recorded in the access log (runtime/purposes.py)."""
    return purposes.parse(x_reitti_purpose, x_reitti_purpose_detail)


def problem(status: int, title: str, detail: str, *, retryable: bool = False) -> JSONResponse:
    body = {"title": title, "detail": detail, "status": status, "retryable": retryable}
    headers = {"Retry-After": "0"} if retryable else None
    return JSONResponse(body, status_code=status, headers=headers)


def install_error_handlers(
    app: FastAPI,
    *,
    refusals: tuple[type[Exception], ...],
    not_found: tuple[type[Exception], ...] = (),
    invalid: tuple[type[Exception], ...] = (),
) -> None:
    """Invalid input answers 422 with each field and reason; a business-rule refusal 409
    with the rule's message; a concurrent change to the same client 409 that says to
    retry. Nothing was written in any of these cases."""

    async def refused(_: Request, exc: Exception) -> JSONResponse:
        return problem(409, "refused", str(exc))

    async def conflict(_: Request, exc: Exception) -> JSONResponse:
        return problem(409, "concurrent change", str(exc), retryable=True)

    async def invalid_request(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        # Field and reason only: the rejected input may be personal data and is not echoed.
        detail = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
        return JSONResponse({"detail": detail}, status_code=422)

    async def missing(_: Request, exc: Exception) -> JSONResponse:
        return problem(404, "not found", str(exc))

    async def unprocessable(_: Request, exc: Exception) -> JSONResponse:
        return problem(422, "invalid input", str(exc))

    async def unauthenticated(_: Request, exc: Exception) -> JSONResponse:
        response = problem(401, "unauthenticated", str(exc))
        response.headers["WWW-Authenticate"] = "Bearer"
        return response

    async def forbidden(_: Request, exc: Exception) -> JSONResponse:
        return problem(403, "forbidden", str(exc))

    app.add_exception_handler(Unauthenticated, unauthenticated)
    app.add_exception_handler(Forbidden, forbidden)
    app.add_exception_handler(RequestValidationError, invalid_request)
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
        return problem(
            409, "concurrent change", "another change was made at the same moment; retry", retryable=True
        )

    for contention in (asyncpg.DeadlockDetectedError, asyncpg.SerializationError):
        app.add_exception_handler(contention, contended)
    install_outage_handlers(app)


#: seconds a client is asked to wait before retrying during an outage
OUTAGE_RETRY_AFTER = 2


def install_outage_handlers(app: FastAPI) -> None:
    """The database or broker is unreachable (runtime/outages.py): 503 with
    ``Retry-After``, as a problem document; nothing was written. Any other unexpected
    error is a 500 problem document (and is logged by the server), never a bare 500.

    The waits that make the answer quick are bounded where they happen: the pool's
    connect, acquire and command timeouts (runtime/db.py), and the broker checked before
    a request that needs it (``ServiceHost.require_broker``)."""

    async def unavailable(_: Request, exc: Exception) -> JSONResponse:
        if not is_outage(exc):
            raise exc
        return outage_problem(exc)

    async def internal(_: Request, exc: Exception) -> JSONResponse:
        if is_outage(exc):
            return outage_problem(exc)
        return problem(500, "internal error", "the request failed unexpectedly; it has been logged")

    for kind in (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, nats.errors.Error):
        app.add_exception_handler(kind, unavailable)
    app.add_exception_handler(Exception, internal)


def outage_problem(exc: BaseException) -> JSONResponse:
    what = "broker" if broker_outage(exc) else "database"
    response = problem(
        503,
        "service unavailable",
        f"the {what} cannot be reached right now; nothing was changed, retry shortly",
        retryable=True,
    )
    response.headers["Retry-After"] = str(OUTAGE_RETRY_AFTER)
    return response


def install_forbidden(app: FastAPI, kinds: tuple[type[Exception], ...]) -> None:
    """The caller's role or organisation may not do this: 403 saying what is missing."""

    async def forbidden(_: Request, exc: Exception) -> JSONResponse:
        return problem(403, "forbidden", str(exc))

    for kind in kinds:
        app.add_exception_handler(kind, forbidden)


#: the purpose of a read of client data, as an endpoint parameter
Purpose = Annotated[ReadPurpose, Depends(purpose)]
