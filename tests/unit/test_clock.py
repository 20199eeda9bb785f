"""The services' "today" is the Finnish business date, not the UTC date (no server needed)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from types import ModuleType
from typing import Any
from zoneinfo import ZoneInfoNotFoundError

import pytest

from runtime import clock
from runtime.auth import TokenIssuer
from runtime.config import ConfigError, Settings
from services.guidance import api as guidance_api
from services.guidance.api import cases as guidance_cases
from services.guidance.app import create_app as guidance_app
from services.intake import api as intake_api
from services.intake.api import referrals as intake_routes
from services.intake.app import create_app as intake_app
from services.reporting.app import create_app as reporting_app
from services.settings import ReittiConfig
from tests.support.factories import ADVISOR

SETTINGS = Settings(
    nats_url="nats://127.0.0.1:1",
    database_url="postgresql://127.0.0.1:1/x",
    jwt_public_key=TokenIssuer.generate().public_pem(),
)
#: 21:30 UTC on 14 June is 00:30 on 15 June in Helsinki (EEST, UTC+3)
LATE_EVENING_UTC = datetime(2024, 6, 14, 21, 30, tzinfo=UTC)
ROUTERS: list[tuple[ModuleType, Callable[[], Any]]] = [
    (intake_routes, intake_api.router),
    (guidance_cases, guidance_api.router),
]


@pytest.fixture
def late_evening(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "_configured", clock.DEFAULT_TIME_ZONE)
    monkeypatch.setattr(clock, "_utc_now", lambda: LATE_EVENING_UTC)


@pytest.mark.usefixtures("late_evening")
def test_the_business_date_is_the_date_in_helsinki_by_default() -> None:
    now = clock.now()
    assert now == LATE_EVENING_UTC, "the same instant"
    assert now.date() == date(2024, 6, 15)
    assert now.utcoffset() == timedelta(hours=3)
    assert str(now.tzinfo) == "Europe/Helsinki"
    assert clock.today() == date(2024, 6, 15)


@pytest.mark.usefixtures("late_evening")
@pytest.mark.parametrize(("api", "router"), ROUTERS)
def test_commands_decide_with_now_in_the_centres_zone(api: ModuleType, router: Callable[[], Any]) -> None:
    ctx = api.context(ADVISOR)
    assert ctx.now.tzinfo is not None
    assert ctx.now.date() == date(2024, 6, 15)


@pytest.mark.usefixtures("late_evening")
def test_the_zone_is_configuration() -> None:
    clock.use_zone(ReittiConfig.from_env({clock.TIME_ZONE_VARIABLE: "UTC"}).shared.time_zone)
    assert clock.today() == date(2024, 6, 14)
    with pytest.raises(ZoneInfoNotFoundError):
        clock.use_zone("Europe/Atlantis")
    assert clock.today() == date(2024, 6, 14), "an unknown zone changes nothing"


@pytest.mark.usefixtures("late_evening")
@pytest.mark.parametrize("create_app", [intake_app, guidance_app, reporting_app])
def test_the_composition_root_takes_the_zone_from_the_settings_and_refuses_an_unknown_one(
    monkeypatch: pytest.MonkeyPatch, create_app: Callable[..., Any]
) -> None:
    monkeypatch.setenv(clock.TIME_ZONE_VARIABLE, "Europe/Atlantis")
    with pytest.raises(ConfigError, match=clock.TIME_ZONE_VARIABLE):
        create_app(SETTINGS)
    monkeypatch.setenv(clock.TIME_ZONE_VARIABLE, "UTC")
    create_app(SETTINGS)
    assert clock.today() == date(2024, 6, 14)
