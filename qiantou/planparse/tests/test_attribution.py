"""Attribution forms, lead rules and list splitting (the fixtures README's "Rules used to assign units")."""

from __future__ import annotations

import pytest

from qiantou.planparse.attribution import (
    LEAD_UNDETERMINED,
    assign_roles,
    find_lead_rule,
    is_unit_like,
    parse_attribution,
    split_units,
)


def roles(text: str, *, first_listed: bool = False) -> tuple[list[str], list[str], list[str]]:
    attr = parse_attribution(text)
    assert attr is not None, text
    return assign_roles(attr, first_listed=first_listed)


@pytest.mark.parametrize(
    ("text", "lead", "coop"),
    [
        ("牵头单位：市民政局；配合单位：市司法局、市公安局", ["市民政局"], ["市司法局", "市公安局"]),
        ("牵头单位:市卫生健康委,责任单位:市教育局,市总工会", ["市卫生健康委"], ["市教育局", "市总工会"]),
        ("市商务局牵头，市农业农村局、市供销社配合", ["市商务局"], ["市农业农村局", "市供销社"]),
        ("市委组织部牵头卖力,市级各有关部门配合", ["市委组织部"], ["市级各有关部门"]),
        ("牵头责任单位：市教育局", ["市教育局"], []),
        ("协同责任单位：团市委、市妇联；牵头责任单位：市教育局", ["市教育局"], ["团市委", "市妇联"]),
        ("部门分工：市交通运输局牵头，市公安局、团市委配合", ["市交通运输局"], ["市公安局", "团市委"]),
        ("部门分工：市商务局、市供销社牵头，市交通运输局配合", ["市商务局", "市供销社"], ["市交通运输局"]),
        ("市机关事务局、市教育局牵头负责", ["市机关事务局", "市教育局"], []),
        (
            "市农业农村局、市商务局分别牵头，市供销社按职责分工负责",
            ["市农业农村局", "市商务局"],
            ["市供销社"],
        ),
        ("由市供销社会同市邮政管理局、青山邮政分公司负责", ["市供销社"], ["市邮政管理局", "青山邮政分公司"]),
        ("市人力资源社会保障局会同市财政局负责", ["市人力资源社会保障局"], ["市财政局"]),
        ("市财政局牵头，市民政局负责", ["市财政局"], ["市民政局"]),
        ("牵头单位：市供销社；责任单位：市农业农村局", ["市供销社"], ["市农业农村局"]),
    ],
)
def test_explicit_markers_decide_the_lead(text: str, lead: list[str], coop: list[str]) -> None:
    got_lead, got_coop, _ = roles(text)
    assert (got_lead, got_coop) == (lead, coop)


def test_a_stated_first_listed_rule_makes_the_first_unit_lead() -> None:
    lead, coop, warnings = roles("市市场监管局、市司法局、各县（市、区）人民政府负责", first_listed=True)
    assert lead == ["市市场监管局"]
    assert coop == ["市司法局", "各县（市、区）人民政府"]
    assert warnings == []


def test_without_a_rule_a_bare_list_is_flagged_and_kept_in_order() -> None:
    lead, coop, warnings = roles("青山农商银行、人民银行青山市分行负责")
    assert lead == ["青山农商银行", "人民银行青山市分行"]
    assert coop == []
    assert warnings and warnings[0].startswith(LEAD_UNDETERMINED)


def test_a_single_responsible_unit_leads() -> None:
    lead, coop, warnings = roles("责任单位：市委宣传部")
    assert (lead, coop, warnings) == (["市委宣传部"], [], [])


@pytest.mark.parametrize(
    "text",
    [
        "市政务服务和大数据管理局、市发展改革委负责。列第一位者为牵头单位，下同",
        "市政务服务和大数据管理局、市发展改革委负责，排在首位的为牵头单位，下同",
        "市政务服务和大数据管理局、市发展改革委负责，除标注“分别牵头”外，列第一位者为牵头或汇总单位，下同",
    ],
)
def test_the_rule_clause_is_found_and_is_not_a_unit(text: str) -> None:
    attr = parse_attribution(text)
    assert attr is not None and attr.rule
    assert attr.responsible == ["市政务服务和大数据管理局", "市发展改革委"]


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("（市财政局负责。列第一位者为牵头单位，下同）", "列第一位者为牵头单位，下同"),
        ("请抓好落实（责任单位中排在第一位的为牵头单位）。", "责任单位中排在第一位的为牵头单位"),
        ("1.牵头单位栏为空的，责任单位栏中列第一位者为牵头单位。", "责任单位栏中列第一位者为牵头单位"),
        ("排名第一的单位为牵头单位", "排名第一的单位为牵头单位"),
    ],
)
def test_lead_rule_variants(text: str, rule: str) -> None:
    assert find_lead_rule(text) == rule


def test_no_rule_in_ordinary_text() -> None:
    assert find_lead_rule("各牵头单位要建立工作台账，每季度末报送进展。") is None


@pytest.mark.parametrize(
    ("text", "units", "generic"),
    [
        (
            "市财政局、市工业和信息化局、市国资委、各县、市、区政府",
            ["市财政局", "市工业和信息化局", "市国资委", "各县、市、区政府"],
            [],
        ),
        ("市司法局、各县（市、区）人民政府", ["市司法局", "各县（市、区）人民政府"], []),
        ("市文化广电旅游局，各县<市、区>人民政府", ["市文化广电旅游局", "各县<市、区>人民政府"], []),
        (
            "市住房城乡建设局、市政务服务和大数据管理局等有关部门",
            ["市住房城乡建设局", "市政务服务和大数据管理局"],
            ["有关部门"],
        ),
        ("市财政局、团市委、市妇联等", ["市财政局", "团市委", "市妇联"], []),
        (
            "市委组织部、市工业和信息化局等和各县（市、区）人民政府",
            ["市委组织部", "市工业和信息化局", "各县（市、区）人民政府"],
            [],
        ),
        (
            "市残联，市财政局；市民政局;市商务局,市税务局",
            ["市残联", "市财政局", "市民政局", "市商务局", "市税务局"],
            [],
        ),
        ("市卫生健康委及各县（市、区）人民政府", ["市卫生健康委", "各县（市、区）人民政府"], []),
        ("市自然资源和规划局", ["市自然资源和规划局"], []),  # 和 never splits
        ("市高等教育局", ["市高等教育局"], []),  # 等 inside a name
    ],
)
def test_split_units(text: str, units: list[str], generic: list[str]) -> None:
    assert split_units(text) == (units, generic)


def test_line_breaks_separate_only_when_asked() -> None:
    assert split_units("临江区人民政府\n东湖区人民政府", newline_separates=True)[0] == [
        "临江区人民政府",
        "东湖区人民政府",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "清理结果报市政府备案",
        "产品目录由人民银行青山市分行另行发布",
        "不含已供应的存量用地",
        "企业可直接向市公共资源交易中心反映有关问题",
        "政策执行期至2024年12月31日",
        "采购比例原则上不低于30%",
        "涉及刑事案件的按照有关规定办理",
        "本文有删减",
    ],
)
def test_brackets_that_are_not_attributions(text: str) -> None:
    assert parse_attribution(text) is None


def test_alias_is_recorded_and_not_a_unit() -> None:
    attr = parse_attribution(
        "牵头单位：市民政局；配合单位：各县（市、区）人民政府（以下统称各县（市、区）政府）"
    )
    assert attr is not None
    assert attr.cooperating == ["各县（市、区）人民政府"]
    assert attr.aliases == {"各县（市、区）政府": "各县（市、区）人民政府"}


def test_deadline_inside_the_attribution() -> None:
    attr = parse_attribution("责任时限:2024年6月底前,牵头单位:市城市管理局,责任单位:市住房城乡建设局")
    assert attr is not None and attr.deadline == "2024年6月底前"
    attr = parse_attribution("市司法局负责，长期坚持")
    assert attr is not None and attr.deadline == "长期坚持"


def test_a_cut_off_attribution_is_flagged() -> None:
    attr = parse_attribution("牵头单位：市民政局；配合单位：市财……")
    assert attr is not None and attr.truncated


def test_narrative_text_is_not_an_attribution_in_strict_mode() -> None:
    assert parse_attribution("本清单由市民政局负责解释", strict=True) is None
    assert parse_attribution("各责任单位主要负责同志要亲自研究部署", strict=True) is None
    assert parse_attribution("由市供销社会同市邮政管理局负责", strict=True) is not None


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("市应急管理局", True),
        ("团市委", True),
        ("各乡镇（街道）", True),
        ("国网青山供电公司", True),
        ("市教", False),
        ("推动新时代文明实践站与社区志愿服务站点融合运行的", False),
    ],
)
def test_unit_like(name: str, ok: bool) -> None:
    assert is_unit_like(name) is ok


@pytest.mark.parametrize(
    ("text", "lead", "coop"),
    [
        # forms first met in the unseen-style plans (tests/fixtures/extra)
        ("市卫生健康委牵头负责，市医保局、市财政局协同配合", ["市卫生健康委"], ["市医保局", "市财政局"]),
        ("市文化广电旅游局牵头，市商务局积极配合", ["市文化广电旅游局"], ["市商务局"]),
        ("责任单位：市教育局为主，市财政局、市自然资源和规划局配合", ["市教育局"], ["市财政局", "市自然资源和规划局"]),  # noqa: E501
        ("市科技局、市工业和信息化局分别负责", ["市科技局", "市工业和信息化局"], []),
        ("责任单位：市体育局（牵头）、市住房城乡建设局", ["市体育局"], ["市住房城乡建设局"]),
        ("主责单位：市民政局；协办单位：市卫生健康委", ["市民政局"], ["市卫生健康委"]),
        ("牵头部门：市财政局；参与部门：市审计局", ["市财政局"], ["市审计局"]),
        ("市商务局负责，市农业农村局参与", ["市商务局"], ["市农业农村局"]),
    ],
)
def test_more_marker_wordings(text: str, lead: list[str], coop: list[str]) -> None:
    got_lead, got_coop, _warnings = roles(text)
    assert (got_lead, got_coop) == (lead, coop)
