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
