"""Lead-unit suggestion on hand-written cases (a small invented directory, no database)."""

from __future__ import annotations

import pytest

from qiantou.allocation.suggestion import LeadSuggester, UnitProfile, lead_differs

UNITS = [
    UnitProfile(code="G1", name="江城市人民政府", kind="government", short_names=("市政府",),
                mandate="领导市政府各工作部门，召开政府常务会议，"
                "依法管理全市经济、社会事务、教育、民政、养老和公共服务。", id=1),
    UnitProfile(code="B1", name="江城市民政局", short_names=("市民政局",), parent_code="G1",
                mandate="负责社会救助、养老服务和儿童福利。"
                "承担最低生活保障、特困供养和低收入人口动态监测。", id=2),
    UnitProfile(code="B2", name="江城市教育局", short_names=("市教育局",), parent_code="G1",
                mandate="负责中小学、幼儿园管理和教育督导，承担学生资助和校园安全。", id=3),
    UnitProfile(code="B3", name="江城市市场监督管理局", short_names=("市市场监管局",), parent_code="G1",
                mandate="负责市场主体登记和食品、特种设备安全监管。承担公平竞争审查和价格监督检查。", id=4),
    UnitProfile(code="B4", name="江城市司法局", short_names=("市司法局",), parent_code="G1",
                mandate="承担行政执法监督，负责社区矫正和刑满释放人员安置帮教，掌握服刑人员信息。", id=5),
    UnitProfile(code="X1", name="市级各有关部门", kind="group",
                mandate="集合称谓：按职责分工承担相关工作的市级部门，养老、教育、食品都有。", id=6),
    UnitProfile(code="D1", name="江城市粮食局", active=False, mandate="负责粮食储备和食品安全。", id=7),
]


@pytest.fixture(scope="module")
def suggester() -> LeadSuggester:
    return LeadSuggester(UNITS)


def test_mandate_match_ranks_the_unit_whose_job_it_is(suggester: LeadSuggester) -> None:
    top = suggester.suggest("开展低保对象动态监测，对特困人员落实供养政策。", top=3)
    assert top[0].code == "B1"
    assert "特困" in "".join(top[0].matched_terms)
    assert any("最低生活保障" in p or "特困" in p for p in top[0].mandate_phrases)


def test_traditional_script_reads_like_simplified(suggester: LeadSuggester) -> None:
    simplified = suggester.suggest("加强校园安全管理，完善学生资助。", top=2)
    traditional = suggester.suggest("加強校園安全管理，完善學生資助。", top=2)
    assert simplified[0].code == traditional[0].code == "B2"


def test_group_inactive_and_top_level_government_are_not_suggested(suggester: LeadSuggester) -> None:
    codes = [s.code for s in suggester.suggest("做好养老、教育和食品安全工作。", top=10)]
    assert "X1" not in codes and "D1" not in codes and "G1" not in codes
    assert codes  # the departments still answer


def test_top_level_government_only_when_nothing_else_fits(suggester: LeadSuggester) -> None:
    ranked = suggester.suggest("按时召开政府常务会议。", top=3)
    assert ranked and ranked[0].code == "G1" and ranked[0].fallback


def test_unit_named_in_the_text_is_lifted(suggester: LeadSuggester) -> None:
    ranked = suggester.suggest("由市司法局会同有关部门开展食品安全普法宣传。", top=3)
    assert ranked[0].code == "B4" and ranked[0].named_in_text


def test_history_learns_from_stored_plans_but_never_from_the_plan_itself() -> None:
    history = [("p1", "B3", "规范农贸市场经营秩序，开展标准化改造。")]
    warm = LeadSuggester(UNITS, history)
    assert warm.suggest("完成农贸市场标准化改造。", top=1)[0].code == "B3"
    own = warm.suggest("完成农贸市场标准化改造。", top=3, exclude_plan="p1")
    assert all("农贸" not in t for s in own for t in s.matched_terms)


def test_empty_text_gives_nothing(suggester: LeadSuggester) -> None:
    assert suggester.suggest("   ") == []


def test_lead_differs_only_says_so_when_there_is_a_printed_lead(suggester: LeadSuggester) -> None:
    ranked = suggester.suggest("开展低保对象动态监测。", top=3)
    assert lead_differs([3], ranked) is True
    assert lead_differs([2], ranked) is False
    assert lead_differs([], ranked) is False
