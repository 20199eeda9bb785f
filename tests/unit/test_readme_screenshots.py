"""The README shows the desk with the pictures its browser test makes, and only those."""

from __future__ import annotations

import re
from pathlib import Path

from tests.e2e.test_desk_browser import README_SCREENSHOTS, SHOTS

ROOT = Path(__file__).resolve().parents[2]


def test_the_readme_shows_every_screenshot_the_browser_test_makes_and_no_other() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shown = set(re.findall(r"\(docs/desk/([^)]+\.png)\)", readme))
    assert shown == set(SHOTS.values())
    assert {p.name for p in README_SCREENSHOTS.glob("*.png")} == shown, "no picture left behind"
