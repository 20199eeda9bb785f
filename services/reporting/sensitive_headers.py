"""Headers that keep reporting's answers out of caches and other sites' logs.

Statistics, the side views and the audit log are not for a shared cache or the browser's
back-button cache to keep: every answer says ``Cache-Control: no-store`` and
``Referrer-Policy: no-referrer`` (a page's address, with whatever is in its query, is never
sent on to another site). The dashboard's pages also may not be framed by another site
and load nothing from anywhere (its charts are inline SVG, its style inline). The API
documentation is left cacheable: it holds nothing of anyone's.

Plain ASGI middleware, so streamed answers (the audit export) pass through unbuffered.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

SENSITIVE: tuple[tuple[bytes, bytes], ...] = (
    (b"cache-control", b"no-store"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-content-type-options", b"nosniff"),
)
#: the dashboard's pages: no framing, nothing loaded, forms post to this service only
PAGE: tuple[tuple[bytes, bytes], ...] = (
    (
        b"content-security-policy",
        b"default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        b"frame-ancestors 'none'; base-uri 'none'",
    ),
    (b"x-frame-options", b"DENY"),
)
#: what is not sensitive: the API's documentation
DOCUMENTATION = ("/docs", "/redoc", "/openapi.json", "/static-offline-docs")


def _prefixed(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")


class SensitiveHeaders:
    def __init__(self, app: ASGIApp, *, pages: str = "/dashboard") -> None:
        self.app = app
        self.pages = pages

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or any(_prefixed(scope["path"], p) for p in DOCUMENTATION):
            await self.app(scope, receive, send)
            return
        extra = SENSITIVE + (PAGE if _prefixed(scope["path"], self.pages) else ())

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in extra}
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
                message = {**message, "headers": kept + list(extra)}
            await send(message)

        await self.app(scope, receive, with_headers)
