"""The edge of every service: who is calling, and how much they send, are settled before
a request's body is read.

A body costs memory and parsing time before any rule can refuse it: an unauthenticated
100 MB JSON body was once read and parsed for 6.6 s before its 401. So, for every request
that carries a body (POST, PUT, PATCH, DELETE):

- **the token first.** No or an invalid bearer token answers 401 without reading a byte
  of the body. The verification is :meth:`runtime.auth.TokenVerifier.verify`, the same
  that the endpoints' permission check runs (runtime/access.py); here it only runs
  earlier.
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


@dataclass(frozen=True)
class BodyLimits:
    """The largest body each path accepts: ``by_path`` prefixes, else ``default``."""

    default: int = DEFAULT_BODY_LIMIT
    by_path: Mapping[str, int] = field(default_factory=dict)

    def of(self, path: str) -> int:
        matches = [(len(prefix), limit) for prefix, limit in self.by_path.items() if path.startswith(prefix)]
        return max(matches)[1] if matches else self.default


class RequestLimits:
    """ASGI middleware: authenticate, then bound the body, before the app reads it.

    ``verifier`` is called per request (the app builds its verifier at start). A refusal
    is answered by ``refuse(status, title, detail, headers)``, the service's one problem
    shape."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        verifier: Callable[[], TokenVerifier],
        limits: BodyLimits,
        refuse: Callable[[int, str, str, Mapping[str, str]], Any],
        token_in_body: frozenset[str] = frozenset(),
    ) -> None:
        self.app = app
        self.token_in_body = token_in_body
        self.verifier = verifier
        self.limits = limits
        self.refuse = refuse

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _WITH_BODY:
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        try:
            if scope["path"] not in self.token_in_body:
                self.verifier().verify(_bearer(headers.get("authorization")))
        except Unauthenticated as exc:
            response = self.refuse(401, "unauthenticated", str(exc), {"WWW-Authenticate": "Bearer"})
            await response(scope, receive, send)
            return
        limit = self.limits.of(scope["path"])
        declared = headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            response = self.refuse(413, "body too large", str(BodyTooLarge(limit)), {"Connection": "close"})
            await response(scope, receive, send)
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
            response = self.refuse(413, "body too large", str(BodyTooLarge(limit)), {"Connection": "close"})
            await response(scope, receive, send)


def _bearer(header: str | None) -> str:
    if not header:
        raise Unauthenticated("no bearer token: send Authorization: Bearer <token>")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("the Authorization header must be: Bearer <token>")
    return token.strip()
