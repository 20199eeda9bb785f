"""The dashboard's sign-in and sign-out: plain HTML forms, no script.

``GET /dashboard/sign-in`` shows a form to paste a token into; ``POST`` verifies it (the
service's :class:`runtime.auth.TokenVerifier`, the permission to read the statistics) and
sets the session cookie (services/reporting/dashboard_session.py); ``POST
/dashboard/sign-out`` clears it. A browser that opens the dashboard without a session is
sent here (303); an API client without a token is answered 401.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from typing import Annotated, Any
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit

import jwt
from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from runtime.access import MATRIX, Permission, allowed
from runtime.auth import TokenVerifier, Unauthenticated
from runtime.problems import ProblemType, problem
from services.reporting.dashboard_session import (
    COOKIE,
    COOKIE_PATH,
    FORM_COOKIE,
    FORM_LIFETIME,
    REASONS,
    SAME_SITE,
    SIGN_IN_PATH,
    SIGN_OUT_PATH,
    SignInRequired,
    sessions,
)

DASHBOARD_PATH = "/dashboard"
#: the dashboard's own query parameters, the only ones carried through a sign-in
CARRIED = ("year", "as_of")
FORM_TYPE = "application/x-www-form-urlencoded"
PERMISSION = Permission.STATISTICS_READ
#: the sign-in form's fields, as the OpenAPI documents them (the form is read by hand: no
#: form-parsing dependency, and a browser gets an HTML page for every refusal, never JSON)
SIGN_IN_FORM: dict[str, Any] = {
    "type": "object",
    "required": ["token", "form"],
    "properties": {
        "token": {"type": "string", "description": "A signed token (what `reitti token` prints)"},
        "form": {"type": "string", "description": "The hidden field of the sign-in page's form"},
        "next": {"type": "string", "description": "Where to go on to", "default": "/dashboard"},
    },
}


def _is_browser(request: Request) -> bool:
    """A navigation asks for HTML; an API client (httpx, curl, a partner's code) does not."""
    return "text/html" in request.headers.get("accept", "")


def _secure(request: Request) -> bool:
    """The cookie is Secure when the page was asked for over https (behind a proxy, as
    uvicorn's ``--proxy-headers`` reports it)."""
    return request.url.scheme == "https"


def _url(request: Request, path: str) -> str:
    return f"{request.scope.get('root_path', '')}{path}"


def carried_next(value: str | None) -> str:
    """Where a sign-in goes on to: this service's dashboard with its year and day, nothing
    else (built, not copied), so the form can never send a browser to another site, or
    back to a ``?token=``."""
    if value:
        parts = urlsplit(value)
        if parts.path == DASHBOARD_PATH:
            query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k in CARRIED])
            return DASHBOARD_PATH + (f"?{query}" if query else "")
    return DASHBOARD_PATH


def sign_in_required(request: Request, exc: Exception) -> Response:
    """No session: a browser goes to the sign-in page, saying why; an API client gets a
    401 that says how to authenticate."""
    assert isinstance(exc, SignInRequired)
    if not _is_browser(request):
        detail = (
            "a token in the URL is not accepted: send Authorization: Bearer <token>"
            if exc.reason == "token-in-url"
            else f"no valid token or dashboard session: send Authorization: Bearer <token>, or sign in "
            f"at {SIGN_IN_PATH} in a browser"
        )
        response: Response = problem(ProblemType.UNAUTHENTICATED, detail)
        return response
    carried = urlencode([(k, v) for k, v in request.query_params.multi_items() if k in CARRIED])
    query = {"reason": exc.reason, "next": carried_next(f"{DASHBOARD_PATH}?{carried}")}
    response = RedirectResponse(f"{_url(request, SIGN_IN_PATH)}?{urlencode(query)}", status_code=303)
    if exc.reason in ("expired", "invalid"):
        _clear(response, request, COOKIE, COOKIE_PATH)
    return response


def _clear(response: Response, request: Request, name: str, path: str) -> None:
    response.delete_cookie(
        name, path=_url(request, path), secure=_secure(request), httponly=True, samesite=SAME_SITE
    )


def _form_page(request: Request, *, status: int, message: str, error: bool, next_url: str) -> HTMLResponse:
    """The sign-in page with a new form (and its anti-forgery cookie)."""
    field, nonce = sessions(request).form()
    roles = ", ".join(sorted(r.value.replace("_", " ") for r in MATRIX[PERMISSION]))
    page = SIGN_IN_PAGE.format(
        action=escape(_url(request, SIGN_IN_PATH)),
        form=escape(field),
        next=escape(next_url),
        message_class="error" if error else "note",
        role="alert" if error else "status",
        message=escape(message),
        roles=escape(roles),
    )
    response = HTMLResponse(page, status_code=status)
    response.set_cookie(
        FORM_COOKIE,
        nonce,
        max_age=int(FORM_LIFETIME.total_seconds()),
        path=_url(request, SIGN_IN_PATH),
        secure=_secure(request),
        httponly=True,
        samesite="strict",
    )
    return response


def _token_expiry(token: str) -> datetime:
    """The ``exp`` of a token :meth:`TokenVerifier.verify` has just accepted (it requires
    the claim, so it is there and signed)."""
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return datetime.fromtimestamp(int(claims["exp"]), UTC)


def _refusal(message: str) -> str:
    """The verifier's reason, without its advice to API clients about headers."""
    return message.split(": send Authorization", 1)[0]


def router() -> APIRouter:
    api = APIRouter()

    @api.get(
        SIGN_IN_PATH,
        response_class=HTMLResponse,
        tags=["dashboard"],
        summary="The dashboard's sign-in form: paste a token, get a session cookie",
    )
    async def sign_in_form(
        request: Request,
        reason: Annotated[
            str, Query(max_length=40, description=f"Why the form is shown: one of {', '.join(REASONS)}")
        ] = "none",
        next: Annotated[
            str, Query(max_length=2000, description="The dashboard address to go on to after signing in")
        ] = DASHBOARD_PATH,
    ) -> Response:
        message = REASONS.get(reason, REASONS["none"])
        error = reason in ("token-in-url", "expired", "invalid")
        return _form_page(request, status=200, message=message, error=error, next_url=carried_next(next))

    @api.post(
        SIGN_IN_PATH,
        response_class=HTMLResponse,
        tags=["dashboard"],
        summary="Sign in to the dashboard with a token (form-encoded: token, form, next)",
        status_code=303,
        response_description="Signed in: the session cookie is set; on to the dashboard",
        responses={
            400: {"description": "The form is not UTF-8 or cannot be parsed (the form again)"},
            401: {"description": "The token is not valid (the form again, saying why)"},
            403: {"description": "The role may not read the statistics, or the form is stale or forged"},
            415: {"description": "Not a form"},
            422: {"description": "No token in the form"},
        },
        openapi_extra={"requestBody": {"required": True, "content": {FORM_TYPE: {"schema": SIGN_IN_FORM}}}},
    )
    async def sign_in(request: Request) -> Response:
        def again(status: int, message: str, next_url: str = DASHBOARD_PATH) -> HTMLResponse:
            return _form_page(request, status=status, message=message, error=True, next_url=next_url)

        if request.headers.get("content-type", "").split(";")[0].strip().lower() != FORM_TYPE:
            return again(415, f"send the sign-in form ({FORM_TYPE})")
        try:
            fields = parse_qs((await request.body()).decode("utf-8"), max_num_fields=10)
        except (UnicodeDecodeError, ValueError):
            return again(400, "the form could not be read: sign in again")

        def field(name: str) -> str | None:
            values = fields.get(name)
            return values[0] if values else None

        next_url = carried_next(field("next"))
        if not sessions(request).form_matches(field("form"), request.cookies.get(FORM_COOKIE)):
            stale = "this sign-in form has expired or did not come from this page: try again"
            return again(403, stale, next_url)
        token = (field("token") or "").strip()
        if not token:
            return again(422, "paste your token into the token field", next_url)
        verifier: TokenVerifier = request.app.state.verifier
        try:
            actor = verifier.verify(token)
        except Unauthenticated as exc:
            refused = again(401, f"the token was not accepted: {_refusal(str(exc))}", next_url)
            refused.headers["WWW-Authenticate"] = "Bearer"
            return refused
        if not allowed(PERMISSION, actor.role):
            return again(
                403,
                f"your role {actor.role!r} may not read the statistics (permission {PERMISSION.value}); "
                "sign in with a token of a role that may",
                next_url,
            )
        session = sessions(request).start(actor, _token_expiry(token))
        response = RedirectResponse(_url(request, next_url), status_code=303)
        response.set_cookie(
            COOKIE,
            sessions(request).seal(session),
            max_age=max(0, int((session.expires - datetime.now(UTC)).total_seconds())),
            path=_url(request, COOKIE_PATH),
            secure=_secure(request),
            httponly=True,
            samesite=SAME_SITE,
        )
        _clear(response, request, FORM_COOKIE, SIGN_IN_PATH)
        return response

    @api.post(
        SIGN_OUT_PATH,
        tags=["dashboard"],
        summary="Sign out of the dashboard: the session cookie is cleared",
        status_code=303,
        response_class=Response,
        response_description="Signed out: on to the sign-in page",
    )
    async def sign_out(request: Request) -> Response:
        response = RedirectResponse(
            f"{_url(request, SIGN_IN_PATH)}?{urlencode({'reason': 'signed-out'})}", status_code=303
        )
        _clear(response, request, COOKIE, COOKIE_PATH)
        return response

    return api


def install(app: FastAPI) -> None:
    app.include_router(router())
    app.add_exception_handler(SignInRequired, sign_in_required)


SIGN_IN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Sign in: Reitti dashboard</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {{ font-family: system-ui, sans-serif; margin: 1.5rem; color: #1d2733; background: #f7f8fa; }}
main {{ max-width: 40rem; background: #fff; border: 1px solid #dde2e8; border-radius: 6px; padding: 1rem; }}
h1 {{ font-size: 1.4rem; margin: 0 0 .6rem; }}
label {{ display: block; font-weight: bold; margin: .8rem 0 .3rem; }}
textarea {{ width: 100%; box-sizing: border-box; font-family: monospace; }}
button {{ margin-top: .8rem; padding: .4rem 1.2rem; }}
.note {{ color: #555; }} .error {{ color: #a12a1a; font-weight: bold; }}
code {{ background: #eef1f4; padding: 0 .2rem; }}
</style></head>
<body><main>
<h1>Reitti dashboard: sign in</h1>
<p class="{message_class}" role="{role}" data-testid="sign-in-message">{message}</p>
<form method="post" action="{action}">
<input type="hidden" name="form" value="{form}">
<input type="hidden" name="next" value="{next}">
<label for="token">Your token</label>
<textarea id="token" name="token" rows="5" required autocomplete="off" autocapitalize="off"
 spellcheck="false"></textarea>
<button type="submit">Sign in</button>
</form>
<p class="note">Roles that may read the dashboard: {roles}. In embedded mode a development token
is printed by <code>reitti token --role steering_group_member --person you</code>.
The token stays here: the browser keeps a session cookie that opens this dashboard only,
and ends with your token.</p>
</main></body></html>
"""
