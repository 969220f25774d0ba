"""The official calendar as stored in the database (loaded from chinese-calendar, corrected by admins).

:func:`get_calendar` builds a :class:`~qiantou.workdays.WorkingCalendar` from :class:`HolidayYear` and
:class:`CalendarDay` rows, cached per process and rebuilt when any year changes.
"""

from __future__ import annotations

import datetime as dt
import threading
import zoneinfo

from django.db.models import Count, Max

from qiantou.chasing.models import CalendarDay, HolidayYear
from qiantou.workdays import WorkingCalendar

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
_lock = threading.Lock()
_cache: dict[str, tuple[tuple[object, ...], WorkingCalendar]] = {}


def _stamp() -> tuple[object, ...]:
    agg = HolidayYear.objects.aggregate(n=Count("id"), last=Max("updated_at"))
    return (agg["n"], agg["last"], CalendarDay.objects.count())


def get_calendar() -> WorkingCalendar:
    """The working calendar of every loaded year (one cheap query when nothing changed)."""
    stamp = _stamp()
    with _lock:
        cached = _cache.get("default")
        if cached is not None and cached[0] == stamp:
            return cached[1]
    years = list(HolidayYear.objects.values_list("year", flat=True))
    exceptions: dict[dt.date, bool] = {}
    names: dict[dt.date, str] = {}
    for day, working, name in CalendarDay.objects.values_list("date", "is_working_day", "name"):
        exceptions[day] = working
        names[day] = name
    calendar = WorkingCalendar(years, exceptions, names)
    with _lock:
        _cache["default"] = (stamp, calendar)
    return calendar


def local_date(moment: dt.datetime) -> dt.date:
    """The calendar date of an instant in Asia/Shanghai."""
    return moment.astimezone(SHANGHAI).date()


def at_local(day: dt.date, time: dt.time) -> dt.datetime:
    """The instant of ``time`` on ``day`` in Asia/Shanghai (aware)."""
    return dt.datetime.combine(day, time, tzinfo=SHANGHAI)
