"""``reitti nats-config`` writes the committed files of deploy/nats (reitti/cli/broker.py)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from reitti.cli import main

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "nats"


def test_accounts_are_the_committed_accounts_conf(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REITTI_NAMESPACE", raising=False)
    monkeypatch.delenv("REITTI_MUNICIPALITIES", raising=False)
    assert main(["nats-config", "accounts"]) == 0
    assert capsys.readouterr().out == (DEPLOY / "accounts.conf").read_text(encoding="utf-8")


def test_dev_passwords_are_the_committed_file_and_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REITTI_MUNICIPALITIES", raising=False)
    out, env = tmp_path / "passwords.inc", tmp_path / ".env"
    assert main(["nats-config", "passwords", "--dev", "--output", str(out), "--env-file", str(env)]) == 0
    assert out.read_text(encoding="utf-8") == (DEPLOY / "passwords.inc").read_text(encoding="utf-8")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert "REITTI_NATS_INTERNAL_PASSWORD=dev-only-internal\n" in env.read_text(encoding="utf-8")


def test_a_clashing_municipality_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["nats-config", "--municipalities", "TE Office", "accounts"]) == 2
    assert "reitti nats-config:" in capsys.readouterr().err
