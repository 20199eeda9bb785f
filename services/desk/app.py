"""The desk's app: its pages, its static files, and a page (never a 5xx or JSON) for
every refusal: sign-in needed, a forged or unreadable form, no such page."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from runtime import clock
from services.desk import (
    assessment_pages,
    audit_pages,
    coordination_pages,
    guidance_pages,
    health_pages,
    import_pages,
    intake_pages,
    pages,
    sign_in,
)
from services.desk.bootstrap import bootstrap, parts_of
from services.desk.i18n import N_
from services.desk.web import FormRejected, SignInRequired, local_path, page, redirect
from services.settings import ReittiConfig

log = logging.getLogger("reitti.desk")

#: every answer of the desk: no caching of a page of client data, no framing, nothing
#: from elsewhere (no CDN: the stylesheet is the package's)
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; form-action 'self'; "
    "base-uri 'none'",
}


def create_app(options: ReittiConfig | None = None) -> FastAPI:
    """The desk's app. ``options`` (the settings model) is read from the environment here,
    once, unless given."""
    options = options or ReittiConfig.from_env()
    clock.use_zone(options.shared.time_zone)
    parts = bootstrap(options)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await parts_of(app).imports.close()
            await parts_of(app).apis.close()

    app = FastAPI(title="Reitti desk", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.parts = parts
    app.mount("/static", StaticFiles(packages=[("services.desk", "static")]), name="static")

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    app.include_router(sign_in.router())
    app.include_router(pages.router())
    # before intake's pages, whose /intake/clients/{id}/{action} would take its path
    app.include_router(assessment_pages.router())
    app.include_router(import_pages.router())  # before intake's /intake/clients/... and the like
    app.include_router(intake_pages.router())
    app.include_router(health_pages.router())  # before guidance's /guidance/cases/{id}/{action}
    app.include_router(coordination_pages.router())
    app.include_router(guidance_pages.router())
    app.include_router(audit_pages.router())

    @app.middleware("http")
    async def headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    async def to_sign_in(request: Request, exc: Exception) -> Response:
        here = local_path(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
        return redirect(request, "/sign-in?" + urlencode({"next": here}))

    async def rejected(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, FormRejected)
        return page(
            request,
            "rejected.html",
            {"reason": exc.reason},
            title=N_("The form was not accepted"),
            status=exc.status,
        )

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        status = exc.status_code if exc.status_code in (404, 405) else 400
        return page(request, "not_found.html", {}, title=N_("No such page"), status=status)

    async def failure(request: Request, exc: Exception) -> Response:
        log.exception("the desk failed on %s %s", request.method, request.url.path)
        return page(request, "failure.html", {}, title=N_("Something went wrong"), status=500)

    app.add_exception_handler(SignInRequired, to_sign_in)
    app.add_exception_handler(FormRejected, rejected)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, failure)
    return app
