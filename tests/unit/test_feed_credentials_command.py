"""``reitti feed-credentials ORG`` reads the embedded broker's credentials file
(reitti/cli/operate.py, runtime/broker_credentials.py) and prints one partner's access."""

from __future__ import annotations

from pathlib import Path

import pytest

from reitti.cli import main
from runtime.broker_credentials import BrokerCredentials


def write_credentials(data_dir: Path) -> None:
    BrokerCredentials(
        passwords={
            "internal": "internal-pw-1",
            "feed-mikkeli": "mikkeli-pw-1",
            "feed-te-office": "te-pw-123",
        },
        port=14222,
        feeds=("te-office", "mikkeli"),
    ).write(data_dir / "nats" / "credentials.json")


def test_prints_the_partners_user_consumer_and_filter(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_credentials(tmp_path)
    assert main(["feed-credentials", "Mikkeli", "--data-dir", str(tmp_path), "--url"]) == 0
    out = capsys.readouterr().out
    assert "organisation: social_services:mikkeli\n" in out
    assert "user:         feed-mikkeli\n" in out
    assert "password:     mikkeli-pw-1\n" in out
    assert "servers:      nats://127.0.0.1:14222\n" in out
    assert "subjects:     reitti.feeds.mikkeli.>\n" in out
    assert "url:          nats://feed-mikkeli:mikkeli-pw-1@127.0.0.1:14222\n" in out
    assert "internal-pw-1" not in out


def test_an_organisation_without_a_feed_or_no_file_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["feed-credentials", "mikkeli", "--data-dir", str(tmp_path)]) == 2
    assert "has `reitti up` run" in capsys.readouterr().err
    write_credentials(tmp_path)
    assert main(["feed-credentials", "puumala", "--data-dir", str(tmp_path)]) == 2
    assert "has no feed here" in capsys.readouterr().err
