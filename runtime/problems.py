"""The one shape of every error answer of every service: an RFC 9457 problem document,
``application/problem+json``.

::

    {"type": "urn:reitti:problem:invalid-input", "title": "invalid input", "status": 422,
     "detail": "2 fields are invalid", "retryable": false,
     "errors": [{"in": "body", "field": "subsidy_days", "pointer": "/subsidy_days",
                 "reason": "Input should be a valid integer"}]}

``type`` names the kind of problem (:class:`ProblemType`, one per kind, stable for
callers to branch on); ``title`` is its short human summary; ``detail`` says what was
wrong with this request and what to do; ``retryable`` says whether the same request may
succeed later (a ``Retry-After`` header then says when). A validation problem lists each
field in ``errors``; an internal error carries ``error_id``, the id under which the
service logged it, and nothing of its internals.

This module builds the documents; runtime/http.py maps exceptions to them, and
runtime/openapi.py documents them on every operation.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Literal

from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

MEDIA_TYPE = "application/problem+json"


class ProblemType(StrEnum):
    """The kinds of problem, as the ``type`` URI of the document."""

    #: 400: the body is not well-formed (not UTF-8, not JSON)
    MALFORMED = "urn:reitti:problem:malformed"
    #: 401: no, or no valid, bearer token
    UNAUTHENTICATED = "urn:reitti:problem:unauthenticated"
    #: 403: the caller's role, organisation or the client's consent does not allow this
    FORBIDDEN = "urn:reitti:problem:forbidden"
    #: 404: no such resource (or one the caller may not learn exists)
    NOT_FOUND = "urn:reitti:problem:not-found"
    #: 405: the path exists, the method does not (``Allow`` lists the methods)
    METHOD_NOT_ALLOWED = "urn:reitti:problem:method-not-allowed"
    #: 409: a rule of the process refuses the command; nothing was written
    REFUSED = "urn:reitti:problem:refused"
    #: 409: another change to the same client came first; retry
    CONCURRENT_CHANGE = "urn:reitti:problem:concurrent-change"
    #: 413: the body is over the endpoint's limit
    TOO_LARGE = "urn:reitti:problem:too-large"
    #: 415: the body's media type is not one the endpoint reads
    UNSUPPORTED_MEDIA_TYPE = "urn:reitti:problem:unsupported-media-type"
    #: 422: a field or parameter is invalid (``errors`` lists each)
    INVALID_INPUT = "urn:reitti:problem:invalid-input"
    #: 429: too many requests of this kind at once; retry after ``Retry-After``
    TOO_MANY_REQUESTS = "urn:reitti:problem:too-many-requests"
    #: 500: an unexpected failure, logged under ``error_id``; nothing internal is shown
    INTERNAL = "urn:reitti:problem:internal"
    #: 503: the database or broker cannot be reached; nothing was written; retry
    UNAVAILABLE = "urn:reitti:problem:unavailable"


#: the status each kind of problem is answered with
STATUS: Mapping[ProblemType, int] = {
    ProblemType.MALFORMED: 400,
    ProblemType.UNAUTHENTICATED: 401,
    ProblemType.FORBIDDEN: 403,
    ProblemType.NOT_FOUND: 404,
    ProblemType.METHOD_NOT_ALLOWED: 405,
    ProblemType.REFUSED: 409,
    ProblemType.CONCURRENT_CHANGE: 409,
    ProblemType.TOO_LARGE: 413,
    ProblemType.UNSUPPORTED_MEDIA_TYPE: 415,
    ProblemType.INVALID_INPUT: 422,
    ProblemType.TOO_MANY_REQUESTS: 429,
    ProblemType.INTERNAL: 500,
    ProblemType.UNAVAILABLE: 503,
}

#: the kinds a caller may simply retry (after ``Retry-After``)
RETRYABLE = frozenset({ProblemType.CONCURRENT_CHANGE, ProblemType.TOO_MANY_REQUESTS, ProblemType.UNAVAILABLE})


class FieldError(BaseModel):
    """One invalid field or parameter of a request."""

    in_: Literal["body", "query", "path", "header", "cookie"] = Field(
        alias="in", description="Where the field is: the body, or a query, path, header or cookie parameter"
    )
    field: str = Field(
        description="The field's name; in a body its path with dots (for example `findings.0.area`), "
        "empty for the body as a whole",
        examples=["subsidy_days"],
    )
    pointer: str | None = Field(
        default=None,
        description="In a body, the field as a JSON Pointer (RFC 6901) into the document",
        examples=["/subsidy_days"],
    )
    reason: str = Field(description="What is wrong and, where it helps, what is expected")
    code: str = Field(description="A stable code for the reason (for example `iso_date`, `missing`)")

    model_config = {"populate_by_name": True}


class Problem(BaseModel):
    """An error answer (RFC 9457 problem details), the same on every endpoint."""

    type: ProblemType = Field(description="The kind of problem; stable, for callers to branch on")
    title: str = Field(description="A short summary of the kind of problem", examples=["invalid input"])
    status: int = Field(ge=400, le=599, description="The HTTP status, repeated for convenience")
    detail: str = Field(description="What was wrong with this request, and what to do")
    retryable: bool = Field(
        description="Whether the same request may succeed later; `Retry-After` then says when"
    )
    errors: list[FieldError] | None = Field(
        default=None, description="Each invalid field, on 400 and 422 answers"
    )
    error_id: str | None = Field(
        default=None, description="On a 500: the id under which the failure was logged; quote it"
    )
    missing_consents: list[str] | None = Field(
        default=None,
        description="On a refusal for want of the client's consent (403, 409): each consent "
        "that is needed and not in force, as a scope (`data_exchange_within_centre`) or "
        "`disclosure_to_organisations:<organisation>`. The client gives it; an intake advisor "
        "records it (POST /clients/{client_id}/consents)",
        examples=[["disclosure_to_organisations:social_services:mikkeli"]],
    )

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "type": ProblemType.INVALID_INPUT.value,
                    "title": "invalid input",
                    "status": 422,
                    "detail": "1 field is invalid: subsidy_days",
                    "retryable": False,
                    "errors": [
                        {
                            "in": "body",
                            "field": "subsidy_days",
                            "pointer": "/subsidy_days",
                            "reason": "Input should be a valid integer",
                            "code": "int_type",
                        }
                    ],
                }
            ]
        }
    }


def problem(
    kind: ProblemType,
    detail: str,
    *,
    title: str | None = None,
    errors: list[dict[str, object]] | None = None,
    error_id: str | None = None,
    missing_consents: list[str] | None = None,
    headers: Mapping[str, str] | None = None,
    retry_after: int = 0,
) -> JSONResponse:
    """The answer for a problem of ``kind``: its status, the problem document, and
    ``Retry-After`` when the kind is retryable."""
    body: dict[str, object] = {
        "type": kind.value,
        "title": title or _TITLES[kind],
        "status": STATUS[kind],
        "detail": detail,
        "retryable": kind in RETRYABLE,
    }
    if errors is not None:
        body["errors"] = errors
    if error_id is not None:
        body["error_id"] = error_id
    if missing_consents:
        body["missing_consents"] = missing_consents
    response = JSONResponse(body, status_code=STATUS[kind], media_type=MEDIA_TYPE)
    if kind in RETRYABLE:
        response.headers["Retry-After"] = str(retry_after)
    if kind is ProblemType.UNAUTHENTICATED:
        response.headers["WWW-Authenticate"] = "Bearer"
    if headers:
        response.headers.update(headers)
    return response


_TITLES: Mapping[ProblemType, str] = {
    ProblemType.MALFORMED: "malformed request",
    ProblemType.UNAUTHENTICATED: "unauthenticated",
    ProblemType.FORBIDDEN: "forbidden",
    ProblemType.NOT_FOUND: "not found",
    ProblemType.METHOD_NOT_ALLOWED: "method not allowed",
    ProblemType.REFUSED: "refused",
    ProblemType.CONCURRENT_CHANGE: "concurrent change",
    ProblemType.TOO_LARGE: "body too large",
    ProblemType.UNSUPPORTED_MEDIA_TYPE: "unsupported media type",
    ProblemType.INVALID_INPUT: "invalid input",
    ProblemType.TOO_MANY_REQUESTS: "too many requests",
    ProblemType.INTERNAL: "internal error",
    ProblemType.UNAVAILABLE: "service unavailable",
}
