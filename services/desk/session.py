"""The desk's session (*istunto*): one sealed, HttpOnly, SameSite cookie per browser.

The cookie holds the signed-in user's token (the desk calls the APIs with it: it has no
power of its own), the language chosen and the session's anti-forgery value. It is
sealed with Fernet (AES-128-CBC and HMAC-SHA256, from ``cryptography``): a browser
cannot read the token out of it, nor change a byte of it. A visitor who has not signed
in gets a session too, with no token, so the sign-in form and the language switcher are
protected against forgery like every other form (docs/adr/0045).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import jwt
from cryptography.fernet import Fernet, InvalidToken

from contracts.base import Actor

COOKIE = "reitti_desk"
#: Lax: a link to the desk from an e-mail opens it signed in; no GET changes anything,
#: and every POST carries the session's anti-forgery field as well
SAME_SITE: Literal["lax"] = "lax"
#: no session outlives this, whatever its token's own expiry
MAX_SESSION = timedelta(hours=12)
#: the hidden field of every form
CSRF_FIELD = "csrf"


@dataclass(frozen=True)
class DeskSession:
    """Who is signed in (None before sign-in), with which token, in which language."""

    csrf: str
    language: str | None = None
    token: str | None = None
    actor: Actor | None = None
    expires: datetime | None = None
    #: an OpenID Connect sign-in under way: its state, nonce and code verifier
    pending: dict[str, str] | None = None

    @property
    def signed_in(self) -> bool:
        return self.token is not None and self.actor is not None

    def with_language(self, language: str) -> DeskSession:
        return replace(self, language=language)

    def with_pending(self, pending: dict[str, str] | None) -> DeskSession:
        return replace(self, pending=pending)


def session_key(configured: str | None) -> bytes:
    """A Fernet key from ``REITTI_DESK_SESSION_KEY`` (checked by the settings model), else
    a random key of this process: a restart then signs everyone out."""
    if not configured:
        return Fernet.generate_key()
    return base64.urlsafe_b64encode(hashlib.sha256(configured.encode()).digest())


def token_expiry(token: str) -> datetime:
    """The ``exp`` of a token the desk just signed or received (the services verify it)."""
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return datetime.fromtimestamp(int(claims["exp"]), UTC)


class DeskSessions:
    """Seals and opens the session cookie with one key."""

    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)

    def new(self, language: str | None = None) -> DeskSession:
        return DeskSession(csrf=secrets.token_urlsafe(24), language=language)

    def signed_in(
        self, session: DeskSession, token: str, actor: Actor, *, now: datetime | None = None
    ) -> DeskSession:
        """``session`` signed in as ``actor`` with ``token``: a new anti-forgery value (no
        value seen before sign-in outlives it), ending with the token."""
        now = now or datetime.now(UTC)
        expires = min(token_expiry(token), now + MAX_SESSION)
        return DeskSession(
            csrf=secrets.token_urlsafe(24),
            language=session.language,
            token=token,
            actor=actor,
            expires=expires,
        )

    def seal(self, session: DeskSession) -> str:
        actor = session.actor
        payload = {
            "csrf": session.csrf,
            "lang": session.language,
            "token": session.token,
            "actor": None
            if actor is None
            else {"sub": actor.person_id, "role": actor.role, "org": actor.organisation},
            "exp": None if session.expires is None else int(session.expires.timestamp()),
            "pending": session.pending,
        }
        return self._fernet.encrypt(json.dumps(payload).encode()).decode()

    def open(self, value: str | None, *, now: datetime | None = None) -> DeskSession | None:
        """The session a cookie holds; None if there is none, it was not sealed here, or it
        has ended (the caller then starts a new one)."""
        if not value:
            return None
        now = now or datetime.now(UTC)
        try:
            raw = self._fernet.decrypt(value.encode(), ttl=int(MAX_SESSION.total_seconds()))
            data = json.loads(raw)
            actor = None
            if data["actor"] is not None:
                a = data["actor"]
                actor = Actor(person_id=a["sub"], role=a["role"], organisation=a["org"])
            expires = None if data["exp"] is None else datetime.fromtimestamp(int(data["exp"]), UTC)
            pending = data.get("pending")
            session = DeskSession(
                csrf=str(data["csrf"]),
                language=data["lang"],
                token=data["token"],
                actor=actor,
                expires=expires,
                pending={str(k): str(v) for k, v in pending.items()} if isinstance(pending, dict) else None,
            )
        except (InvalidToken, ValueError, KeyError, TypeError):
            return None
        if session.expires is not None and session.expires <= now:
            return None
        return session

    @staticmethod
    def csrf_matches(session: DeskSession, posted: str | None) -> bool:
        """Whether a posted form carries this session's anti-forgery value."""
        return posted is not None and hmac.compare_digest(session.csrf.encode(), posted.encode())
