"""``reitti screenshot`` (how docs/dashboard.png is made): its arguments, and a clear
refusal without the system's chromium."""

from __future__ import annotations

from pathlib import Path

import pytest

from reitti.cli import build_parser
from reitti.screenshot import ScreenshotError, main
from runtime.auth import TokenIssuer


def test_the_command_takes_the_reporting_url_year_municipality_and_output() -> None:
    args = build_parser().parse_args(
        [
            "screenshot",
            "--reporting-url",
            "http://127.0.0.1:28425",
            "--year",
            "2010",
            "--municipality",
            "Mikkeli",
        ]
    )
    assert (args.reporting_url, args.year, args.municipality) == ("http://127.0.0.1:28425", 2010, "Mikkeli")
    assert args.output == Path("docs/dashboard.png") and args.chromium == Path("/usr/bin/chromium")


def test_without_chromium_it_says_so_and_writes_nothing(tmp_path: Path) -> None:
    output = tmp_path / "shots" / "dashboard.png"
    with pytest.raises(ScreenshotError, match=r"no chromium at .*apt-get install chromium"):
        main("http://127.0.0.1:9", TokenIssuer.generate(), output, chromium=tmp_path / "no-chromium")
    assert not output.parent.exists()
