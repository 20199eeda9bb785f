"""The desk's OpenID Connect sign-in (services/desk/oidc.py) against a real OpenID
provider (oidc-provider-mock: Authlib's provider on werkzeug, on a port of its own): the
browser is sent to the provider with a PKCE challenge (S256), a state and a nonce; the
provider's answer comes back to the browser that started it, the code is exchanged with
the verifier, the ID token checked, and intake, which trusts the provider's key, answers
the desk with the user's own token. A callback with another state signs nobody in."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from joserfc.jwk import RSAKey

from services.desk.app import create_app as desk_app
from services.intake.app import create_app as intake_app
from services.settings import ReittiConfig
from tests.support.served import serving

pytestmark = pytest.mark.integration

CLIENT_ID = "reitti-desk"


@pytest.fixture
def provider() -> Iterator[str]:
    from oidc_provider_mock import User, run_server_in_thread

    advisor = User(sub="advisor-5", claims={"role": "employment_advisor", "org": "te-office"})
    with run_server_in_thread(require_nonce=True, user_claims=[advisor]) as server:
        yield f"http://localhost:{server.server_port}"


def provider_key(issuer: str) -> str:
    keys = httpx.get(f"{issuer}/jwks").json()["keys"]
    return "".join(RSAKey.import_key(key).as_pem().decode() for key in keys)


async def test_a_user_signs_in_through_the_provider_and_the_services_take_their_token(
    settings, provider: str, tmp_path: Path
) -> None:
    # the services trust the provider: its key, its issuer, and the desk as the audience
    trusting = settings.with_(
        jwt_public_key=provider_key(provider), jwt_issuer=provider, jwt_audience=CLIENT_ID
    )
    async with serving(intake_app(trusting)) as intake:
        options = ReittiConfig.from_env(
            {
                "REITTI_DESK_INTAKE_URL": intake,
                "REITTI_DESK_OIDC_ISSUER": provider,
                "REITTI_DESK_OIDC_CLIENT_ID": CLIENT_ID,
                "REITTI_DESK_OIDC_CLIENT_SECRET": "the-desk-s-secret",
                "REITTI_DESK_OIDC_FORWARD": "id_token",
            }
        )
        async with (
            serving(desk_app(options)) as desk_url,
            httpx.AsyncClient(base_url=desk_url, headers={"Accept-Language": "en"}) as desk,
            httpx.AsyncClient() as at_provider,
        ):
            page = await desk.get("/sign-in")
            assert 'data-testid="oidc"' in page.text and 'name="role"' not in page.text
            to_provider = await desk.get("/sign-in/oidc", params={"next": "/intake/queue"})
            assert to_provider.status_code == 303
            authorize = to_provider.headers["location"]
            asked = parse_qs(urlsplit(authorize).query)
            assert authorize.startswith(f"{provider}/oauth2/authorize?")
            assert asked["code_challenge_method"] == ["S256"] and len(asked["code_challenge"][0]) == 43
            assert asked["client_id"] == [CLIENT_ID] and asked["response_type"] == ["code"]
            assert asked["redirect_uri"] == [f"{desk_url}/sign-in/oidc/callback"]
            assert asked["state"][0] and asked["nonce"][0]

            # the user chooses who they are at the provider, which sends them back
            answered = await at_provider.post(authorize, data={"sub": "advisor-5"})
            assert answered.status_code == 302, answered.text
            callback = answered.headers["location"]
            assert callback.startswith(f"{desk_url}/sign-in/oidc/callback?")

            # another browser (no session of this sign-in) cannot use the answer
            async with httpx.AsyncClient(base_url=desk_url) as other:
                stolen = await other.get(callback)
                assert stolen.headers["location"] == "/sign-in?reason=refused"
            forged = await desk.get(re.sub(r"state=[^&]+", "state=forged", callback))
            assert forged.headers["location"] == "/sign-in?reason=refused"

            # the refused one spent the pending sign-in: start again, and come back
            to_provider = await desk.get("/sign-in/oidc", params={"next": "/intake/queue"})
            answered = await at_provider.post(to_provider.headers["location"], data={"sub": "advisor-5"})
            signed = await desk.get(answered.headers["location"])
            assert signed.status_code == 303 and signed.headers["location"] == "/intake/queue"
            queue = await desk.get("/intake/queue")
            assert queue.status_code == 200, queue.text
            assert "advisor-5, employment advisor" in queue.text
            assert 'data-testid="queue-empty"' in queue.text, "intake verified the provider's token"
