"""What every page of the desk shares: the session of the request, the cookie, the forms
(read by hand, urlencoded, bounded; each checked for the session's anti-forgery value),
and the page with its layout."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from runtime.access import MATRIX, Permission, allowed
from services.desk.apis import Problem, on_page
from services.desk.bootstrap import DeskParts, parts_of
from services.desk.i18n import N_, chosen
from services.desk.session import COOKIE, CSRF_FIELD, MAX_SESSION, SAME_SITE, DeskSession

FORM_TYPE = "application/x-www-form-urlencoded"
#: the largest form the desk reads
MAX_FORM_BYTES = 64 * 1024


class SignInRequired(Exception):
    """A page that needs a signed-in user was asked for without one: to the sign-in page."""


class FormRejected(Exception):
    """A POST that is not a form of this session (no or a wrong anti-forgery value, not
    urlencoded, too large): answered with a page saying so, and nothing is done."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class Form(dict[str, str]):
    """A posted form: each field's first value, and :meth:`all` for a field of checkboxes."""

    def __init__(self, fields: dict[str, list[str]]) -> None:
        super().__init__({name: values[0].strip() for name, values in fields.items()})
        self._lists = fields

    def all(self, name: str) -> list[str]:
        return [value.strip() for value in self._lists.get(name, [])]


def session_of(request: Request) -> DeskSession:
    """The request's session: the cookie's, else a new one (kept for the response)."""
    found: DeskSession | None = getattr(request.state, "desk_session", None)
    if found is None:
        parts = parts_of(request.app)
        found = parts.sessions.open(request.cookies.get(COOKIE)) or parts.sessions.new()
        request.state.desk_session = found
    return found


def signed_in(request: Request) -> DeskSession:
    """The signed-in user's session (else :class:`SignInRequired`: to the sign-in page).
    It also names the page for the access log (services/desk/apis.py::on_page)."""
    session = session_of(request)
    if not session.signed_in:
        raise SignInRequired
    route = getattr(request.scope.get("route"), "path", None)
    if route is not None:  # the route's template: never the path itself, which holds ids
        on_page(request.method, route)
    return session


def form_context(
    problem: Problem | None, values: Form | None, problem_form: str | None = None
) -> dict[str, Any]:
    """What a page with forms needs to show a problem: the problem, the form it concerns
    (a page of several forms), each field's messages, and what was typed."""
    return {
        "problem": problem,
        "problem_form": problem_form,
        "errors": problem.by_field() if problem else {},
        "values": values or {},
    }


def token_of(request: Request) -> str:
    """The signed-in user's token, for the APIs (else to the sign-in page)."""
    token = signed_in(request).token
    if token is None:
        raise SignInRequired
    return token


def language_of(request: Request) -> str:
    return chosen(session_of(request).language, request.headers.get("accept-language"))


def keep(response: Response, request: Request, session: DeskSession | None = None) -> Response:
    """``response`` with the session cookie (``session``, else the request's)."""
    session = session or session_of(request)
    lifetime = MAX_SESSION.total_seconds()
    if session.expires is not None:
        lifetime = min(lifetime, (session.expires - datetime.now(UTC)).total_seconds())
    response.set_cookie(
        COOKIE,
        parts_of(request.app).sessions.seal(session),
        max_age=max(0, int(lifetime)),
        path="/",
        secure=request.url.scheme == "https",
        httponly=True,
        samesite=SAME_SITE,
    )
    return response


def local_path(value: str | None, default: str = "/") -> str:
    """A path of this desk to go on to, never another site's address."""
    if not value:
        return default
    parts = urlsplit(value)
    # a browser reads "/\host" as "//host": another site
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or parts.path[1:2] in ("/", "\\"):
        return default
    return parts.path + (f"?{parts.query}" if parts.query else "")


def redirect(request: Request, to: str, session: DeskSession | None = None) -> Response:
    return keep(RedirectResponse(to, status_code=303), request, session)


async def form_of(request: Request) -> Form:
    """The posted form, if it is one of this session's; else :class:`FormRejected`."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != FORM_TYPE:
        raise FormRejected(415, "not-a-form")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise FormRejected(413, "too-large")
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=100)
    except (UnicodeDecodeError, ValueError):
        raise FormRejected(400, "unreadable") from None
    form = Form(fields)
    session = session_of(request)
    if not parts_of(request.app).sessions.csrf_matches(session, form.get(CSRF_FIELD)):
        raise FormRejected(403, "forged")
    return form


def navigation(session: DeskSession, reporting_url: str) -> list[tuple[str, str, bool]]:
    """The menu: (path, label, whether the role may use it), by the permission matrix.
    The steering group's dashboard is reporting's own page (its figures are the
    statistics' one source, docs/adr/0049): the menu leads there."""
    role = session.actor.role if session.actor else None
    items = [
        ("/intake/queue", N_("Intake queue"), Permission.QUEUE_READ),
        ("/intake/referral", N_("New referral"), Permission.REFERRAL_REGISTER),
        ("/intake/import", N_("Import the info list"), Permission.REFERRAL_IMPORT),
        ("/intake/possible-duplicates", N_("Possible duplicates"), Permission.QUEUE_PICK),
        ("/intake/info-sessions", N_("Info sessions"), Permission.SESSION_READ),
        ("/guidance/waiting", N_("Waiting for a guide"), Permission.GUIDE_ASSIGN),
        ("/guidance/guides", N_("Guides and their areas"), Permission.GUIDES_MANAGE),
        ("/guidance/worklist", N_("My worklist"), Permission.PLAN_REVISE),
        ("/social/transfers", N_("Transfers"), Permission.TRANSFER_ACKNOWLEDGE),
        ("/audit/clients", N_("Client audit"), Permission.AUDIT_READ),
        (f"{reporting_url.rstrip('/')}/dashboard", N_("Dashboard"), Permission.STATISTICS_READ),
    ]
    return [(path, label, role is not None and allowed(p, role)) for path, label, p in items]


def may(permission: Permission) -> list[str]:
    """The roles that hold ``permission`` (for a page that says who may)."""
    return [role.value for role in MATRIX[permission]]


def page(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    title: str,
    status: int = 200,
) -> Response:
    """``template`` in the user's language, inside the layout, with the session kept."""
    parts: DeskParts = parts_of(request.app)
    session = session_of(request)
    language = language_of(request)
    html = parts.renderer.render(
        language,
        template,
        {
            "title": title,
            "session": session,
            "csrf": session.csrf,
            "here": local_path(request.url.path + (f"?{request.url.query}" if request.url.query else "")),
            "nav": navigation(session, parts.config.desk_reporting_url) if session.signed_in else [],
            **(context or {}),
        },
    )
    return keep(HTMLResponse(html, status_code=status), request)
