"""The desk's composition root (*kokoonpano*): the one place its parts are built.

:func:`bootstrap` reads the desk's section of the settings model (docs/adr/0040) and
builds the session sealer, the HTTP clients of the three services, the page renderer of
each language and, in embedded mode only, the development token signer. The app
(services/desk/app.py) calls it once; handlers get the parts through ``Depends``
(:data:`Parts`), like the other services' (docs/adr/0037-0039)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, FastAPI, Request

from runtime.auth import TokenIssuer
from runtime.flat_settings import ConfigError
from services.desk.apis import Apis
from services.desk.imports import ImportJobs
from services.desk.oidc import OpenIdSignIn
from services.desk.rendering import Renderer
from services.desk.session import DeskSessions, session_key
from services.settings import DeskSection, ReittiConfig


@dataclass(frozen=True)
class DeskParts:
    """Everything the desk's handlers use, built once."""

    config: DeskSection
    sessions: DeskSessions
    apis: Apis
    renderer: Renderer
    #: the centre's municipalities, as the referral form offers them
    municipalities: tuple[str, ...]
    caseload_limit: int
    #: signs development tokens for the development sign-in; None unless it is turned on
    issuer: TokenIssuer | None
    #: the OpenID Connect sign-in; None unless an issuer is configured
    oidc: OpenIdSignIn | None = None
    #: the info-list imports under way and their results (in memory only)
    imports: ImportJobs = field(default_factory=ImportJobs)


def bootstrap(options: ReittiConfig) -> DeskParts:
    """The desk's parts from the settings model ``options``."""
    desk = options.desk
    issuer = None
    if desk.desk_development_sign_in:
        key = options.operator.signing_key(options.operator.data_dir)
        if not key.is_file():
            raise ConfigError(
                f"REITTI_DESK_DEVELOPMENT_SIGN_IN is on but there is no signing key at {key}: "
                "set REITTI_JWT_PRIVATE_KEY (`reitti up` does)"
            )
        issuer = TokenIssuer.load(
            key, issuer=options.runtime.jwt_issuer, audience=options.runtime.jwt_audience
        )
    return DeskParts(
        config=desk,
        sessions=DeskSessions(session_key(desk.desk_session_key)),
        apis=Apis(
            {
                "intake": desk.desk_intake_url,
                "guidance": desk.desk_guidance_url,
                "reporting": desk.desk_reporting_url,
            }
        ),
        renderer=Renderer(options.runtime.municipalities),
        municipalities=options.runtime.municipalities,
        caseload_limit=options.shared.caseload_limit,
        issuer=issuer,
        oidc=OpenIdSignIn.of(desk),
    )


def parts_of(app: FastAPI) -> DeskParts:
    found: DeskParts = app.state.parts
    return found


def parts(request: Request) -> DeskParts:
    return parts_of(request.app)


Parts = Annotated[DeskParts, Depends(parts)]
