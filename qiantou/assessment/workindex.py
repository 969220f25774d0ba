"""Working-day arithmetic in O(1) per question, for reports over tens of thousands of items.

:meth:`WorkingCalendar.working_days_between` walks day by day; a ledger of 20,000 tasks asking "how many
working days overdue" would walk millions of days. :class:`WorkdayIndex` counts the working days of a
span once (a prefix sum) and answers every later question by one subtraction.
"""

from __future__ import annotations

import datetime as dt

from qiantou.workdays import CalendarYearNotLoaded, WorkingCalendar

ONE_DAY = dt.timedelta(days=1)


class WorkdayIndex:
    """Prefix counts of working days over the loaded years of ``calendar``.

    ``between(a, b)`` equals ``calendar.working_days_between(a, b)`` for dates in loaded years; outside
    them it raises :class:`~qiantou.workdays.CalendarYearNotLoaded` like the calendar does.
    """

    def __init__(self, calendar: WorkingCalendar, years: list[int] | None = None) -> None:
        self.calendar = calendar
        loaded = sorted(years if years is not None else getattr(calendar, "years", []))
        self._count: dict[dt.date, int] = {}
        total = 0
        for year in loaded:
            day = dt.date(year, 1, 1)
            while day.year == year:
                try:
                    if calendar.is_working_day(day):
                        total += 1
                except CalendarYearNotLoaded:
                    break
                self._count[day] = total
                day += ONE_DAY

    def _at(self, day: dt.date) -> int:
        try:
            return self._count[day]
        except KeyError:
            raise CalendarYearNotLoaded(day.year) from None

    def between(self, start: dt.date, end: dt.date) -> int:
        """Working days d with start < d ≤ end (negative when end < start)."""
        return self._at(end) - self._at(start)

    def overdue(self, due: dt.date, today: dt.date) -> int | None:
        """Working days past ``due`` on ``today``: 0 when not overdue, None when a year is not loaded."""
        if today <= due:
            return 0
        try:
            return self.between(due, today)
        except CalendarYearNotLoaded:
            return None
