"""Dates at the edge of what Python can represent fail with a user-facing error, never OverflowError."""

from __future__ import annotations

import datetime as dt

import pytest

from qiantou.errors import QiantouError
from qiantou.workdays import (
    DateOutOfRange,
    RecurrenceRule,
    check_date_range,
    from_chinese_calendar,
    occurrences,
)


@pytest.fixture(scope="module")
def cal():  # type: ignore[no-untyped-def]
    return from_chinese_calendar([2023, 2024, 2025])


@pytest.mark.parametrize("day", [dt.date.max, dt.date.min, dt.date(9999, 12, 31), dt.date(1, 1, 1)])
def test_day_arithmetic_at_the_edges_is_a_qiantou_error(cal, day: dt.date) -> None:  # type: ignore[no-untyped-def]
    for call in (
        lambda: cal.add_working_days(day, 250),
        lambda: cal.add_working_days(day, -250),
        lambda: cal.next_working_day(day),
        lambda: cal.previous_working_day(day),
        lambda: cal.working_days_between(day, dt.date(2024, 5, 1)),
        lambda: cal.working_days_between(dt.date(2024, 5, 1), day),
    ):
        with pytest.raises(QiantouError):
            call()


@pytest.mark.parametrize("policy", ["previous", "next", "skip"])
@pytest.mark.parametrize("kind", ["monthly", "quarterly", "yearly", "weekly", "every_n_working_days"])
def test_occurrences_refuse_dates_outside_the_sane_range(cal, kind: str, policy: str) -> None:  # type: ignore[no-untyped-def]
    rule = RecurrenceRule.from_dict({"kind": kind, "day": 28, "n": 5, "policy": policy})
    with pytest.raises(DateOutOfRange, match="2000年至 2100年"):
        occurrences(rule, cal, dt.date(1900, 1, 1), dt.date(9999, 12, 31))
    with pytest.raises(DateOutOfRange):
        occurrences(rule, cal, dt.date(2024, 1, 1), dt.date.max)
    assert occurrences(rule, cal, dt.date(2024, 1, 1), dt.date(2024, 12, 31))  # the normal case still works


def test_check_date_range_names_the_field() -> None:
    check_date_range(dt.date(2000, 1, 1))
    check_date_range(dt.date(2100, 12, 31))
    check_date_range(None)
    with pytest.raises(DateOutOfRange, match="截止日期“1900-01-01”"):
        check_date_range(dt.date(1900, 1, 1), "截止日期")
    with pytest.raises(DateOutOfRange):
        check_date_range(dt.date(2101, 1, 1))
