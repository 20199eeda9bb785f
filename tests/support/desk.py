"""The staff desk for tests: its settings (the development sign-in, signed with the test
session's key, services/desk/bootstrap.py) and intake served over real HTTP for it."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from runtime.config import Settings
from services.desk.app import create_app as desk_app
from services.intake.app import create_app as intake_app
from services.settings import ReittiConfig
from tests.support.auth import ISSUER
from tests.support.served import serving


def signing_key(directory: Path) -> Path:
    """The tests' token key as a PEM file, as `reitti up` keeps its development key."""
    path = directory / "token-signing.key"
    path.write_bytes(
        ISSUER.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return path


def desk_options(intake_url: str, key: Path, **more: str) -> ReittiConfig:
    return ReittiConfig.from_env(
        {
            "REITTI_DESK_INTAKE_URL": intake_url,
            "REITTI_DESK_DEVELOPMENT_SIGN_IN": "true",
            "REITTI_JWT_PRIVATE_KEY": str(key),
            **more,
        }
    )


@contextlib.asynccontextmanager
async def desk_over_intake(settings: Settings, directory: Path) -> AsyncIterator[tuple[str, str]]:
    """Intake served over HTTP, and the desk calling it: both base URLs."""
    async with (
        serving(intake_app(settings)) as intake,
        serving(desk_app(desk_options(intake, signing_key(directory)))) as desk,
    ):
        yield desk, intake


@contextlib.asynccontextmanager
async def desk_over_services(settings: Settings, directory: Path) -> AsyncIterator[dict[str, str]]:
    """Intake, guidance and reporting served over HTTP on the test's broker and database
    (their consumers running), and the desk calling all three: every base URL by name."""
    from services.guidance.app import create_app as guidance_app
    from services.reporting.app import create_app as reporting_app

    async with (
        serving(intake_app(settings)) as intake,
        serving(guidance_app(settings)) as guidance,
        serving(reporting_app(settings)) as reporting,
    ):
        options = desk_options(
            intake,
            signing_key(directory),
            REITTI_DESK_GUIDANCE_URL=guidance,
            REITTI_DESK_REPORTING_URL=reporting,
        )
        async with serving(desk_app(options)) as desk:
            yield {"desk": desk, "intake": intake, "guidance": guidance, "reporting": reporting}
