"""Lead-unit suggestion on hand-written cases (a small invented directory, no database)."""

from __future__ import annotations

import pytest

from qiantou.allocation.suggestion import LeadSuggester, UnitProfile, Weights, lead_differs

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
    with_own = warm.channels("完成农贸市场标准化改造。")
    without_own = warm.channels("完成农贸市场标准化改造。", exclude_plan="p1")
    assert with_own is not None and without_own is not None
    assert max(with_own.history) > 0
    assert max(without_own.history) == 0  # the plan's own task never vouches for itself


def test_empty_text_gives_nothing(suggester: LeadSuggester) -> None:
    assert suggester.suggest("   ") == []


def test_lead_differs_only_says_so_when_there_is_a_printed_lead(suggester: LeadSuggester) -> None:
    ranked = suggester.suggest("开展低保对象动态监测。", top=3)
    assert lead_differs([3], ranked) is True
    assert lead_differs([2], ranked) is False
    assert lead_differs([], ranked) is False


# --- the government-function lexicon, committee offices, enterprises ------------------------------
# A second invented directory (河州市): short mandates that do not spell out the tasks' words.

HEZHOU = [
    UnitProfile(code="H0", name="河州市人民政府", kind="government", id=100,
                mandate="领导市政府各工作部门，依法管理全市经济、社会事务和公共服务。"),
    UnitProfile(code="H1", name="河州市住房和城乡建设局", short_names=("市住建局",), parent_code="H0",
                mandate="负责住房保障和房地产市场监管，承担城乡建设管理。", id=101),
    UnitProfile(code="H2", name="河州市卫生健康委员会", short_names=("市卫健委",), parent_code="H0",
                mandate="负责医疗卫生服务体系建设和公共卫生。", id=102),
    UnitProfile(code="H3", name="河州市交通运输局", short_names=("市交通局",), parent_code="H0",
                mandate="负责公路、水路交通运输行业管理。", id=103),
    UnitProfile(code="H4", name="河州市应急管理局", short_names=("市应急局",), parent_code="H0",
                mandate="负责安全生产综合监督管理和应急救援，承担危险化学品安全监管。", id=104),
    UnitProfile(code="H5", name="河州市安全生产委员会办公室", short_names=("市安委办",), kind="office",
                parent_code="H0", id=105,
                mandate="承担市安全生产委员会日常工作，组织安全生产考核巡查，设在市应急管理局。"),
    UnitProfile(code="H6", name="河州市公共交通集团有限公司", short_names=("市公交集团",), kind="enterprise",
                mandate="市属国有企业，负责城市公交和城乡公交线路运营。", id=106),
    UnitProfile(code="H7", name="河州市市场监督管理局", short_names=("市市场监管局",), parent_code="H0",
                mandate="负责市场主体登记和食品、特种设备安全监管。", id=107),
    UnitProfile(code="H8", name="河州市民政局", short_names=("市民政局",), parent_code="H0",
                mandate="负责社会救助和养老服务。", id=108),
]


@pytest.fixture(scope="module")
def hezhou() -> LeadSuggester:
    return LeadSuggester(HEZHOU)


def test_lexicon_finds_the_housing_bureau_for_elevator_retrofits(hezhou: LeadSuggester) -> None:
    ranked = hezhou.suggest("为既有住宅加装电梯200部。", top=3)
    assert ranked[0].code == "H1"
    assert "加装电梯" in ranked[0].matched_terms
    assert "住房和城乡建设" in ranked[0].domains
    # 电梯 alone is 市场监管's (特种设备); inside 加装电梯 it gives way to the longer term
    assert all("电梯" not in s.matched_terms for s in ranked)


def test_lexicon_words_the_mandates_do_not_contain(hezhou: LeadSuggester) -> None:
    assert hezhou.suggest("新增普惠托位1000个。", top=1)[0].code == "H2"
    assert hezhou.suggest("实施城区易涝积水点改造20处。", top=1)[0].code == "H1"
    assert hezhou.suggest("开展特殊困难老年人家庭适老化改造。", top=1)[0].code == "H8"


def test_department_leads_over_an_enterprise_doing_the_same_work(hezhou: LeadSuggester) -> None:
    codes = [s.code for s in hezhou.suggest("开通至西岭县的城乡公交线路。", top=3)]
    assert codes[0] == "H3" and "H6" in codes  # the operator still shows, below the department


def test_an_enterprise_named_in_the_text_still_leads(hezhou: LeadSuggester) -> None:
    ranked = hezhou.suggest("由市公交集团负责更新新能源公交车100辆。", top=2)
    assert ranked[0].code == "H6" and ranked[0].named_in_text


def test_committee_office_leads_coordination_and_its_host_the_operational_work(
    hezhou: LeadSuggester,
) -> None:
    assert (hezhou.units.index(HEZHOU[5]), hezhou.units.index(HEZHOU[4])) in hezhou.office_hosts
    coordinating = hezhou.suggest("将安全生产工作纳入年度考核，每月通报各地进展。", top=2)
    assert [s.code for s in coordinating] == ["H5", "H4"]
    assert "考核" in coordinating[0].coordination
    operational = hezhou.suggest("开展危险化学品企业重大事故隐患排查整治。", top=2)
    assert [s.code for s in operational] == ["H4", "H5"]
    assert operational[0].coordination == ()


def test_office_host_rule_can_be_switched_off_for_measurement(hezhou: LeadSuggester) -> None:
    text = "将安全生产工作纳入年度考核，每月通报各地进展。"
    ch = hezhou.channels(text)
    assert ch is not None
    office = hezhou.units.index(HEZHOU[5])
    assert hezhou.combine(ch)[1] == {office}
    assert hezhou.combine(ch, Weights(office_host=False))[1] == set()


def test_a_directory_without_mandate_texts_still_ranks_by_name(hezhou: LeadSuggester) -> None:
    from dataclasses import replace

    bare = LeadSuggester([replace(u, mandate="") for u in HEZHOU])
    assert bare.suggest("推进老旧小区改造和物业管理。", top=1)[0].code == "H1"
    assert bare.suggest("规范农贸市场食品安全管理。", top=1)[0].code == "H7"


def test_fit_scores_use_the_lexicon_too(hezhou: LeadSuggester) -> None:
    fit = hezhou.fit_scores("为既有住宅加装电梯。")
    assert fit["H1"] == 1.0 and "H0" not in fit
    assert all(0 < v <= 1 for v in fit.values())


def test_suggestion_json_carries_domains_and_coordination(hezhou: LeadSuggester) -> None:
    shape = hezhou.suggest("为既有住宅加装电梯。", top=1)[0].as_dict()
    assert shape["domains"] == ["住房和城乡建设"] and shape["coordination"] == []
