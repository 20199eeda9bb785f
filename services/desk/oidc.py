"""Signing in to the desk through OpenID Connect: the authorization-code flow with PKCE
(S256) against the configured issuer, with Authlib's httpx client for the flow and
joserfc (Authlib's JOSE library, which it depends on) for the ID token; nothing of the
protocol is hand-written (docs/adr/0045).

The flow's state, nonce and code verifier wait in the browser's sealed session between
the redirect to the provider and its answer (services/desk/session.py), so a callback
that does not come back to the browser that started it is refused. The desk then keeps
the token ``REITTI_DESK_OIDC_FORWARD`` names, and sends it to the services, which
verify it themselves on every call."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from typing import Any

import httpx
from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.httpx_client import AsyncOAuth2Client
from authlib.oauth2 import OAuth2Error
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from services.settings import DeskSection

#: seconds of clock difference allowed between the desk and the provider
LEEWAY = 60


class SignInFailed(Exception):
    """The provider's answer does not sign anyone in (why, for the log; the page says less)."""


@dataclass
class OpenIdSignIn:
    """The desk's client of one OpenID provider."""

    issuer: str
    client_id: str
    client_secret: str | None
    scope: str
    forward: str
    _metadata: dict[str, Any] | None = field(default=None, repr=False)

    @classmethod
    def of(cls, desk: DeskSection) -> OpenIdSignIn | None:
        if desk.desk_oidc_issuer is None or desk.desk_oidc_client_id is None:
            return None
        return cls(
            issuer=desk.desk_oidc_issuer.rstrip("/"),
            client_id=desk.desk_oidc_client_id,
            client_secret=desk.desk_oidc_client_secret,
            scope=desk.desk_oidc_scope,
            forward=desk.desk_oidc_forward,
        )

    async def metadata(self) -> dict[str, Any]:
        """The provider's discovery document, read once."""
        if self._metadata is None:
            async with httpx.AsyncClient(timeout=10) as client:
                found = await client.get(f"{self.issuer}/.well-known/openid-configuration")
                found.raise_for_status()
                self._metadata = found.json()
        return self._metadata

    def _client(self, redirect_uri: str) -> AsyncOAuth2Client:
        return AsyncOAuth2Client(
            client_id=self.client_id,
            client_secret=self.client_secret,
            scope=self.scope,
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
            token_endpoint_auth_method="client_secret_basic" if self.client_secret else "none",
        )

    async def start(self, redirect_uri: str) -> tuple[str, dict[str, str]]:
        """Where to send the browser, and what the session keeps until it comes back."""
        metadata = await self.metadata()
        verifier, nonce = generate_token(64), generate_token(24)
        async with self._client(redirect_uri) as client:
            url, state = client.create_authorization_url(
                metadata["authorization_endpoint"], code_verifier=verifier, nonce=nonce
            )
        return url, {"state": state, "nonce": nonce, "verifier": verifier}

    async def finish(self, redirect_uri: str, pending: dict[str, str], code: str, state: str) -> str:
        """The token to forward, once the provider's code is exchanged (with the verifier)
        and its ID token verified (signature, issuer, audience, expiry, nonce)."""
        if not hmac.compare_digest(pending.get("state", "").encode(), state.encode()):
            raise SignInFailed("the state does not match the session's")
        metadata = await self.metadata()
        try:
            async with self._client(redirect_uri) as client:
                token = await client.fetch_token(
                    metadata["token_endpoint"], code=code, code_verifier=pending["verifier"]
                )
                keys = (await client.get(metadata["jwks_uri"])).json()
        except (OAuth2Error, OAuthError, httpx.HTTPError, ValueError) as exc:
            raise SignInFailed(f"the code was not exchanged: {exc}") from None
        if "id_token" not in token or self.forward not in token:
            raise SignInFailed("the provider's answer has no id_token or no " + self.forward)
        try:
            # signature, then issuer, audience, expiry and nonce (OpenID Connect Core 3.1.3.7)
            verified = jwt.decode(token["id_token"], KeySet.import_key_set(keys))
            jwt.JWTClaimsRegistry(
                leeway=LEEWAY,
                iss={"essential": True, "value": metadata.get("issuer", self.issuer)},
                aud={"essential": True, "value": self.client_id},
                exp={"essential": True},
                nonce={"essential": True, "value": pending["nonce"]},
            ).validate(verified.claims)
        except (JoseError, ValueError) as exc:
            raise SignInFailed(f"the ID token is not valid: {exc}") from None
        return str(token[self.forward])
