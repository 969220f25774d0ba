"""Item numbers: Chinese, bracketed, Arabic, circled, and what is not a number."""

from __future__ import annotations

import pytest

from qiantou.planparse.numbering import chinese_to_int, match_marker


@pytest.mark.parametrize(
    ("line", "no", "kind", "value", "rest"),
    [
        ("一、总体要求", "一", "cn", 1, "总体要求"),
        ("二十一、加强领导", "二十一", "cn", 21, "加强领导"),
        ("（一）指导思想", "（一）", "pcn", 1, "指导思想"),
        ("(十一)做好衔接", "(十一)", "pcn", 11, "做好衔接"),
        ("1.推行", "1", "ar", 1, "推行"),
        ("1. 公共场所", "1", "ar", 1, "公共场所"),
        ("5、组织开展", "5", "ar", 5, "组织开展"),
        ("12．深化", "12", "ar", 12, "深化"),
        ("３、全角数字", "3", "ar", 3, "全角数字"),
        ("（1）细化", "（1）", "par", 1, "细化"),
        ("(2)细化", "(2)", "par", 2, "细化"),
        ("3）右括号", "3", "ar_paren", 3, "右括号"),
        ("②落实", "②", "circ", 2, "落实"),
        ("第三条 职责", "第三条", "art", 3, "职责"),
    ],
)
def test_markers(line: str, no: str, kind: str, value: int, rest: str) -> None:
    m = match_marker(line)
    assert m is not None
    assert (m.no, m.kind, m.value, line[m.end :]) == (no, kind, value, rest)


@pytest.mark.parametrize(
    "line", ["1.2万户", "2024年底前", "一是加强", "12345热线", "十三五规划", "市财政局", ""]
)
def test_not_markers(line: str) -> None:
    assert match_marker(line) is None


def test_chinese_numerals() -> None:
    assert [chinese_to_int(t) for t in ("一", "十", "十三", "二十", "二十一", "一百零五", "abc")] == [
        1,
        10,
        13,
        20,
        21,
        105,
        None,
    ]
