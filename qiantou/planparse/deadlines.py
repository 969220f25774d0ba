"""Completion times (完成时限) as printed in plans → :class:`~qiantou.planparse.document.Deadline`.

Kinds (see the glossary): ``date`` (6月底前 → 30 June of the plan's year), ``range`` (2024—2025年),
``recurring`` (每月28日前, 每季度末, 每年6月底前 → a rule), ``open_ended`` (持续推进, 长期坚持, 常态工作),
``relative`` (文件出台后2个月内, 测评反馈后15个工作日内 → a rule resolved once the anchor is known) and
``none``. The printed text is always kept as it was.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import unicodedata
from functools import lru_cache
from typing import Any

from qiantou.planparse.document import Deadline
from qiantou.planparse.numbering import chinese_to_int

__all__ = ["find_deadline_in_text", "looks_like_deadline", "parse_deadline"]

_CN_NUM = "一二两三四五六七八九十〇零"
_NUM = rf"(?:\d+|[{_CN_NUM}]+)"

_OPEN_ENDED_RE = re.compile(
    r"持续推进|长期坚持|长期推进|长期开展|长期实施|长期执行|常态工作|常态化|常态推进|常态开展|长效推进|"
    r"持续开展|持续实施|持续落实|持续抓好|持续深化|持续|长期|常年|动态调整|动态更新|久久为功|逐步推进|有序推进|"
    # "from now on" and "throughout": 即日起, 贯穿活动全程, 贯穿全年, 整治期间
    r"^(?:自|从)?即日起$|贯穿[\u4e00-\u9fff]{0,8}?(?:全程|始终|全年|全过程)|"
    r"^[\u4e00-\u9fff]{0,6}(?:活动|行动|整治|攻坚|创建)期间$"
)
# The year after the plan's year: 次年1月10日前, 翌年3月底前, 明年6月底.
_NEXT_YEAR_RE = re.compile(r"^(?:次年|翌年|明年|下一年度?|第二年)(?:度)?")
# An event with no number, before or by which the task is due: 汛期前, 迎检前, 开学前, 旅游旺季到来前.
_EVENT_BEFORE_RE = re.compile(r"^(?P<anchor>[\u4e00-\u9fff]{2,10}?)(?:到来|来临|开始)?(?:之?前)$")
_RELATIVE_RE = re.compile(
    rf"^(?P<anchor>[^，,；;。]*?[\u4e00-\u9fffA-Za-z”」》)）])?(?P<dir>后|之后|以后|前|之前|起)?"
    rf"(?P<n>{_NUM})个?(?P<unit>工作日|自然日|日|天|个月|月|周|星期|年)(?:以?内|之内)"
)
_RANGE_RE = re.compile(
    r"(?P<y1>\d{4})\s*年?\s*(?:(?P<m1>\d{1,2})\s*月)?\s*(?:[—–\-~～至到]+|－)\s*"
    r"(?:(?P<y2>\d{4})\s*年?)?\s*(?:(?P<m2>\d{1,2})\s*月)?"
)
_FULL_DATE_RE = re.compile(r"(?P<y>\d{4})\s*[年./\-]\s*(?P<m>\d{1,2})\s*[月./\-]\s*(?P<d>\d{1,2})\s*日?")
_YEAR_MONTH_RE = re.compile(
    r"(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*(?:月\s*(?P<part>底|末|份|上旬|中旬|下旬|初)?|(?P<typo>底|末))"
)
_YEAR_ONLY_RE = re.compile(
    r"(?P<y>\d{4})\s*年\s*(?:度\s*)?(?P<part>底|末|内|上半年|下半年|前|(?:第?[一二三四1-4]季度))?"
)
_MONTH_DAY_RE = re.compile(r"(?<![\d年])(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日")
_MONTH_RE = re.compile(
    r"(?<![\d年])(?P<m>\d{1,2})\s*(?:月\s*(?P<part>底|末|份|上旬|中旬|下旬|初)?|(?P<typo>底|末))"
)
_YEAR_END_RE = re.compile(r"年底|年末|年内|全年|本年度|年度内|今年|当年|本年")
_HALF_RE = re.compile(r"(?P<half>上|下)半年")
_QUARTER_RE = re.compile(r"第?(?P<q>[一二三四1-4])季度")

_EVERY_RE = re.compile(r"每|按月|按季|按年|逐月|定期")


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    return re.sub(r"\s+", "", text)


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _safe_date(year: int | None, month: int, day: int | str) -> dt.date | None:
    if year is None or not 1 <= month <= 12:
        return None
    if day == "end":
        return _month_end(year, month)
    assert isinstance(day, int)
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _part_day(part: str | None) -> int | str:
    return {"上旬": 10, "中旬": 20, "初": 10}.get(part or "", "end")


def _num(text: str) -> int:
    return int(text) if text.isdigit() else chinese_to_int(text) or 0


def _recurring(t: str) -> dict[str, Any] | None:
    """A rule for 每月28日前, 每季度末, 每年6月底前, 每季度结束后20日内 …; None when not recurring."""
    if not _EVERY_RE.search(t):
        return None
    m = re.search(rf"每(?P<what>季度?|月|年|半年)(?:结束|末)?后(?P<n>{_NUM})个?(?P<unit>工作日|日|天)内", t)
    if m:
        every = {"季": "quarter", "季度": "quarter", "月": "month", "年": "year", "半年": "half_year"}[
            m["what"]
        ]
        key = "working_days_after_end" if m["unit"] == "工作日" else "days_after_end"
        return {"every": every, key: _num(m["n"])}
    if re.search(r"每年(?:的)?(?:年底|年末|底)", t):
        return {"every": "year", "month": 12, "day": "end"}
    m = re.search(r"每年(?:的)?(?P<m>\d{1,2})月(?:(?P<d>\d{1,2})日|(?P<part>底|末|上旬|中旬|下旬))?", t)
    if m:
        day: int | str = int(m["d"]) if m["d"] else _part_day(m["part"])
        return {"every": "year", "month": int(m["m"]), "day": day}
    m = re.search(r"每(?:个)?月(?:的)?(?P<d>\d{1,2})(?:日|号)", t)
    if m:
        return {"every": "month", "day": int(m["d"])}
    if re.search(r"每(?:个)?月(?:底|末)", t):
        return {"every": "month", "day": "end"}
    m = re.search(r"每季度?(?:首月|第一个月)(?P<d>\d{1,2})日", t)
    if m:
        return {"every": "quarter", "month_of_quarter": 1, "day": int(m["d"])}
    if re.search(r"每季度?(?:末|底)", t):
        return {"every": "quarter", "day": "end"}
    if re.search(r"每半年", t):
        return {"every": "half_year"}
    if re.search(r"每季|按季", t):
        return {"every": "quarter"}
    if re.search(r"每(?:个)?月|按月|逐月", t):
        return {"every": "month"}
    m = re.search(r"每周(?:星期|周)?(?P<w>[一二三四五六日天1-7])?", t)
    if m:
        rule: dict[str, Any] = {"every": "week"}
        if m["w"]:
            rule["weekday"] = "一二三四五六日".find(m["w"]) + 1 if not m["w"].isdigit() else int(m["w"])
            if m["w"] == "天":
                rule["weekday"] = 7
        return rule
    if re.search(r"每年|按年", t):
        return {"every": "year"}
    if re.search(r"每两个?月", t):
        return {"every": "month", "interval": 2}
    return None


def parse_deadline(text: str | None, year: int | None = None) -> Deadline:
    """Read a printed completion time; ``year`` is the plan's year for dates printed without one.

    The result keeps ``text`` as given (stripped). Unreadable text gives kind ``none`` with the text kept.
    Results are cached: plans repeat the same few time limits, and a :class:`Deadline` is immutable.
    """
    return _parse_deadline_cached(text, year)


@lru_cache(maxsize=4096)
def _parse_deadline_cached(text: str | None, year: int | None) -> Deadline:
    return _parse_deadline(text, year)


def _parse_deadline(text: str | None, year: int | None) -> Deadline:
    raw = (text or "").strip()
    if not raw:
        return Deadline(text=None)
    t = _norm(raw)
    nxt = _NEXT_YEAR_RE.match(t)
    if nxt and nxt.end() < len(t):
        # Read the rest as a date of the following year (without the plan's year: a rule saying so).
        following = _parse_deadline(t[nxt.end() :], year + 1 if year is not None else None)
        if following.kind == "date":
            next_rule = following.rule if year is not None else {**following.rule, "year_offset": 1}
            return Deadline(text=raw, kind="date", date=following.date, rule=next_rule)
    rule = _recurring(t)
    if rule is not None:
        return Deadline(text=raw, kind="recurring", rule=rule)
    m = _RELATIVE_RE.search(t)
    if m:
        anchor = (m["anchor"] or "").strip() or None
        unit = m["unit"]
        n = _num(m["n"])
        key = {
            "工作日": "working_days",
            "个月": "months",
            "月": "months",
            "周": "weeks",
            "星期": "weeks",
            "年": "years",
        }.get(unit, "days")
        rel: dict[str, Any] = {"anchor": anchor, key: n}
        if m["dir"] in ("前", "之前"):
            rel["before"] = True
        # "2024年6月底前" is a date, not "6 months before 2024"; relative needs an anchor that is not a date.
        if not (anchor and re.fullmatch(r"[\d年月日底末]+", anchor)):
            return Deadline(text=raw, kind="relative", rule=rel)
    m = _RANGE_RE.search(t)
    if m and (m["y2"] or m["m2"]):
        y1 = int(m["y1"])
        y2 = int(m["y2"]) if m["y2"] else y1
        m1 = int(m["m1"]) if m["m1"] else 1
        m2 = int(m["m2"]) if m["m2"] else 12
        if y2 >= y1 and 1 <= m1 <= 12 and 1 <= m2 <= 12:
            return Deadline(text=raw, kind="range", start=dt.date(y1, m1, 1), date=_month_end(y2, m2))
    m = _FULL_DATE_RE.search(t)
    if m:
        d = _safe_date(int(m["y"]), int(m["m"]), int(m["d"]))
        if d:
            return Deadline(text=raw, kind="date", date=d)
        # "2026年2月30日" is no day: reading on would take it as February's end, silently.
        return Deadline(text=raw, rule={"nonexistent_date": f"{m['y']}年{int(m['m'])}月{int(m['d'])}日"})
    m = _YEAR_MONTH_RE.search(t)
    if m:
        d = _safe_date(int(m["y"]), int(m["m"]), _part_day(m["part"]))
        if d:
            return Deadline(text=raw, kind="date", date=d)
    m = _YEAR_ONLY_RE.search(t)
    if m:
        y = int(m["y"])
        part = m["part"] or ""
        q = _QUARTER_RE.search(part)
        if q:
            return Deadline(text=raw, kind="date", date=_month_end(y, 3 * _num(q["q"])))
        if part == "上半年":
            return Deadline(text=raw, kind="date", date=dt.date(y, 6, 30))
        if part == "前":
            return Deadline(text=raw, kind="date", date=dt.date(y - 1, 12, 31))
        return Deadline(text=raw, kind="date", date=dt.date(y, 12, 31))
    if _OPEN_ENDED_RE.search(t):
        return Deadline(text=raw, kind="open_ended")
    m = _MONTH_DAY_RE.search(t)
    # Without the plan's year, judge by a leap year (2024): 2月29日 may exist.
    if m and _safe_date(2024 if year is None else year, int(m["m"]), int(m["d"])) is None:
        printed = f"{int(m['m'])}月{int(m['d'])}日"
        if year is not None:
            printed = f"{year}年{printed}"
        return Deadline(text=raw, rule={"nonexistent_date": printed})
    if m:
        return Deadline(
            text=raw,
            kind="date",
            date=_safe_date(year, int(m["m"]), int(m["d"])),
            rule={} if year else {"month": int(m["m"]), "day": int(m["d"])},
        )
    m = _MONTH_RE.search(t)
    if m and 1 <= int(m["m"]) <= 12:
        day = _part_day(m["part"])
        return Deadline(
            text=raw,
            kind="date",
            date=_safe_date(year, int(m["m"]), day),
            rule={} if year else {"month": int(m["m"]), "day": day},
        )
    m = _HALF_RE.search(t)
    if m:
        month = 6 if m["half"] == "上" else 12
        return Deadline(
            text=raw,
            kind="date",
            date=_safe_date(year, month, "end"),
            rule={} if year else {"month": month, "day": "end"},
        )
    m = _QUARTER_RE.search(t)
    if m:
        month = 3 * _num(m["q"])
        return Deadline(
            text=raw,
            kind="date",
            date=_safe_date(year, month, "end"),
            rule={} if year else {"month": month, "day": "end"},
        )
    if _YEAR_END_RE.search(t):
        return Deadline(
            text=raw,
            kind="date",
            date=_safe_date(year, 12, "end"),
            rule={} if year else {"month": 12, "day": "end"},
        )
    m = _EVENT_BEFORE_RE.match(t)
    if m and not re.search(r"[\d一二三四五六七八九十]", m["anchor"]):
        # Due before an event whose date the plan does not print: resolved once the anchor is known.
        return Deadline(text=raw, kind="relative", rule={"anchor": m["anchor"], "before": True})
    return Deadline(text=raw, kind="none")


# A deadline clause must look like one from its start: "2024年9月底前完成", "每月28日前报送", "长期坚持".
_DEADLINE_START_RE = re.compile(
    r"^(?:\d{4}\s*年|\d{4}\s*[—–\-~～至]|\d{1,2}\s*月|每|按月|按季|逐月|定期|年底|年末|年内|全年|本年|今年|当年|上半年|下半年|"
    r"第?[一二三四]季度|持续|长期|常态|长效|动态|久久为功|逐步推进|有序推进|\d{4}[./\-]\d|"
    r"(?:自|从)?即日起|贯穿|次年|翌年|明年)"
)


def looks_like_deadline(text: str) -> bool:
    """True when a clause reads as a completion time (used to tell it from units inside an attribution)."""
    t = _norm(text)
    if not t or len(t) > 24:
        return False
    if _DEADLINE_START_RE.match(t):
        return parse_deadline(t).kind != "none"
    if re.search(r"以?内$|之内$", t) and parse_deadline(t).kind == "relative":
        # "省级管理办法出台后2个月内", "迎检前10个工作日内": an event then a time limit.
        return bool(re.search(r"(后|之后|以后|前|之前)\d+", t)) or bool(
            re.search(r"(后|前)[一二两三四五六七八九十]+个?", t)
        )
    return False


_IN_TEXT_RE = re.compile(r"\d{4}\s*年\s*(?:\d{1,2}\s*月\s*(?:底|末|\d{1,2}\s*日)?|底|末)\s*(?:前|以前)")


def find_deadline_in_text(text: str) -> str | None:
    """An explicit dated limit inside a task's text ("2024年10月底前完成…"), else None.

    Only a dated "…前" counts: service standards such as "5个工作日内办结" or a bare "年内" describe the
    work, not the task's completion time.
    """
    found = _IN_TEXT_RE.findall(unicodedata.normalize("NFKC", text))
    if len(found) == 1:
        return str(found[0]).replace(" ", "")
    return None
