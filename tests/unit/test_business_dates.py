"""Business dates: the day a year's figures are counted as of, when none is asked for."""

from __future__ import annotations

from datetime import date

from services.rules.dates import as_of_for_year

TODAY = date(2026, 12, 3)


def test_a_past_year_is_counted_as_of_its_last_day() -> None:
    assert as_of_for_year(2010, TODAY) == date(2010, 12, 31)
    assert as_of_for_year(2025, TODAY) == date(2025, 12, 31)


def test_the_current_year_is_counted_as_of_today() -> None:
    assert as_of_for_year(2026, TODAY) == TODAY
    assert as_of_for_year(2026, date(2026, 1, 1)) == date(2026, 1, 1)


def test_a_year_to_come_and_all_years_are_counted_as_of_today() -> None:
    assert as_of_for_year(2027, TODAY) == TODAY
    assert as_of_for_year(None, TODAY) == TODAY


def test_on_new_years_day_the_year_just_ended_is_counted_as_of_31_december() -> None:
    assert as_of_for_year(2026, date(2027, 1, 1)) == date(2026, 12, 31)
