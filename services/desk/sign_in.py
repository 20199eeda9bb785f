"""Signing in to the desk, signing out, and choosing the language.

In embedded mode (``REITTI_DESK_DEVELOPMENT_SIGN_IN``, which `reitti up` turns on) the
sign-in page lets you choose a role, a person and an organisation, and signs a token with
`reitti up`'s development key, as `reitti token` does (the organisation by the same rule,
runtime/dev_tokens.py). Elsewhere it takes a token an identity provider issued, pasted
into the form, as the dashboard's sign-in does (docs/adr/0028). Either way the desk does
not judge the token: the services verify it on every call, and a token they refuse (401)
ends the session (services/desk/pages.py)."""

from __future__ import annotations

import logging
from datetime import timedelta

import httpx
import jwt
from fastapi import APIRouter, Request
from fastapi.responses import Response

from contracts.base import Actor
from contracts.names import TE_OFFICE, social_services_of
from runtime.dev_tokens import token_organisation
from runtime.flat_settings import ConfigError
from runtime.roles import Role
from services.desk import labels
from services.desk.bootstrap import parts_of
from services.desk.i18n import LANGUAGES, N_
from services.desk.oidc import SignInFailed
from services.desk.web import form_of, local_path, page, redirect, session_of

log = logging.getLogger("reitti.desk")
#: how long a development token lasts
DEVELOPMENT_TOKEN_LIFETIME = timedelta(hours=8)
#: the people a development sign-in offers to choose from (any id may be typed)
ROLES_OFFERED = [r for r in Role if r is not Role.PARTNER_SYSTEM]


def organisations(municipalities: tuple[str, ...]) -> list[str]:
    return ["centre", TE_OFFICE, *social_services_of(municipalities)]


def organisation_names(municipalities: tuple[str, ...]) -> dict[str, tuple[str, dict[str, str]]]:
    """What the sign-in calls each organisation: code -> (label to translate, its values)."""
    named = {code: (label, values) for code, label, values in labels.organisations(municipalities)}
    return {"centre": (N_("the centre"), {}), **named}


def _actor_of(token: str) -> Actor | None:
    """Who a token names (its signature is the services' to check, on every call)."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
        return Actor(person_id=str(claims["sub"]), role=str(claims["role"]), organisation=str(claims["org"]))
    except (jwt.PyJWTError, KeyError, ValueError, TypeError):
        return None


def _form(
    request: Request,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
    message: str | None = None,
) -> Response:
    parts = parts_of(request.app)
    return page(
        request,
        "sign_in.html",
        {
            "development": parts.issuer is not None,
            "oidc": parts.oidc is not None,
            "roles": ROLES_OFFERED,
            "organisations": organisations(parts.municipalities),
            "organisation_names": organisation_names(parts.municipalities),
            "errors": errors or {},
            "values": values or {},
            "message": message,
            "next": local_path(request.query_params.get("next"), "/"),
        },
        title=N_("Sign in"),
        status=status,
    )


def callback_url(request: Request) -> str:
    """Where the provider sends the browser back: this desk's callback, as the browser
    reached the desk (behind a proxy, as uvicorn's proxy headers report it)."""
    return str(request.url_for("provider_answered"))


def router() -> APIRouter:
    api = APIRouter()

    @api.get("/sign-in", include_in_schema=False)
    async def sign_in_page(request: Request) -> Response:
        reason = request.query_params.get("reason")
        message = {
            "signed-out": N_("You have signed out."),
            "ended": N_("Your session has ended: sign in again."),
        }
        return _form(request, message=message.get(reason or ""))

    @api.post("/sign-in", include_in_schema=False)
    async def sign_in(request: Request) -> Response:
        parts = parts_of(request.app)
        form = await form_of(request)
        session = session_of(request)
        errors: dict[str, str] = {}
        if parts.issuer is not None:
            role, person = form.get("role", ""), form.get("person", "")
            if role not in {r.value for r in ROLES_OFFERED}:
                errors["role"] = N_("Choose a role.")
            if not person:
                errors["person"] = N_("Give your user id.")
            organisation = ""
            if not errors:
                try:
                    organisation = token_organisation(
                        role, form.get("organisation") or None, parts.municipalities
                    )
                except ConfigError:
                    errors["organisation"] = N_("Choose the organisation this role works for.")
            if errors:
                return _form(request, errors=errors, values=form, status=422)
            token = parts.issuer.issue(
                person_id=person, role=role, organisation=organisation, ttl=DEVELOPMENT_TOKEN_LIFETIME
            )
        else:
            token = form.get("token", "")
            if not token:
                return _form(request, errors={"token": N_("Paste your token.")}, status=422)
        actor = _actor_of(token)
        if actor is None:
            return _form(request, errors={"token": N_("This is not a token.")}, status=401)
        signed = parts.sessions.signed_in(session, token, actor)
        return redirect(request, local_path(form.get("next"), "/"), signed)

    @api.get("/sign-in/oidc", include_in_schema=False)
    async def sign_in_with_provider(request: Request) -> Response:
        """To the identity provider (authorization code with PKCE), keeping what its
        answer must match in the session."""
        parts = parts_of(request.app)
        if parts.oidc is None:
            return page(request, "not_found.html", {}, title=N_("No such page"), status=404)
        try:
            url, pending = await parts.oidc.start(callback_url(request))
        except (httpx.HTTPError, ValueError, KeyError):
            log.exception("the identity provider %s did not answer", parts.oidc.issuer)
            return _form(
                request, message=N_("The identity provider does not answer. Try again later."), status=503
            )
        session = session_of(request).with_pending(
            {**pending, "next": local_path(request.query_params.get("next"))}
        )
        return redirect(request, url, session)

    @api.get("/sign-in/oidc/callback", include_in_schema=False)
    async def provider_answered(request: Request) -> Response:
        """The provider's answer: the code exchanged for the tokens, the ID token checked,
        and the session signed in with the token the services take."""
        parts = parts_of(request.app)
        session = session_of(request)
        pending, code, state = (
            session.pending,
            request.query_params.get("code"),
            request.query_params.get("state"),
        )
        cleared = session.with_pending(None)
        if parts.oidc is None or pending is None or not code or not state:
            return redirect(request, "/sign-in?reason=refused", cleared)
        try:
            token = await parts.oidc.finish(callback_url(request), pending, code, state)
        except SignInFailed as exc:
            log.warning("an OpenID Connect sign-in was refused: %s", exc)
            return redirect(request, "/sign-in?reason=refused", cleared)
        actor = _actor_of(token)
        if actor is None:
            log.warning("the provider's %s names no role and organisation", parts.oidc.forward)
            return redirect(request, "/sign-in?reason=refused", cleared)
        signed = parts.sessions.signed_in(cleared, token, actor)
        return redirect(request, local_path(pending.get("next"), "/"), signed)

    @api.post("/sign-out", include_in_schema=False)
    async def sign_out(request: Request) -> Response:
        await form_of(request)
        parts = parts_of(request.app)
        # a new session: nothing of the old one (its token, its anti-forgery value) is kept
        fresh = parts.sessions.new(session_of(request).language)
        return redirect(request, "/sign-in?reason=signed-out", fresh)

    @api.post("/language", include_in_schema=False)
    async def language(request: Request) -> Response:
        form = await form_of(request)
        chosen = form.get("language", "")
        session = session_of(request)
        if chosen in LANGUAGES:
            session = session.with_language(chosen)
        return redirect(request, local_path(form.get("next"), "/"), session)

    return api
