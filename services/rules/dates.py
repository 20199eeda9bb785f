"""Calendar arithmetic the rules need: months added the way Finnish deadlines count them."""

from __future__ import annotations

import calendar
from datetime import date


def add_months(start: date, months: int) -> date:
    """The same day of the month ``months`` calendar months after ``start``, clamped to month end.

    A deadline counted in months ends on the day with the start's day number; when the target
    month is shorter, it ends on that month's last day: 2015-11-30 + 3 months = 2016-02-29 and
    2015-01-31 + 1 month = 2015-02-28. ``months`` may be zero or negative.

    Weekends and public holidays are not moved here: domain.md says nothing about them, and
    the caller can shift a deadline that falls on a non-working day if its rule demands it.
    """
    index = start.year * 12 + (start.month - 1) + months
    year, month0 = divmod(index, 12)
    month = month0 + 1
    if not 1 <= year <= 9999:
        raise OverflowError(f"{start.isoformat()} + {months} months is outside the calendar")
    last_day = calendar.monthrange(year, month)[1]
    return date(year, month, min(start.day, last_day))


def as_of_for_year(year: int | None, today: date) -> date:
    """The day a year's figures are counted as of, when the caller names none.

    A past year is counted as of its last day (31 December): its deadlines and costs are
    those the year ended with, not those of a later day. The current year, a year still to
    come and all years together (``year`` None) are counted as of ``today``, the business
    date (:func:`runtime.clock.today`, today in Finland). The one place this default is
    written: every statistic that takes a year and an ``as_of``, and the dashboard, use it.
    """
    if year is not None and year < today.year:
        return date(year, 12, 31)
    return today
