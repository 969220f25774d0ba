"""The official working-day calendar: State Council schedules, 调休, unloaded years, recurrence rules."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from qiantou.workdays import (
    CalendarYearNotLoaded,
    RecurrenceRule,
    RuleError,
    WorkingCalendar,
    from_chinese_calendar,
    occurrences,
    parse_working_days_text,
)
from qiantou.workdays.recurrence import validate_rule

D = dt.date


@pytest.fixture(scope="module")
def cal() -> WorkingCalendar:
    return from_chinese_calendar()


def test_issue_examples(cal: WorkingCalendar) -> None:
    # Wed 2024-02-07 + 5 working days crosses the Spring Festival break (2/10–2/17) and the
    # adjusted working Sunday 2/18.
    assert cal.add_working_days(D(2024, 2, 7), 5) == D(2024, 2, 20)
    # Fri 2024-02-02 + 1 working day is Sunday 2024-02-04, an adjusted working day.
    assert cal.add_working_days(D(2024, 2, 2), 1) == D(2024, 2, 4)
    assert cal.is_adjusted_working_day(D(2024, 2, 4))


def test_national_day_2024(cal: WorkingCalendar) -> None:
    assert cal.is_working_day(D(2024, 9, 29))  # Sunday, adjusted
    assert not any(cal.is_working_day(D(2024, 10, d)) for d in range(1, 8))
    assert cal.is_working_day(D(2024, 10, 12))  # Saturday, adjusted
    assert cal.next_working_day(D(2024, 9, 30)) == D(2024, 10, 8)
    assert cal.previous_working_day(D(2024, 10, 8)) == D(2024, 9, 30)
    assert cal.working_days_between(D(2024, 9, 27), D(2024, 10, 8)) == 3  # 9/29, 9/30, 10/8
    assert cal.add_working_days(D(2024, 10, 8), -3) == D(2024, 9, 27)


def test_unloaded_year_is_an_error_not_a_guess(cal: WorkingCalendar) -> None:
    with pytest.raises(CalendarYearNotLoaded) as err:
        cal.add_working_days(D(2026, 12, 28), 10)
    assert err.value.year == 2027
    assert "2027" in str(err.value) and "calendar_load" in str(err.value)
    partial = WorkingCalendar([2024], {})
    with pytest.raises(CalendarYearNotLoaded):
        partial.is_working_day(D(2023, 12, 31))


def test_entries_outside_the_years_are_refused() -> None:
    with pytest.raises(ValueError):
        WorkingCalendar([2024], {D(2025, 1, 1): False})


def test_monthly_rule_with_holiday_policies(cal: WorkingCalendar) -> None:
    prev = RecurrenceRule.from_dict({"kind": "monthly", "day": 28, "policy": "previous"})
    nxt = RecurrenceRule.from_dict({"kind": "monthly", "day": 28, "policy": "next"})
    skip = RecurrenceRule.from_dict({"kind": "monthly", "day": 28, "policy": "skip"})
    year = (D(2024, 1, 1), D(2024, 12, 31))
    by_prev = {o.period: o.due for o in occurrences(prev, cal, *year)}
    by_next = {o.period: o.due for o in occurrences(nxt, cal, *year)}
    assert by_prev["2024-01"] == D(2024, 1, 26)  # Sun 1/28 → Fri 1/26
    assert by_next["2024-01"] == D(2024, 1, 29)
    assert by_prev["2024-04"] == D(2024, 4, 28)  # Sunday, but an adjusted working day
    assert by_next["2024-09"] == D(2024, 9, 29)  # Saturday 9/28 → adjusted Sunday 9/29
    assert len(by_prev) == 12
    assert "2024-01" not in {o.period for o in occurrences(skip, cal, *year)}
    assert all(cal.is_working_day(d) for d in by_prev.values())


def test_quarterly_and_every_n_working_days(cal: WorkingCalendar) -> None:
    q = RecurrenceRule.from_dict({"kind": "quarterly", "policy": "previous"})
    dues = [o.due for o in occurrences(q, cal, D(2024, 1, 1), D(2024, 12, 31))]
    assert dues == [D(2024, 3, 29), D(2024, 6, 28), D(2024, 9, 30), D(2024, 12, 31)]
    every = RecurrenceRule.from_dict({"kind": "every_n_working_days", "n": 5})
    found = occurrences(every, cal, D(2024, 2, 7), D(2024, 3, 10))
    assert found[0].due == D(2024, 2, 20)
    assert all(cal.working_days_between(a.due, b.due) == 5 for a, b in itertools.pairwise(found))
    assert q.describe() == "每季度末（遇节假日提前至前一个工作日）"


def test_rule_that_fires_on_no_working_day(cal: WorkingCalendar) -> None:
    weekly_sunday_skip = RecurrenceRule.from_dict({"kind": "weekly", "weekday": 6, "policy": "skip"})
    with pytest.raises(RuleError, match="没有任何一个工作日"):
        validate_rule(weekly_sunday_skip, cal, D(2024, 3, 1), D(2024, 3, 31))
    holiday_only = RecurrenceRule.from_dict({"kind": "monthly", "day": 3, "policy": "skip"})
    with pytest.raises(RuleError):
        validate_rule(holiday_only, cal, D(2024, 10, 1), D(2024, 10, 7))


@pytest.mark.parametrize(
    "bad",
    [
        {"kind": "monthly", "day": 0},
        {"kind": "monthly", "day": 32},
        {"kind": "quarterly", "month": 4},
        {"kind": "weekly", "weekday": 7},
        {"kind": "every_n_working_days", "n": 0},
        {"kind": "hourly"},
        {"kind": "monthly", "policy": "sideways"},
        {"day": 3},
        {"kind": "monthly", "colour": "red"},
    ],
)
def test_malformed_rules(bad: dict[str, object]) -> None:
    with pytest.raises(RuleError):
        RecurrenceRule.from_dict(bad)


def test_parse_working_days_text() -> None:
    assert parse_working_days_text("收到通知后5个工作日内报送") == 5
    assert parse_working_days_text("十五个工作日内") == 15
    assert parse_working_days_text("５个工作日") == 5
    assert parse_working_days_text("6月底前") is None
