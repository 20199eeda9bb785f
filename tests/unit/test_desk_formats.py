"""The desk shows an instant on the centre's clock, whatever zone the API wrote it in."""

from __future__ import annotations

from services.desk.i18n import Formats


def test_an_instant_the_api_gives_in_utc_is_shown_in_helsinki_time() -> None:
    # 16:50 UTC on a December day is 18:50 in Helsinki (UTC+2)
    shown = Formats("fi").datetime("2026-12-03T16:50:00Z")
    assert "18.50" in shown and "16.50" not in shown, shown


def test_a_wall_clock_time_without_a_zone_is_shown_as_it_is() -> None:
    assert "9.15" in Formats("fi").datetime("2026-12-03T09:15:00")
