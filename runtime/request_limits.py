"""The edge of every service: who is calling, and how much they send, are settled before
a request's body is read.

A body costs memory and parsing time before any rule can refuse it: an unauthenticated
100 MB JSON body was once read and parsed for 6.6 s before its 401. So, for every request
that carries a body (POST, PUT, PATCH, DELETE):

- **the token first.** No or an invalid bearer token answers 401 without reading a byte
  of the body. The verification is :meth:`runtime.auth.TokenVerifier.verify`, the same
  that the endpoints' permission check runs (runtime/access.py); here it only runs
  earlier.
- **a body of a media type the endpoint reads.** Commands read JSON; the info-list
  import reads CSV or JSON Lines. Anything else answers 415 before the body is read.
- **a bounded body.** A ``Content-Length`` over the path's limit answers 413 at once; a
  body sent without one (chunked) is counted as it arrives and answers 413 as soon as it
  passes the limit. Commands are small JSON documents; imports of the info list are
  larger, and have a limit of their own.

A path that takes its credential in the body (``token_in_body``: the dashboard's sign-in
form, and its sign-out, which needs none) skips the token check; its body is bounded all
the same, and it verifies the token itself with the same verifier.

It is plain ASGI middleware, so it runs before FastAPI reads anything.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from runtime.auth import TokenVerifier, Unauthenticated
from runtime.problems import ProblemType, problem

#: bytes of a JSON command's body (a referral with its client is under 2 KB)
DEFAULT_BODY_LIMIT = 64 * 1024
#: bytes of an import's body (100,000 info-list rows are about 10 MB)
DEFAULT_IMPORT_LIMIT = 32 * 1024 * 1024
_WITH_BODY = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class BodyTooLarge(Exception):
    """The request's body is over the limit of its path (HTTP 413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the request body is over the limit of {limit} bytes for this endpoint")
        self.limit = limit


#: the media types of a JSON command's body
JSON_BODIES = ("application/json",)
#: the media types an info-list import reads (CSV, JSON Lines)
IMPORT_BODIES = ("text/csv", "application/x-ndjson", "application/jsonl", "application/json")
#: the media types of an HTML form's body (the dashboard's sign-in)
FORM_BODIES = ("application/x-www-form-urlencoded", "multipart/form-data")


@dataclass(frozen=True)
class BodyLimits:
    """The largest body each path accepts, and the media types it reads: ``by_path``
    prefixes, else ``default`` and JSON."""

    default: int = DEFAULT_BODY_LIMIT
    by_path: Mapping[str, int] = field(default_factory=dict)
    media_by_path: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def of(self, path: str) -> int:
        matches = [(len(prefix), limit) for prefix, limit in self.by_path.items() if path.startswith(prefix)]
        return max(matches)[1] if matches else self.default

    def media_of(self, path: str) -> tuple[str, ...]:
        matches = [(len(p), media) for p, media in self.media_by_path.items() if path.startswith(p)]
        return max(matches)[1] if matches else JSON_BODIES


def media_type(content_type: str | None) -> str:
    """``text/csv; charset=utf-8`` -> ``text/csv``."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def reads(accepted: tuple[str, ...], content_type: str | None) -> bool:
    """Whether a body of ``content_type`` is one of ``accepted`` (JSON also as ``+json``)."""
    kind = media_type(content_type)
    return kind in accepted or ("application/json" in accepted and kind.endswith("+json"))


class RequestLimits:
    """ASGI middleware: authenticate, then bound the body, before the app reads it.

    ``verifier`` is called per request (the app builds its verifier at start). A refusal
    is answered as a problem document (runtime/problems.py)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        verifier: Callable[[], TokenVerifier],
        limits: BodyLimits,
        token_in_body: frozenset[str] = frozenset(),
    ) -> None:
        self.app = app
        self.token_in_body = token_in_body
        self.verifier = verifier
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _WITH_BODY:
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        try:
            if scope["path"] not in self.token_in_body:
                self.verifier().verify(_bearer(headers.get("authorization")))
        except Unauthenticated as exc:
            await problem(ProblemType.UNAUTHENTICATED, str(exc))(scope, receive, send)
            return
        limit = self.limits.of(scope["path"])
        declared = headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _too_large(limit)(scope, receive, send)
            return
        has_body = (declared is not None and declared != "0") or "transfer-encoding" in headers
        accepted = self.limits.media_of(scope["path"])
        if has_body and not reads(accepted, headers.get("content-type")):
            sent = media_type(headers.get("content-type")) or "none"
            detail = f"this endpoint reads {' or '.join(accepted)}; the body's Content-Type is {sent}"
            await problem(ProblemType.UNSUPPORTED_MEDIA_TYPE, detail)(scope, receive, send)
            return
        seen = 0
        cut_off = False

        async def bounded() -> Message:
            # Past the limit the app is told the caller went away: it stops reading, and
            # whatever it would answer to that is replaced by the 413 below.
            nonlocal seen, cut_off
            if cut_off:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    cut_off = True
                    return {"type": "http.disconnect"}
            return message

        async def unless_cut_off(message: Message) -> None:
            if not cut_off:
                await send(message)

        await self.app(scope, bounded, unless_cut_off)
        if cut_off:
            await _too_large(limit)(scope, receive, send)


def _too_large(limit: int) -> Any:
    return problem(ProblemType.TOO_LARGE, str(BodyTooLarge(limit)), headers={"Connection": "close"})


def _bearer(header: str | None) -> str:
    if not header:
        raise Unauthenticated("no bearer token: send Authorization: Bearer <token>")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("the Authorization header must be: Bearer <token>")
    return token.strip()
