"""The dashboard's session: a bearer token exchanged once, at sign-in, for a cookie.

A browser opens the dashboard by navigation and cannot send an ``Authorization`` header.
It used to take the token in its URL (``?token=``), where history, bookmarks, proxies'
logs and ``Referer`` headers keep it. Now the sign-in form (services/reporting/sign_in.py)
verifies the token and sets a cookie that holds a *session*, not the token: who the caller
is (``sub``, ``role``, ``org``) and when the session ends, signed with a key of the
service (itsdangerous, HMAC-SHA256). A stolen cookie opens the dashboard until it expires;
it is no bearer token for any other endpoint (docs/adr/0028).
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from fastapi import Request
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from contracts.base import Actor
from runtime.access import Credentials, Forbidden, Guard, Permission, allowed, authenticated
from services.settings import MIN_SESSION_KEY_LENGTH, checked_session_key

#: the session cookie, and the path it is sent to: the dashboard's pages only
COOKIE = "reitti_dashboard"
COOKIE_PATH = "/dashboard"
#: the sign-in form's anti-forgery cookie (login CSRF), sent to the sign-in form only
FORM_COOKIE = "reitti_dashboard_form"
SIGN_IN_PATH = "/dashboard/sign-in"
SIGN_OUT_PATH = "/dashboard/sign-out"
#: Lax, not Strict: a link to the dashboard from the intranet or an e-mail opens it signed
#: in. Nothing on the dashboard changes state on a GET, and a Lax cookie is not sent with a
#: cross-site POST, frame or fetch (docs/adr/0028).
SAME_SITE: Literal["lax", "strict"] = "lax"
#: no session outlives this, whatever the token's own expiry
MAX_SESSION = timedelta(hours=12)
#: how long a sign-in form may be filled in
FORM_LIFETIME = timedelta(hours=1)
#: an operator's key, shared by every replica of reporting; else a key per process
KEY_ENV = "REITTI_DASHBOARD_SESSION_KEY"
MIN_KEY_LENGTH = MIN_SESSION_KEY_LENGTH


class SignInRequired(Exception):
    """No valid dashboard session: a browser is sent to the sign-in page (303), an API
    client answered 401. ``reason`` is one of :data:`REASONS`' keys."""

    def __init__(self, reason: str) -> None:
        super().__init__(REASONS[reason])
        self.reason = reason


#: why the sign-in page is shown: fixed texts, so the page never echoes its address
REASONS: Mapping[str, str] = {
    "none": "sign in to open the dashboard",
    "token-in-url": "a token in the address is no longer accepted: paste it into the sign-in form "
    "instead (and clear it from your browser's history)",
    "expired": "your session has ended: sign in again",
    "invalid": "your session is not valid: sign in again",
    "signed-out": "you have signed out",
}


@dataclass(frozen=True)
class Session:
    actor: Actor
    expires: datetime


def session_key(configured: str | None) -> bytes:
    """The configured :data:`KEY_ENV` (checked by the settings model; several replicas must
    share it), else a random key of this process: a restart then signs everyone out, which
    costs one sign-in."""
    if not configured:
        return secrets.token_bytes(32)
    return checked_session_key(configured).encode()  # type: ignore[union-attr]


class DashboardSessions:
    """Signs and reads session cookies and sign-in forms with one key. The two kinds of
    value are signed with different salts: one can never pass for the other."""

    def __init__(self, key: bytes) -> None:
        self._sessions = URLSafeTimedSerializer(key, salt="reitti-dashboard-session")
        self._forms = URLSafeTimedSerializer(key, salt="reitti-dashboard-sign-in-form")

    def start(self, actor: Actor, token_expires: datetime, *, now: datetime | None = None) -> Session:
        """A session for ``actor``, ending with its token, and after :data:`MAX_SESSION` at most."""
        now = now or datetime.now(UTC)
        return Session(actor, min(token_expires, now + MAX_SESSION))

    def seal(self, session: Session) -> str:
        """The cookie's value."""
        actor = session.actor
        return self._sessions.dumps(
            {
                "sub": actor.person_id,
                "role": actor.role,
                "org": actor.organisation,
                "exp": int(session.expires.timestamp()),
            }
        )

    def open(self, value: str, *, now: datetime | None = None) -> Session:
        """The session a cookie holds, if this service signed it and it has not ended;
        else :class:`SignInRequired`."""
        now = now or datetime.now(UTC)
        try:
            # max_age bounds even a session whose "exp" someone got signed far ahead
            claims: Any = self._sessions.loads(value, max_age=int(MAX_SESSION.total_seconds()))
        except SignatureExpired:
            raise SignInRequired("expired") from None
        except BadSignature:
            raise SignInRequired("invalid") from None
        try:
            actor = Actor(person_id=claims["sub"], role=claims["role"], organisation=claims["org"])
            expires = datetime.fromtimestamp(int(claims["exp"]), UTC)
        except (KeyError, TypeError, ValueError):
            raise SignInRequired("invalid") from None
        if expires <= now:
            raise SignInRequired("expired")
        return Session(actor, expires)

    def form(self) -> tuple[str, str]:
        """A new sign-in form's pair: the value of its hidden field, and of
        :data:`FORM_COOKIE`. A sign-in is accepted only with both, from the same form."""
        nonce = secrets.token_urlsafe(24)
        return self._forms.dumps(nonce), nonce

    def form_matches(self, field: str | None, cookie: str | None) -> bool:
        """Whether a posted form is one this service gave this browser, and is recent.

        Login CSRF: another site's page could post its own token to the sign-in, and the
        victim would read the attacker's dashboard. It cannot send our Strict cookie with
        that post, nor sign a field of its own."""
        if not field or not cookie:
            return False
        try:
            nonce = self._forms.loads(field, max_age=int(FORM_LIFETIME.total_seconds()))
        except BadSignature:
            return False
        return isinstance(nonce, str) and hmac.compare_digest(nonce, cookie)


def sessions(request: Request) -> DashboardSessions:
    found: DashboardSessions = request.app.state.dashboard_sessions
    return found


def dashboard_viewer(permission: Permission) -> Guard:
    """A FastAPI dependency like :func:`runtime.access.require`: the caller of a bearer
    header (an API client), else of the session cookie (a browser), if their role holds
    ``permission``. A ``?token=`` in the URL is never read."""

    async def guard(request: Request, credentials: Credentials) -> Actor:
        if credentials is not None:
            actor = await authenticated(request, credentials)
        elif (value := request.cookies.get(COOKIE)) is not None:
            actor = sessions(request).open(value).actor
        elif "token" in request.query_params:
            raise SignInRequired("token-in-url")
        else:
            raise SignInRequired("none")
        # checked on every request, not only at sign-in: the matrix is the one place
        if not allowed(permission, actor.role):
            raise Forbidden(permission, actor)
        return actor

    guard.permission = permission  # type: ignore[attr-defined]
    return guard
