"""The one settings model (services/settings.py) and its generated table."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from reitti.config_docs import render_configuration
from runtime.config import ConfigError
from services.settings import SECTIONS, ReittiConfig, variable

ROOT = Path(__file__).resolve().parents[2]


def test_the_committed_table_of_settings_is_the_models() -> None:
    committed = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert committed == render_configuration(), "run `reitti config-docs`"


def test_the_readme_points_at_the_generated_table_and_keeps_no_copy_of_its_rows() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    names = [variable(f) for model in SECTIONS.values() for f in model.model_fields]
    assert len(names) == 41
    assert "(docs/configuration.md)" in readme
    assert [n for n in names if f"| `{n}` |" in readme] == [], "rows live in docs/configuration.md"


def test_the_defaults_are_those_of_before() -> None:
    config = ReittiConfig.from_env({})
    assert (config.shared.time_zone, config.shared.caseload_limit) == ("Europe/Helsinki", 60)
    assert config.intake.retention_sweep_hours == 24.0
    assert config.guidance.transfer_ack_days == 14
    assert (config.reporting.subsidy_daily_amount, config.reporting.min_cell) == (Decimal("25.63"), 3)
    assert config.reporting.dashboard_session_key is None


def test_each_section_reads_its_flat_variables() -> None:
    config = ReittiConfig.from_env(
        {
            "REITTI_TIME_ZONE": "UTC",
            "REITTI_CASELOAD_LIMIT": "40",
            "REITTI_RETENTION_SWEEP_HOURS": "0",
            "REITTI_TRANSFER_ACK_DAYS": "7",
            "REITTI_MIN_CELL": "5",
            "REITTI_SUBSIDY_DAILY_AMOUNT": "31.36",
            "REITTI_DASHBOARD_SESSION_KEY": "k" * 32,
        }
    )
    assert (config.shared.time_zone, config.shared.caseload_limit) == ("UTC", 40)
    assert config.intake.retention_sweep_hours == 0
    assert config.guidance.transfer_ack_days == 7
    assert (config.reporting.min_cell, config.reporting.subsidy_daily_amount) == (5, Decimal("31.36"))
    assert config.reporting.dashboard_session_key == "k" * 32
    assert "k" * 32 not in repr(config), "the session key stays out of repr"


def test_the_process_environment_is_read_only_when_no_mapping_is_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REITTI_MIN_CELL", "7")
    assert ReittiConfig.from_env().reporting.min_cell == 7
    assert ReittiConfig.from_env({}).reporting.min_cell == 3


@pytest.mark.parametrize(
    ("name", "wrong"),
    [
        ("REITTI_TIME_ZONE", "Europe/Atlantis"),
        ("REITTI_CASELOAD_LIMIT", "0"),
        ("REITTI_RETENTION_SWEEP_HOURS", "daily"),
        ("REITTI_TRANSFER_ACK_DAYS", "two weeks"),
        ("REITTI_MEASURE_CATALOGUE", "/nonexistent/catalogue.json"),
        ("REITTI_MEASURE_USES", "/nonexistent/uses.json"),
        ("REITTI_MIN_CELL", "0"),
        ("REITTI_SUBSIDY_DAILY_AMOUNT", "lots"),
        ("REITTI_DASHBOARD_SESSION_KEY", "short"),
    ],
)
def test_a_wrong_value_is_a_config_error_naming_its_variable(name: str, wrong: str) -> None:
    with pytest.raises(ConfigError, match=name):
        ReittiConfig.from_env({name: wrong})


def test_reitti_serve_stops_on_a_wrong_setting_before_the_server_starts(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import uvicorn

    from reitti.cli import main

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("uvicorn must not start on a wrong setting")

    monkeypatch.setattr(uvicorn, "run", never)
    monkeypatch.setenv("REITTI_NATS_URL", "nats://127.0.0.1:1")
    monkeypatch.setenv("REITTI_DATABASE_URL", "postgresql://127.0.0.1:1/x")
    monkeypatch.setenv("REITTI_MIN_CELL", "0")
    assert main(["serve", "reporting"]) == 2
    assert "REITTI_MIN_CELL" in capsys.readouterr().err
