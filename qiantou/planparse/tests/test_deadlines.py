"""Completion times: kinds, resolved dates and rules, including the issue's examples."""

from __future__ import annotations

import datetime as dt

import pytest

from qiantou.planparse.deadlines import find_deadline_in_text, looks_like_deadline, parse_deadline


@pytest.mark.parametrize(
    ("text", "kind", "date"),
    [
        ("6月底前", "date", dt.date(2024, 6, 30)),
        ("2024年12月31日前", "date", dt.date(2024, 12, 31)),
        ("2024年9月底前完成", "date", dt.date(2024, 9, 30)),
        ("2024年底前", "date", dt.date(2024, 12, 31)),
        ("年底前", "date", dt.date(2024, 12, 31)),
        ("年内", "date", dt.date(2024, 12, 31)),
        ("年内见成效", "date", dt.date(2024, 12, 31)),
        ("全年", "date", dt.date(2024, 12, 31)),
        ("2024年6月", "date", dt.date(2024, 6, 30)),
        ("2025年6底前", "date", dt.date(2025, 6, 30)),  # typo: 月 missing
        ("2024年8月31日", "date", dt.date(2024, 8, 31)),
        ("上半年", "date", dt.date(2024, 6, 30)),
        ("三季度末", "date", dt.date(2024, 9, 30)),
        ("2024年12月\n底前", "date", dt.date(2024, 12, 31)),
    ],
)
def test_dates_resolve_in_the_plans_year(text: str, kind: str, date: dt.date) -> None:
    d = parse_deadline(text, 2024)
    assert (d.kind, d.date) == (kind, date)
    assert d.text == text.strip()


def test_a_date_without_year_and_no_plan_year_keeps_a_rule() -> None:
    d = parse_deadline("6月底前", None)
    assert d.kind == "date" and d.date is None
    assert d.rule == {"month": 6, "day": "end"}


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2024—2025年", dt.date(2024, 1, 1), dt.date(2025, 12, 31)),
        ("2024年—2025年", dt.date(2024, 1, 1), dt.date(2025, 12, 31)),
        ("2024-2026年", dt.date(2024, 1, 1), dt.date(2026, 12, 31)),
        ("2024年6月—12月", dt.date(2024, 6, 1), dt.date(2024, 12, 31)),
    ],
)
def test_ranges(text: str, start: dt.date, end: dt.date) -> None:
    d = parse_deadline(text, 2024)
    assert (d.kind, d.start, d.date) == ("range", start, end)


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("每月28日前", {"every": "month", "day": 28}),
        ("每月28日前报送", {"every": "month", "day": 28}),
        ("每季度末", {"every": "quarter", "day": "end"}),
        ("每季度", {"every": "quarter"}),
        ("每年6月底前", {"every": "year", "month": 6, "day": "end"}),
        ("每年3月底前下达资金", {"every": "year", "month": 3, "day": "end"}),
        ("每季度结束后20日内", {"every": "quarter", "days_after_end": 20}),
        ("每半年一次", {"every": "half_year"}),
        ("每月10日前通报", {"every": "month", "day": 10}),
    ],
)
def test_recurring_rules(text: str, rule: dict[str, object]) -> None:
    d = parse_deadline(text, 2024)
    assert d.kind == "recurring"
    assert d.rule == rule
    assert d.date is None


@pytest.mark.parametrize("text", ["持续推进", "长期坚持", "常态工作", "常态化推进"])
def test_open_ended(text: str) -> None:
    assert parse_deadline(text, 2024).kind == "open_ended"


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("文件出台后2个月内", {"anchor": "文件出台", "months": 2}),
        ("测评反馈后15个工作日内", {"anchor": "测评反馈", "working_days": 15}),
        ("刑满释放后15个工作日内", {"anchor": "刑满释放", "working_days": 15}),
        ("省级配套政策出台后1个月内", {"anchor": "省级配套政策出台", "months": 1}),
        ("迎检前10个工作日内", {"anchor": "迎检", "working_days": 10, "before": True}),
        ("15个工作日内", {"anchor": None, "working_days": 15}),
    ],
)
def test_relative_rules_wait_for_their_anchor(text: str, rule: dict[str, object]) -> None:
    d = parse_deadline(text, 2024)
    assert d.kind == "relative"
    assert d.rule == rule
    assert d.date is None


def test_none_and_unreadable_keep_the_text() -> None:
    assert parse_deadline(None).kind == "none" and parse_deadline(None).text is None
    assert parse_deadline("  ").text is None
    d = parse_deadline("时限待定", 2024)
    assert d.kind == "none" and d.text == "时限待定"


def test_deadline_clauses_are_told_from_units_and_notes() -> None:
    assert looks_like_deadline("2024年9月底前完成")
    assert looks_like_deadline("长期坚持")
    assert looks_like_deadline("每半年一次")
    assert looks_like_deadline("省级管理办法出台后2个月内")
    assert not looks_like_deadline("市财政局")
    assert not looks_like_deadline("清理结果报市政府备案")
    assert not looks_like_deadline(
        "每季度举办不少于2场园区专场招聘活动并报送工作情况和存在问题以及下一步打算"
    )


def test_a_service_standard_in_the_text_is_not_a_deadline() -> None:
    assert find_deadline_in_text("12345热线涉企诉求原则上在5个工作日内办结。") is None
    assert find_deadline_in_text("年内上线企业开办等20个以上集成服务事项。") is None
    assert find_deadline_in_text("完善数据共享交换机制，2024年10月底前完成首批目录编制。") == "2024年10月底前"


@pytest.mark.parametrize(
    ("text", "kind", "date", "rule"),
    [
        ("次年1月10日前", "date", dt.date(2026, 1, 10), {}),
        ("翌年3月底前", "date", dt.date(2026, 3, 31), {}),
        ("即日起", "open_ended", None, {}),
        ("贯穿活动全程", "open_ended", None, {}),
        ("专项整治期间", "open_ended", None, {}),
        ("汛期前", "relative", None, {"anchor": "汛期", "before": True}),
        ("2025年第三季度", "date", dt.date(2025, 9, 30), {}),
        ("本年度内", "date", dt.date(2025, 12, 31), {}),
    ],
)
def test_more_deadline_phrasings(text: str, kind: str, date: dt.date | None, rule: dict[str, object]) -> None:
    d = parse_deadline(text, 2025)
    assert (d.kind, d.date, d.rule) == (kind, date, rule)


def test_next_year_without_the_plans_year_keeps_a_rule() -> None:
    d = parse_deadline("次年1月10日前")
    assert (d.kind, d.date, d.rule) == ("date", None, {"month": 1, "day": 10, "year_offset": 1})
