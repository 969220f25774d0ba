"""The official working-day calendar (工作日历): pure Python, no Django models.

Dates are calendar dates in Asia/Shanghai. A :class:`WorkingCalendar` knows, for each year it was
built with, the statutory holidays falling on weekdays and the adjusted working days (调休, weekend days
that are working days) from the State Council's yearly notice (国务院办公厅关于部分节假日安排的通知).
Asking about a year it does not hold raises :class:`CalendarYearNotLoaded` — never a guess.
"""

from qiantou.workdays.calendar import (
    EARLIEST_DATE,
    LATEST_DATE,
    CalendarYearNotLoaded,
    DateOutOfRange,
    HolidayPolicy,
    WorkingCalendar,
    check_date_range,
    chinese_calendar_years,
    from_chinese_calendar,
)
from qiantou.workdays.recurrence import RecurrenceRule, RuleError, occurrences, parse_working_days_text

__all__ = [
    "EARLIEST_DATE",
    "LATEST_DATE",
    "CalendarYearNotLoaded",
    "DateOutOfRange",
    "HolidayPolicy",
    "RecurrenceRule",
    "RuleError",
    "WorkingCalendar",
    "check_date_range",
    "chinese_calendar_years",
    "from_chinese_calendar",
    "occurrences",
    "parse_working_days_text",
]
