"""Recurring due days (进展报送周期): monthly on day 28, quarterly, yearly, weekly, every N working days.

A rule yields one occurrence per period: a period key ("2024-03", "2024-Q1", "2024", "2024-W05",
"2024-03-12" for working-day cycles) and the due date after the holiday policy is applied. The policy
says what happens when the nominal day is not a working day: move to the previous working day, to the
next one, or skip that period.
"""

from __future__ import annotations

import calendar as _cal
import datetime as dt
import math
import re
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from qiantou.errors import QiantouError
from qiantou.workdays.calendar import (
    HolidayPolicy,
    WorkingCalendar,
    check_date_range,
)


class RuleError(QiantouError):
    """A recurrence rule is malformed, or would never fall on a working day in its range."""


class RuleKind(StrEnum):
    MONTHLY = "monthly"  # 每月X日
    QUARTERLY = "quarterly"  # 每季度（末月X日，默认季末）
    YEARLY = "yearly"  # 每年X月X日
    WEEKLY = "weekly"  # 每周星期X
    EVERY_N_WORKING_DAYS = "every_n_working_days"  # 每N个工作日


RULE_KIND_LABELS = {
    RuleKind.MONTHLY: "每月",
    RuleKind.QUARTERLY: "每季度",
    RuleKind.YEARLY: "每年",
    RuleKind.WEEKLY: "每周",
    RuleKind.EVERY_N_WORKING_DAYS: "每N个工作日",
}
POLICY_LABELS = {
    HolidayPolicy.PREVIOUS: "遇节假日提前至前一个工作日",
    HolidayPolicy.NEXT: "遇节假日顺延至下一个工作日",
    HolidayPolicy.SKIP: "遇节假日当期不报送",
}
WEEKDAYS = "一二三四五六日"


def _whole(name: str, value: Any) -> int:
    """A rule's number field as an int: a whole number (``5``, ``5.0``, ``"5"``); RuleError naming the
    field for anything else (``1.5`` is not truncated, ``1e400`` is infinite, ``true`` is no number)."""
    if isinstance(value, bool):
        raise RuleError(f"报送规则无效：{name} 应为整数，而不是 {value!r}")
    if isinstance(value, float) and (not math.isfinite(value) or not value.is_integer()):
        raise RuleError(f"报送规则无效：{name} 应为整数，而不是 {value!r}")
    try:
        number = int(value) if isinstance(value, (int, float)) else int(str(value).strip())
    except (TypeError, ValueError, OverflowError):
        raise RuleError(f"报送规则无效：{name} 应为整数，而不是 {value!r}") from None
    if abs(number) > 10**6:  # no field means anything this large; keeps later arithmetic in range
        raise RuleError(f"报送规则无效：{name} 超出范围：{number}")
    return number


@dataclass(frozen=True)
class RecurrenceRule:
    """A recurring due day.

    - ``monthly``: ``day`` 1–31 or -1 for the month's last day (past the month's end: its last day);
    - ``quarterly``: ``month`` 1–3 within the quarter (default 3, the quarter's last month) and ``day``;
    - ``yearly``: ``month`` 1–12 and ``day``;
    - ``weekly``: ``weekday`` 0 (Monday) – 6 (Sunday);
    - ``every_n_working_days``: ``n`` ≥ 1, counted from the cycle's start date.

    ``policy`` applies when the nominal day is not a working day (not used by working-day cycles).
    """

    kind: RuleKind
    day: int = -1
    month: int = 3
    weekday: int = 0
    n: int = 0
    policy: HolidayPolicy = HolidayPolicy.PREVIOUS

    def __post_init__(self) -> None:
        for name, enum in (("kind", RuleKind), ("policy", HolidayPolicy)):
            value = getattr(self, name)
            try:
                object.__setattr__(self, name, enum(value))
            except (TypeError, ValueError):
                allowed = " / ".join(str(v) for v in enum)
                raise RuleError(f"报送规则无效：{name} 应为 {allowed} 之一，而不是 {value!r}") from None
        if self.kind in (RuleKind.MONTHLY, RuleKind.QUARTERLY, RuleKind.YEARLY) and not (
            self.day == -1 or 1 <= self.day <= 31
        ):
            raise RuleError(f"报送规则无效：日期应为1–31日或“月末”，而不是 {self.day}")
        if self.kind is RuleKind.QUARTERLY and not 1 <= self.month <= 3:
            raise RuleError(f"报送规则无效：季度内月份应为1–3，而不是 {self.month}")
        if self.kind is RuleKind.YEARLY and not 1 <= self.month <= 12:
            raise RuleError(f"报送规则无效：月份应为1–12，而不是 {self.month}")
        if self.kind is RuleKind.YEARLY and self.day > _cal.monthrange(2000, self.month)[1]:
            # Judged against a leap year: 2月29日 is a real (if not yearly) day; 2月30日 and 4月31日 are not.
            raise RuleError(
                f"报送规则无效：日（day）{self.day} 不存在于{self.month}月"
                f"（{self.month}月最多 {_cal.monthrange(2000, self.month)[1]} 日）"
            )
        if self.kind is RuleKind.WEEKLY and not 0 <= self.weekday <= 6:
            raise RuleError(f"报送规则无效：星期应为0（周一）–6（周日），而不是 {self.weekday}")
        if self.kind is RuleKind.EVERY_N_WORKING_DAYS and self.n < 1:
            raise RuleError(f"报送规则无效：间隔工作日数应至少为1，而不是 {self.n}")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RecurrenceRule:
        """Build from the JSON stored on a cycle; raises :class:`RuleError` on bad data."""
        allowed = {"kind", "day", "month", "weekday", "n", "policy"}
        unknown = set(data) - allowed
        if unknown:
            raise RuleError(f"报送规则含未知字段：{', '.join(sorted(unknown))}")
        if "kind" not in data:
            raise RuleError("报送规则缺少周期类型（kind）")
        values: dict[str, Any] = {
            k: (_whole(k, v) if k in {"day", "month", "weekday", "n"} else v) for k, v in data.items()
        }
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``from_dict`` reads it back)."""
        data = asdict(self)
        data["kind"] = str(self.kind)
        data["policy"] = str(self.policy)
        return data

    def describe(self) -> str:
        """The rule in words, as shown in the UI, e.g. "每月28日前（遇节假日提前至前一个工作日）"."""
        day = "月末" if self.day == -1 else f"{self.day}日"
        if self.kind is RuleKind.MONTHLY:
            text = f"每月{day}前"
        elif self.kind is RuleKind.QUARTERLY:
            text = "每季度末" if (self.month == 3 and self.day == -1) else f"每季度第{self.month}个月{day}前"
        elif self.kind is RuleKind.YEARLY:
            text = f"每年{self.month}月{day}前"
        elif self.kind is RuleKind.WEEKLY:
            text = f"每周星期{WEEKDAYS[self.weekday]}"
        else:
            return f"每{self.n}个工作日"
        return f"{text}（{POLICY_LABELS[self.policy]}）"


@dataclass(frozen=True)
class Occurrence:
    """One period of a rule: its key, the nominal day and the working day it is due."""

    period: str
    nominal: dt.date
    due: dt.date


def _day_in_month(year: int, month: int, day: int) -> dt.date:
    last = _cal.monthrange(year, month)[1]
    return dt.date(year, month, last if day == -1 or day > last else day)


def _nominal_days(rule: RecurrenceRule, start: dt.date, end: dt.date) -> list[tuple[str, dt.date]]:
    out: list[tuple[str, dt.date]] = []
    # Widen by a month each side so a day rolled back across the range's start is still considered.
    margin = dt.timedelta(days=31)
    lo = start - margin if start > dt.date.min + margin else dt.date.min
    hi = end + margin if end < dt.date.max - margin else dt.date.max
    if rule.kind is RuleKind.MONTHLY:
        y, m = lo.year, lo.month
        while (y, m) <= (hi.year, hi.month):
            out.append((f"{y:04d}-{m:02d}", _day_in_month(y, m, rule.day)))
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    elif rule.kind is RuleKind.QUARTERLY:
        for y in range(lo.year, hi.year + 1):
            for q in range(4):
                out.append((f"{y:04d}-Q{q + 1}", _day_in_month(y, q * 3 + rule.month, rule.day)))
    elif rule.kind is RuleKind.YEARLY:
        for y in range(lo.year, hi.year + 1):
            out.append((f"{y:04d}", _day_in_month(y, rule.month, rule.day)))
    elif rule.kind is RuleKind.WEEKLY:
        day = lo + dt.timedelta(days=(rule.weekday - lo.weekday()) % 7)
        while day <= hi:
            iso = day.isocalendar()
            out.append((f"{iso.year:04d}-W{iso.week:02d}", day))
            day += dt.timedelta(days=7)
    return out


def occurrences(
    rule: RecurrenceRule, calendar: WorkingCalendar, start: dt.date, end: dt.date
) -> list[Occurrence]:
    """Every occurrence whose nominal day lies in [start, end], due dates on working days.

    Raises :class:`~qiantou.workdays.CalendarYearNotLoaded` when the range reaches an unloaded year and
    :class:`~qiantou.workdays.DateOutOfRange` when a bound lies outside EARLIEST_DATE–LATEST_DATE.
    """
    check_date_range(start, "开始日期")
    check_date_range(end, "结束日期")
    if end < start:
        raise RuleError(f"报送周期的结束日期 {end} 早于开始日期 {start}")
    result: list[Occurrence] = []
    if rule.kind is RuleKind.EVERY_N_WORKING_DAYS:
        calendar.check_year(start)
        calendar.check_year(end)
        due = calendar.add_working_days(start, rule.n)
        while due <= end:
            result.append(Occurrence(due.isoformat(), due, due))
            due = calendar.add_working_days(due, rule.n)
        return result
    for period, nominal in _nominal_days(rule, start, end):
        if not start <= nominal <= end:
            continue
        rolled = calendar.roll(nominal, rule.policy)
        if rolled is not None:
            result.append(Occurrence(period, nominal, rolled))
    return result


def validate_rule(
    rule: RecurrenceRule, calendar: WorkingCalendar, start: dt.date, end: dt.date
) -> list[Occurrence]:
    """The rule's occurrences in [start, end]; :class:`RuleError` when it would fire on no working day."""
    found = occurrences(rule, calendar, start, end)
    if not found:
        raise RuleError(
            f"报送规则“{rule.describe()}”在 {start} 至 {end} 期间没有任何一个工作日可以报送，"
            "请调整规则或期间。"
        )
    return found


_CN_DIGITS = {
    "零": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}


def _cn_number(text: str) -> int | None:
    if text.isdigit():
        return int(text)
    if text == "十":
        return 10
    if "十" in text:
        tens, _, ones = text.partition("十")
        return (_CN_DIGITS.get(tens, 0) if tens else 1) * 10 + (_CN_DIGITS.get(ones, 0) if ones else 0)
    if len(text) == 1 and text in _CN_DIGITS:
        return _CN_DIGITS[text]
    return None


_WORKING_DAYS_RE = re.compile(r"([0-9０-９]+|[一二两三四五六七八九十]+)\s*个?\s*工作日")


def parse_working_days_text(text: str) -> int | None:
    """N from a deadline text such as "5个工作日内" or "十个工作日内报送", else None."""
    import unicodedata

    match = _WORKING_DAYS_RE.search(unicodedata.normalize("NFKC", text or ""))
    if not match:
        return None
    return _cn_number(match.group(1))
