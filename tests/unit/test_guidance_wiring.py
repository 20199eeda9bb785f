"""Guidance's composition root and its routes' rules of access (no server needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from runtime.access import MATRIX, Permission, Role, allowed
from runtime.auth import TokenIssuer
from runtime.config import ConfigError, Settings
from runtime.routes import endpoints
from runtime.sql import SqlStatements
from services.guidance.app import create_app
from services.guidance.bootstrap import guidance_settings
from services.guidance.domain.plan import DEFAULT_MEASURE_CATALOGUE, DEFAULT_MEASURE_USES
from services.guidance.domain.transfer import DEFAULT_ACKNOWLEDGEMENT_DAYS
from services.guidance.queries import GuidanceReadSql
from services.guidance.repository import GuidanceSql
from services.rules.caseload import CASELOAD_LIMIT
from services.settings import ReittiConfig

SETTINGS = Settings(
    nats_url="nats://127.0.0.1:1",
    database_url="postgresql://127.0.0.1:1/x",
    jwt_public_key=TokenIssuer.generate().public_pem(),
)


def test_only_the_nurse_records_a_health_check_and_the_matrix_holds_that_rule() -> None:
    """The domain keeps no copy of the rule: the route's permission is the one place."""
    routes = {(e.method, e.path): e.permission for e in endpoints("guidance", create_app(SETTINGS))}
    assert routes[("POST", "/cases/{client_id}/health-check")] == Permission.HEALTH_RECORD
    assert MATRIX[Permission.HEALTH_RECORD] == frozenset({Role.NURSE})
    assert not allowed(Permission.HEALTH_RECORD, "service_guide")


def test_guidance_settings_default_and_read_from_the_environment(tmp_path: Path) -> None:
    assert guidance_settings(ReittiConfig.from_env({})) == guidance_settings(
        ReittiConfig.from_env({"REITTI_TRANSFER_ACK_DAYS": " "})
    )
    defaults = guidance_settings(ReittiConfig.from_env({}))
    assert defaults.measure_catalogue == DEFAULT_MEASURE_CATALOGUE
    assert defaults.measure_uses == DEFAULT_MEASURE_USES
    assert list(DEFAULT_MEASURE_USES) == list(DEFAULT_MEASURE_CATALOGUE), "each measure says when to use it"
    assert (defaults.acknowledgement_days, defaults.caseload_limit) == (
        DEFAULT_ACKNOWLEDGEMENT_DAYS,
        CASELOAD_LIMIT,
    )
    catalogue = tmp_path / "catalogue.json"
    catalogue.write_text('{"m": "Mentoring"}', encoding="utf-8")
    uses = tmp_path / "uses.json"
    uses.write_text('{"m": "When a mentor helps"}', encoding="utf-8")
    read = guidance_settings(
        ReittiConfig.from_env(
            {
                "REITTI_MEASURE_CATALOGUE": str(catalogue),
                "REITTI_MEASURE_USES": str(uses),
                "REITTI_TRANSFER_ACK_DAYS": "7",
                "REITTI_CASELOAD_LIMIT": "40",
            }
        )
    )
    assert (dict(read.measure_catalogue), read.acknowledgement_days, read.caseload_limit) == (
        {"m": "Mentoring"},
        7,
        40,
    )
    assert dict(read.measure_uses) == {"m": "When a mentor helps"}


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"REITTI_TRANSFER_ACK_DAYS": "two weeks"}, "REITTI_TRANSFER_ACK_DAYS"),
        ({"REITTI_MEASURE_CATALOGUE": "/nonexistent/catalogue.json"}, "REITTI_MEASURE_CATALOGUE"),
        ({"REITTI_MEASURE_USES": "/nonexistent/uses.json"}, "REITTI_MEASURE_USES"),
    ],
)
def test_a_wrong_guidance_setting_stops_the_start(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], message: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=message):
        create_app(SETTINGS)


@pytest.mark.parametrize("statements", [GuidanceSql, GuidanceReadSql])
def test_guidance_statements_name_the_schema_they_are_built_for(statements: type[SqlStatements]) -> None:
    built = statements("elsewhere")
    for name in statements.templates():
        text: str = getattr(built, name)
        assert "elsewhere." in text and "guidance." not in text, name
