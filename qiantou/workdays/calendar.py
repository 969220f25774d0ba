"""Working-day arithmetic on the official calendar (法定节假日 and 调休).

Source of the rule: the State Council General Office's yearly notice on holiday arrangements
(国务院办公厅关于××年部分节假日安排的通知). A weekday is a working day unless it is a statutory
holiday (or a rest day moved there); a Saturday or Sunday is a rest day unless the notice makes it an
adjusted working day (调休上班). Counting "N个工作日内" from a date counts N working days *after* that
date, so the date itself never counts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from enum import StrEnum

from qiantou.errors import QiantouError

ONE_DAY = dt.timedelta(days=1)
#: Longest stretch of consecutive rest days we accept before suspecting a broken calendar (the longest
#: official break, the Spring Festival plus weekends, is 9 days; 2020 had 10).
MAX_REST_RUN = 31
#: The range of dates the platform accepts anywhere a user types one (deadlines, cycles, calculators).
#: Plans concern the present and the near future; a year like 1900 or 9999 is a typing error, and near
#: ``date.max`` any day arithmetic overflows.
EARLIEST_DATE = dt.date(2000, 1, 1)
LATEST_DATE = dt.date(2100, 12, 31)


class DateOutOfRange(QiantouError):
    """A date lies outside :data:`EARLIEST_DATE` – :data:`LATEST_DATE`; the message names the field."""

    def __init__(self, day: dt.date, label: str = "日期") -> None:
        self.day = day
        self.label = label
        super().__init__(
            f"{label}“{day.isoformat()}”超出允许范围，"
            f"应在 {EARLIEST_DATE.year}年至 {LATEST_DATE.year}年之间。"
        )


def check_date_range(day: dt.date | None, label: str = "日期") -> None:
    """Raise :class:`DateOutOfRange` unless ``day`` (when given) lies in EARLIEST_DATE–LATEST_DATE."""
    if day is not None and not EARLIEST_DATE <= day <= LATEST_DATE:
        raise DateOutOfRange(day, label)


def _step(day: dt.date, delta: dt.timedelta) -> dt.date:
    """``day + delta``; past the representable range it names the (never loadable) year instead."""
    try:
        return day + delta
    except OverflowError:
        raise DateOutOfRange(day) from None


class CalendarYearNotLoaded(QiantouError):
    """A computation reached a year whose holidays are not loaded; ``year`` names it."""

    def __init__(self, year: int) -> None:
        self.year = year
        super().__init__(
            f"{year}年的法定节假日安排尚未载入工作日历，无法按工作日计算（请管理员运行 "
            f"qiantou calendar_load {year}，或在管理后台录入该年安排）。"
        )


class HolidayPolicy(StrEnum):
    """What to do when a computed due day is not a working day."""

    PREVIOUS = "previous"  # move to the previous working day (提前至节前最后一个工作日)
    NEXT = "next"  # move to the next working day (顺延至节后第一个工作日)
    SKIP = "skip"  # drop that occurrence (本期不报送)


class WorkingCalendar:
    """The official calendar for a set of loaded years.

    ``exceptions`` maps a date to True (a working day although Saturday/Sunday — 调休) or False (a rest
    day although Monday–Friday — statutory holiday or moved rest day). Entries for weekend holidays
    may be present with False; they change nothing. ``names`` optionally maps dates to the holiday name.
    """

    def __init__(
        self,
        years: Iterable[int],
        exceptions: Mapping[dt.date, bool],
        names: Mapping[dt.date, str] | None = None,
    ) -> None:
        self.years = frozenset(int(y) for y in years)
        self._exceptions = dict(exceptions)
        self._names = dict(names or {})
        for day in self._exceptions:
            if day.year not in self.years:
                raise ValueError(f"calendar entry {day} lies outside the loaded years {sorted(self.years)}")

    def __repr__(self) -> str:
        years = sorted(self.years)
        span = f"{years[0]}–{years[-1]}" if years else "none"
        return f"<WorkingCalendar years={span} exceptions={len(self._exceptions)}>"

    def check_year(self, day: dt.date) -> None:
        """Raise :class:`CalendarYearNotLoaded` unless ``day``'s year is loaded."""
        if day.year not in self.years:
            raise CalendarYearNotLoaded(day.year)

    def is_working_day(self, day: dt.date) -> bool:
        """True when ``day`` is a working day on the official calendar."""
        self.check_year(day)
        special = self._exceptions.get(day)
        if special is not None:
            return special
        return day.weekday() < 5

    def is_adjusted_working_day(self, day: dt.date) -> bool:
        """True for a weekend day that is a working day (调休上班)."""
        return day.weekday() >= 5 and self.is_working_day(day)

    def holiday_name(self, day: dt.date) -> str:
        """The holiday's name for ``day`` when known (e.g. "春节"), else ""."""
        return self._names.get(day, "")

    def next_working_day(self, day: dt.date, *, include_self: bool = False) -> dt.date:
        """The first working day after ``day`` (or ``day`` itself when ``include_self`` and it works)."""
        current = day if include_self else _step(day, ONE_DAY)
        for _ in range(MAX_REST_RUN + 1):
            if self.is_working_day(current):
                return current
            current = _step(current, ONE_DAY)
        raise ValueError(f"no working day within {MAX_REST_RUN} days after {day}: the calendar looks broken")

    def previous_working_day(self, day: dt.date, *, include_self: bool = False) -> dt.date:
        """The last working day before ``day`` (or ``day`` itself when ``include_self`` and it works)."""
        current = day if include_self else _step(day, -ONE_DAY)
        for _ in range(MAX_REST_RUN + 1):
            if self.is_working_day(current):
                return current
            current = _step(current, -ONE_DAY)
        raise ValueError(f"no working day within {MAX_REST_RUN} days before {day}: the calendar looks broken")

    def add_working_days(self, start: dt.date, n: int) -> dt.date:
        """The n-th working day after ``start`` (before it when n < 0); ``start`` itself never counts.

        ``add_working_days(2024-02-07, 5)`` is 2024-02-20 ("5个工作日内" issued on that Wednesday, across the
        Spring Festival); ``add_working_days(2024-02-02, 1)`` is Sunday 2024-02-04, an adjusted working day.
        With n == 0 the result is ``start`` itself. Raises :class:`CalendarYearNotLoaded`.
        """
        current = start
        step = ONE_DAY if n >= 0 else -ONE_DAY
        remaining = abs(n)
        while remaining:
            current = (
                self.next_working_day(current)
                if step > dt.timedelta(0)
                else self.previous_working_day(current)
            )
            remaining -= 1
        return current

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days d with start < d ≤ end (negative when end < start): "overdue by N working days"."""
        if end < start:
            return -self.working_days_between(end, start)
        count = 0
        self.check_year(end)  # fail at once, not after walking every day up to an unloaded year
        current = _step(start, ONE_DAY)
        while current <= end:
            if self.is_working_day(current):
                count += 1
            if current == end:
                break
            current = _step(current, ONE_DAY)
        return count

    def roll(self, day: dt.date, policy: HolidayPolicy | str) -> dt.date | None:
        """Move ``day`` onto a working day by ``policy``; None when the policy skips a non-working day."""
        if self.is_working_day(day):
            return day
        policy = HolidayPolicy(policy)
        if policy is HolidayPolicy.PREVIOUS:
            return self.previous_working_day(day)
        if policy is HolidayPolicy.NEXT:
            return self.next_working_day(day)
        return None

    def year_exceptions(self, year: int) -> dict[dt.date, bool]:
        """The loaded exceptions of one year (date → is working day)."""
        return {d: w for d, w in self._exceptions.items() if d.year == year}


def chinese_calendar_years() -> list[int]:
    """The years the installed ``chinese-calendar`` package covers (e.g. 2004–2026)."""
    import chinese_calendar

    years = {d.year for d in chinese_calendar.holidays}
    return list(range(min(years), max(years) + 1))


def chinese_calendar_entries(year: int) -> list[tuple[dt.date, bool, str]]:
    """``(date, is_working_day, name)`` for every holiday and adjusted working day of ``year``.

    Raises :class:`CalendarYearNotLoaded` when the package has no schedule for ``year``.
    """
    import chinese_calendar
    from chinese_calendar.constants import Holiday

    if year not in chinese_calendar_years():
        raise CalendarYearNotLoaded(year)
    chinese_names = {h.value: h.chinese for h in Holiday}
    rows: list[tuple[dt.date, bool, str]] = []
    for day, name in chinese_calendar.holidays.items():
        if day.year == year:
            rows.append((day, False, chinese_names.get(name, name)))
    for day, name in chinese_calendar.workdays.items():
        if day.year == year:
            rows.append((day, True, f"{chinese_names.get(name, name)}调休上班"))
    rows.sort()
    return rows


def from_chinese_calendar(years: Iterable[int] | None = None) -> WorkingCalendar:
    """A calendar built straight from the ``chinese-calendar`` package (all its years by default)."""
    chosen = list(years) if years is not None else chinese_calendar_years()
    exceptions: dict[dt.date, bool] = {}
    names: dict[dt.date, str] = {}
    for year in chosen:
        for day, working, name in chinese_calendar_entries(year):
            exceptions[day] = working
            names[day] = name
    return WorkingCalendar(chosen, exceptions, names)
