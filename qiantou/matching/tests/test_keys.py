"""Identity-number canonicalisation (GB 11643-1999), name normalisation, dates and overlaps."""

from __future__ import annotations

import datetime as dt

import pytest

from qiantou.matching.keys import (
    IdNumberError,
    canonical_id,
    check_digit,
    normalize_person_name,
    normalize_person_names,
    parse_date,
    person_keys,
)
from qiantou.matching.protocol import MatchedEpisode, overlap_days

# The example number printed in GB 11643-1999 (check digit X) and its legacy 15-digit form.
EXAMPLE = "11010519491231002X"


def test_check_digit_of_the_standard_example() -> None:
    assert check_digit(EXAMPLE[:17]) == "X"
    assert check_digit("44052418800101001") == "4"


@pytest.mark.parametrize(
    "written",
    [
        EXAMPLE,
        "11010519491231002x",  # lower-case x
        "１１０１０５１９４９１２３１００２Ｘ",  # full-width digits and Ｘ
        "１１０１０５１９４９１２３１００２ｘ",
        " 110105 19491231 002X ",  # spaces
        "110105-19491231002X",
        "'11010519491231002X",  # Excel's text marker
        "110105491231002",  # legacy 15 digits: "19" inserted, check digit computed
        "１１０１０５４９１２３１００２",
    ],
)
def test_dirty_forms_fold_to_the_canonical_number(written: str) -> None:
    assert canonical_id(written) == EXAMPLE


@pytest.mark.parametrize(
    ("written", "reason"),
    [
        ("", "为空"),
        ("110105194912310021", "校验位错误（应为X）"),
        ("11010519491231002", "应为18位或15位"),
        ("1101051949123100X2", "非法字符"),
        ("110105199002300020", "出生日期无效"),
        ("990105194912310020", "地址码无效"),
        ("11010549123100A", "15位身份号码应全为数字"),
        ("110105209912310024", "出生日期无效"),  # in the future
    ],
)
def test_invalid_numbers_say_why(written: str, reason: str) -> None:
    with pytest.raises(IdNumberError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        canonical_id(written, today=dt.date(2025, 1, 1))


@pytest.mark.parametrize(
    "variant",
    [
        "阿依古丽·买买提",
        "阿依古丽•買買提",
        "阿依古丽・买买提",
        "阿依古丽‧买买提",
        "阿依古丽･买买提",
        "阿依古丽∙买买提",
        "阿依古丽⋅买买提",
        "阿依古丽．买买提",
        "阿依古丽.买买提",
        "阿依古丽 · 买买提",
        "阿依古丽··买买提",
        "阿依古麗·買買提",
    ],
)
def test_every_middle_dot_variant_and_traditional_form_is_one_name(variant: str) -> None:
    assert normalize_person_name(variant) == "阿依古丽·买买提"


def test_traditional_and_full_width_names() -> None:
    assert normalize_person_names(["張 三", "劉德華", "王　五", "陳ＡＢ"]) == [
        "张三",
        "刘德华",
        "王五",
        "陈AB",
    ]
    assert normalize_person_name("張三") != normalize_person_name("张山")


@pytest.mark.parametrize(
    "text", ["1990-03-07", "1990/3/7", "1990.03.07", "1990年3月7日", "19900307", "１９９０-０３-０７"]
)
def test_dates_in_the_usual_forms(text: str) -> None:
    assert parse_date(text) == dt.date(1990, 3, 7)


def test_bad_date_is_an_error_and_empty_is_none() -> None:
    assert parse_date(" ") is None
    with pytest.raises(ValueError):
        parse_date("3/7/1990")
    with pytest.raises(ValueError):
        parse_date("1990-02-30")


def test_person_keys_fall_back_to_the_id_for_birth_and_sex() -> None:
    full = person_keys(EXAMPLE, "张三", "1949-12-31", "女")
    derived = person_keys("110105491231002", "张三", "", "")
    assert full.id_key == derived.id_key == b"ID|" + EXAMPLE.encode()
    assert full.name_key == derived.name_key == "NB|张三|19491231|2".encode()


def test_invalid_id_keeps_the_name_key_and_reports_the_reason() -> None:
    keys = person_keys("110105194912310021", "张三", "1949-12-31", "2")
    assert keys.id_key is None and keys.id_error and "校验位" in keys.id_error
    assert keys.name_key == "NB|张三|19491231|2".encode()


def test_missing_sex_without_valid_id_gives_no_name_key() -> None:
    keys = person_keys("bad", "张三", "1949-12-31", "")
    assert keys.id_key is None and keys.name_key is None and keys.name_error == "性别为空"


def _ep(kind: str, start: str, end: str | None) -> MatchedEpisode:
    return MatchedEpisode(
        kind, dt.date.fromisoformat(start), dt.date.fromisoformat(end) if end else None, "00"
    )


BENEFIT = (dt.date(2024, 1, 1), dt.date(2024, 12, 31))
AS_OF = dt.date(2025, 6, 30)


@pytest.mark.parametrize(
    ("episode", "days"),
    [
        (_ep("收监执行", "2023-01-01", "2023-12-31"), None),  # ends the day before
        (_ep("收监执行", "2023-01-01", "2024-01-01"), 1),  # ends on the first day
        (_ep("看守所羁押", "2024-12-31", "2025-03-01"), 1),  # starts on the last day
        (_ep("收监执行", "2025-01-01", None), None),  # starts the day after
        (_ep("收监执行", "2024-03-01", "2024-03-31"), 31),  # inside
        (_ep("收监执行", "2020-01-01", None), 366),  # open-ended, covers the whole (leap) year
        (_ep("监外执行", "2024-03-01", "2024-03-31"), None),  # not in custody
        (_ep("假释", "2024-03-01", None), None),
        (_ep("社区矫正", "2024-03-01", None), None),
    ],
)
def test_overlap_with_the_benefit_period(episode: MatchedEpisode, days: int | None) -> None:
    assert overlap_days(episode, *BENEFIT, AS_OF) == days


def test_open_benefit_period_counts_up_to_as_of() -> None:
    assert overlap_days(_ep("收监执行", "2025-06-01", None), dt.date(2024, 1, 1), None, AS_OF) == 30
