"""The parser on small documents built in the test: structure, attribution forms, tables, lead rules."""

from __future__ import annotations

import datetime as dt

from qiantou.planparse import parse_document
from qiantou.planparse.document import Paragraph, ParsedPlan, SourceDocument, Table


def doc(*blocks: str | Table, kind: str = "txt") -> SourceDocument:
    return SourceDocument(
        filename="t.txt",
        kind=kind,  # type: ignore[arg-type]
        blocks=[Paragraph(b) if isinstance(b, str) else b for b in blocks],
    )


def parse(*blocks: str | Table, year: int | None = 2024) -> ParsedPlan:
    return parse_document(doc(*blocks), year=year)


def test_headings_targets_and_safeguards_are_not_tasks() -> None:
    plan = parse(
        "某市优化营商环境任务分工方案",
        "一、总体要求",
        "（一）指导思想。坚持以人民为中心。",
        "（二）工作目标。到2024年底，营商环境进入全省前列。",
        "二、重点任务",
        "（一）提升政务服务效能",
        "1.推行“一件事一次办”。（市政务服务和大数据管理局负责）",
        "三、保障措施",
        "（一）加强组织领导。市优化营商环境工作领导小组办公室牵头抓总，各责任单位主要负责同志要亲自部署。",
    )
    assert [(t.no, t.path) for t in plan.tasks] == [("1", "2.1.1")]
    assert plan.tasks[0].lead_units == ["市政务服务和大数据管理局"]
    assert plan.title == "某市优化营商环境任务分工方案"


def test_rule_in_the_first_attribution_governs_later_lists() -> None:
    plan = parse(
        "1.甲事项。（市发展改革委、市财政局负责。列第一位者为牵头单位，下同）",
        "2.乙事项。（市财政局、市民政局、各县（市、区）人民政府负责）",
    )
    assert plan.lead_rule is not None and "列第一位者为牵头单位" in plan.lead_rule
    assert [t.lead_units for t in plan.tasks] == [["市发展改革委"], ["市财政局"]]
    assert plan.tasks[1].cooperating_units == ["市民政局", "各县（市、区）人民政府"]


def test_rule_stated_in_the_notice_applies_to_the_table() -> None:
    table = Table(
        rows=[
            ["序号", "工作任务", "责任单位", "完成时限"],
            ["1", "开展隐患排查。", "市应急管理局、市公安局", "持续推进"],
        ]
    )
    plan = parse("现将任务分工印发给你们（责任单位中排在第一位的为牵头单位）。", table)
    assert plan.tasks[0].lead_units == ["市应急管理局"]
    assert plan.tasks[0].cooperating_units == ["市公安局"]
    assert plan.tasks[0].warnings == []


def test_without_a_rule_the_lead_is_undetermined_and_flagged() -> None:
    plan = parse("1.甲事项。（青山农商银行、人民银行青山市分行负责）")
    task = plan.tasks[0]
    assert task.lead_units == ["青山农商银行", "人民银行青山市分行"]
    assert any(w.startswith("lead_undetermined") for w in task.warnings)


def test_nested_measures_with_attributions_at_both_levels() -> None:
    plan = parse(
        "一、优化环境",
        "（一）破除准入壁垒。（市发展改革委负责）",
        "1.落实负面清单。（市商务局负责）",
        "2.清理不合理限制。（市公共资源交易中心负责）",
        "（二）完善公平竞争制度。（市市场监管局负责）",
    )
    assert [(t.no, t.parent_no, t.path) for t in plan.tasks] == [
        ("（一）", None, "1.1"),
        ("1", "（一）", "1.1.1"),
        ("2", "（一）", "1.1.2"),
        ("（二）", None, "1.2"),
    ]


def test_several_attributions_in_one_item_make_several_tasks() -> None:
    plan = parse(
        "（二）完善公平竞争制度。开展政策清理；（市市场监管局、市司法局负责）建立听取意见机制；"
        "（市工商联、市司法局负责）设置不少于30日的过渡期。（市级各有关部门负责）"
    )
    assert [t.no for t in plan.tasks] == ["（二）"] * 3
    assert [t.text[:6] for t in plan.tasks] == ["完善公平竞争", "建立听取意见", "设置不少于3"]
    assert [t.lead_units for t in plan.tasks] == [
        ["市市场监管局", "市司法局"],
        ["市工商联", "市司法局"],
        ["市级各有关部门"],
    ]
    assert all(t.deadline.kind == "none" for t in plan.tasks)  # 不少于30日 is not a deadline


def test_block_lines_and_person_lines() -> None:
    plan = parse(
        "三、任务分工",
        "1. 公共场所秩序整治。重点整治车站、广场。",
        "牵头领导：王立群",
        "牵头单位：市城市管理局",
        "配合单位：市公安局、市市场监管局、各县（市、区）人民政府",
        "完成时限：2024年5月底前",
        "2、志愿服务。推动文明实践站融合运行。",
        "分管领导：陈德明",
        "部门分工：市交通运输局牵头，市公安局、团市委配合",
        "完成时限：测评反馈后15个工作日内",
    )
    a, b = plan.tasks
    assert a.lead_units == ["市城市管理局"]
    assert a.cooperating_units == ["市公安局", "市市场监管局", "各县（市、区）人民政府"]
    assert a.deadline.text == "2024年5月底前" and a.deadline.date == dt.date(2024, 5, 31)
    assert b.lead_units == ["市交通运输局"] and "陈德明" not in b.lead_units + b.cooperating_units
    assert b.deadline.kind == "relative" and b.deadline.rule == {"anchor": "测评反馈", "working_days": 15}


def test_brackets_of_any_kind_and_notes_that_are_not_attributions() -> None:
    plan = parse(
        "4.支持电商平台开设专区。[牵头单位：市商务局；配合单位：市人社局、团市委]",
        "5.完善追溯体系。〔牵头单位：市农业农村局；配合单位：市市场监管局〕",
        "6.开展清理（清理结果报市政府备案）。（市市场监管局负责）",
    )
    assert [t.lead_units for t in plan.tasks] == [["市商务局"], ["市农业农村局"], ["市市场监管局"]]
    assert plan.tasks[2].text.startswith("开展清理（清理结果报市政府备案）")


def test_narrative_huitong_at_the_start_of_an_item() -> None:
    plan = parse("3.由市供销社会同市邮政管理局、青山邮政分公司负责，完善三级物流配送体系。")
    assert plan.tasks[0].lead_units == ["市供销社"]
    assert plan.tasks[0].cooperating_units == ["市邮政管理局", "青山邮政分公司"]


def test_explanations_with_unit_names_are_not_tasks() -> None:
    plan = parse(
        "1.牵头单位栏为空的，责任单位栏中列第一位者为牵头单位。",
        "2.本清单由市民政局负责解释，任务调整须报领导小组同意。",
        "各牵头单位要建立工作台账，每季度末向市民政局报送工作进展。",
    )
    assert plan.tasks == []


def test_carry_forward_sentence_adds_cooperating_units_to_later_tasks() -> None:
    plan = parse(
        "（一）甲。（市财政局负责）",
        "以下各项措施均需各县（市、区）人民政府、各开发区管委会抓好落实，不再单独列出。",
        "（二）乙。（市地方金融监管局、市财政局负责，列第一位者为牵头单位）",
    )
    assert plan.tasks[0].cooperating_units == []
    assert plan.tasks[1].cooperating_units == ["市财政局", "各县（市、区）人民政府", "各开发区管委会"]


def test_a_cut_off_attribution_is_not_imported_but_reported() -> None:
    plan = parse("1.甲。（牵头单位：市民政局）", "2.乙事项。（牵头单位：市民政局；配合单位：市财")
    assert [t.no for t in plan.tasks] == ["1"]
    assert any("截断" in w for w in plan.warnings)


def test_unnumbered_paragraph_with_an_attribution_is_a_task_without_number() -> None:
    plan = parse(
        "（三）甲。（牵头单位：市民政局）",
        "锛堝洓锛夊缓绔嬩富动发现机制。（牵头单位：市民政局；配合单位：市财政局）",
    )
    assert [t.no for t in plan.tasks] == ["（三）", None]


def test_in_text_deadline_is_taken_with_a_warning() -> None:
    plan = parse("3.完善机制，2024年10月底前完成首批目录编制。（市政务服务和大数据管理局负责）")
    task = plan.tasks[0]
    assert task.deadline.text == "2024年10月底前"
    assert any(w.startswith("deadline_in_text") for w in task.warnings)


def test_table_with_header_not_on_row_one_two_row_header_and_persons() -> None:
    rows = [
        [
            "民生实事督办台账",
            "民生实事督办台账",
            "民生实事督办台账",
            "民生实事督办台账",
            "民生实事督办台账",
            "民生实事督办台账",
        ],
        ["序号", "实事项目", "责任单位", "责任单位", "完成时限", "市分管领导"],
        ["序号", "实事项目", "牵头单位", "配合单位", "完成时限", "市分管领导"],
        [
            "1",
            "新建幼儿园8所。",
            "市教育局",
            "市住房城乡建设局、市自然资源和规划局",
            "2024年8月31日",
            "李文涛",
        ],
        ["2", "更换护眼灯具。", "市教育局", "", "持续推进", "李文涛"],
        ["注：进展情况每月28日前更新。", "", "", "", "", ""],
    ]
    plan = parse(Table(rows=rows))
    assert [(t.no, t.lead_units, t.cooperating_units) for t in plan.tasks] == [
        ("1", ["市教育局"], ["市住房城乡建设局", "市自然资源和规划局"]),
        ("2", ["市教育局"], []),
    ]
    assert plan.tasks[0].deadline.date == dt.date(2024, 8, 31)


def test_table_section_rows_and_measure_column() -> None:
    rows = [
        ["序号", "重点任务", "具体措施", "牵头单位", "配合单位", "完成时限"],
        ["一、厕所革命"] * 6,
        ["1", "推进厕所革命", "新建户厕1.2万户。", "市农业农村局", "市卫生健康委", "2024年11月底前"],
        ["二、污水治理"] * 6,
        ["4", "推进污水治理", "编制专项规划。", "市生态环境局", "市住房城乡建设局", "每季度"],
    ]
    plan = parse(Table(rows=rows))
    assert [(t.no, t.path, t.text) for t in plan.tasks] == [
        ("1", "1.1", "新建户厕1.2万户。"),
        ("4", "2.4", "编制专项规划。"),
    ]


def test_blank_lead_cell_uses_the_first_listed_rule_from_another_sheet() -> None:
    tasks = Table(
        rows=[
            ["序号", "重点任务", "牵头单位", "责任单位", "分管领导", "完成时限"],
            ["1", "建立清单制度。", "市民政局", "市财政局", "王丽萍", "2024年6月底前"],
            ["2", "推进中心建设。", "", "临江区人民政府\n东湖区人民政府\n市民政局", "王丽萍", "2025年6底前"],
        ],
        sheet="任务清单",
    )
    notes = Table(
        rows=[["填表说明"], ["1.牵头单位栏为空的，责任单位栏中列第一位者为牵头单位。"]], sheet="填表说明"
    )
    plan = parse(tasks, notes)
    assert [(t.lead_units, t.cooperating_units) for t in plan.tasks] == [
        (["市民政局"], ["市财政局"]),
        (["临江区人民政府"], ["东湖区人民政府", "市民政局"]),
    ]
    assert plan.tasks[1].deadline.date == dt.date(2025, 6, 30)


def test_box_drawn_text_table_with_wrapped_cells_and_a_merged_lead_cell() -> None:
    lines = [
        "┌──┬────────┬──────┬────────┬─────┐",
        "│序号│重点任务        │牵头单位    │责任单位        │完成时限  │",
        "├──┼────────┼──────┼────────┼─────┤",
        "│1   │整治占道经营，规│市城市管理局│市市场监管局、各│持续推进  │",
        "│    │范便民疏导点。  │            │县（市、区）人民│          │",
        "│    │                │            │政府            │          │",
        "├──┼────────┤            ├────────┼─────┤",
        "│2   │推进垃圾分类。  │            │市住房城乡建设局│2024年11月│",
        "— 3 —",
        "│    │                │            │                │底前      │",
        "├──┼────────┼──────┼────────┼─────┤",
        "│3   │道路修复。      │市住房城乡建│市城市管理局    │2024—2025 │",
        "│    │                │设局        │                │年        │",
        "└──┴────────┴──────┴────────┴─────┘",
    ]
    plan = parse(*lines)
    assert [(t.no, t.lead_units, t.cooperating_units, t.deadline.text) for t in plan.tasks] == [
        ("1", ["市城市管理局"], ["市市场监管局", "各县（市、区）人民政府"], "持续推进"),
        ("2", ["市城市管理局"], ["市住房城乡建设局"], "2024年11月底前"),
        ("3", ["市住房城乡建设局"], ["市城市管理局"], "2024—2025年"),
    ]
    assert plan.tasks[0].text == "整治占道经营，规范便民疏导点。"


def test_flattened_table_with_split_header_a_pipe_row_and_a_truncated_row() -> None:
    plan = parse(
        "序号", "工作任务", "责任", "领导", "牵头单位", "配合单位",
        "1", "建立责任清单。", "周建平", "市市场监管局", "各县(市、区)人民政府",
        "|---|---|---|---|---|",
        "| 2 | 实施专项行动。 | 赵春燕 | 市农业农村局 | 市市场监管局、市公安局 |",
        "3", "开展守护行动。", "赵春燕", "市教", "……",
    )  # fmt: skip
    assert [(t.no, t.lead_units, t.cooperating_units) for t in plan.tasks] == [
        ("1", ["市市场监管局"], ["各县(市、区)人民政府"]),
        ("2", ["市农业农村局"], ["市市场监管局", "市公安局"]),
    ]
    assert any("截断" in w for w in plan.warnings)


def test_traditional_script_and_pinyin_left_by_a_reader_are_undone() -> None:
    plan = parse("1、統(tǒng)籌建設雲平臺。（市政務(wù)服務(wù)和大數據(jù)管理局、市工業和資訊化局負責）")
    assert plan.tasks[0].lead_units == ["市政务服务和大数据管理局", "市工业和信息化局"]


def test_year_is_read_from_the_title_when_not_given() -> None:
    plan = parse("青山市2023年重点工作任务分工", "1.甲。（市财政局负责，6月底前）", year=None)
    assert plan.year == 2023
    assert plan.tasks[0].deadline.date == dt.date(2023, 6, 30)


def test_json_shape() -> None:
    plan = parse("1.甲事项。（市财政局牵头，市民政局配合，每月28日前）")
    data = plan.as_json()
    assert set(data) == {"title", "doc_number", "lead_rule", "tasks", "warnings"}
    task = data["tasks"][0]
    assert set(task) == {
        "no", "path", "text", "lead_units", "cooperating_units", "generic_units", "deadline_text", "deadline",
        "warnings",
    }  # fmt: skip
    assert task["deadline"] == {
        "kind": "recurring",
        "date": None,
        "start": None,
        "rule": {"every": "month", "day": 28},
    }


def test_common_published_variants() -> None:
    plan = parse(
        "各部门：现印发给你们。排在第一位的为牵头单位，其他为配合单位。",
        "1.优化营商环境。（市发展改革委牵头，各县区、市直各部门按职责分工负责）",
        "2.扩大有效投资。（市发展改革委、市财政局等按职责分工负责）",
        "3.加强组织领导。",
        "（责任单位：市委办公室、市政府办公室）",
        "4.推进数字政府建设，牵头单位：市大数据局；配合单位：市财政局；完成时限：2024年底前。",
        "5.做好防汛。责任单位：市水利局（牵头）、市应急局、市气象局 完成时限：每年汛期前",
        "6.抓好春耕。市农业农村局牵头，市供销社配合。",
    )
    got = [(t.no, t.lead_units, t.cooperating_units, t.deadline.text) for t in plan.tasks]
    assert got == [
        ("1", ["市发展改革委"], ["各县区", "市直各部门"], None),
        ("2", ["市发展改革委"], ["市财政局"], None),
        ("3", ["市委办公室"], ["市政府办公室"], None),
        ("4", ["市大数据局"], ["市财政局"], "2024年底前"),
        ("5", ["市水利局"], ["市应急局", "市气象局"], "每年汛期前"),
        ("6", ["市农业农村局"], ["市供销社"], None),
    ]
    assert plan.tasks[2].text == "加强组织领导。"
    assert plan.tasks[3].text == "推进数字政府建设"


def test_time_brackets_next_to_the_attribution_are_its_deadline() -> None:
    plan = parse(
        "1.推进甲。（市财政局负责）（2024年底前）",
        "2.推进乙（2025年6月底前）（市民政局负责）",
        "各县（市、区）人民政府为各项任务的责任单位，不再一一列出。",
        "3.推进丙。（市商务局负责）",
    )
    assert [(t.text, t.deadline.text) for t in plan.tasks] == [
        ("推进甲。", "2024年底前"),
        ("推进乙", "2025年6月底前"),
        ("推进丙。", None),
    ]
    assert plan.tasks[2].cooperating_units == ["各县（市、区）人民政府"]
    assert plan.tasks[0].warnings == []


def test_table_cells_with_field_lines_and_lead_tags() -> None:
    table = Table(
        rows=[
            ["序号", "主要任务", "责任单位", "时间节点"],
            ["1", "推进改革。", "牵头单位：市财政局\n配合单位：市民政局、市人社局", "2024年12月"],
            ["2", "推进改造。", "市住建局（牵头）\n市财政局", "2024年上半年"],
        ]
    )
    plan = parse(table)
    assert [(t.lead_units, t.cooperating_units, t.deadline.date) for t in plan.tasks] == [
        (["市财政局"], ["市民政局", "市人社局"], dt.date(2024, 12, 31)),
        (["市住建局"], ["市财政局"], dt.date(2024, 6, 30)),
    ]



def test_long_unnumbered_passage_is_no_task_and_later_items_are_read() -> None:
    # (Its speed — linear in the number of lines — is measured by bench/import_speed.py.)
    from qiantou.planparse import parse_document
    from qiantou.planparse.document import Paragraph as P
    from qiantou.planparse.document import SourceDocument as Doc

    lines = ["一、关于进一步加强全市重点工作统筹推进的总体情况，说明如下"]
    lines += [f"第{i}段，各地区各部门要认真贯彻落实决策部署，持续推进改革（详见附表{i}）" for i in range(300)]
    lines += ["二、重点任务", "1.推进重点工作，完善机制。（市财政局牵头，市民政局配合）"]
    plan = parse_document(Doc("x.txt", "txt", [P(t) for t in lines]))
    found = [(t.no, t.lead_units, t.cooperating_units) for t in plan.tasks]
    assert found == [("1", ["市财政局"], ["市民政局"])]


def test_closing_responsibility_sentence_is_an_attribution_but_an_instruction_is_not() -> None:
    from qiantou.planparse import parse_document
    from qiantou.planparse.document import Paragraph as P
    from qiantou.planparse.document import SourceDocument as Doc

    lines = [
        "一、主要活动",
        "（一）开展安全生产进企业活动，推动企业落实主体责任。市应急管理局、市安委办按职责分工负责，贯穿活动全程。",
        "二、工作要求",
        "（一）加强督促检查。各有关部门要按职责分工负责。",
    ]
    plan = parse_document(Doc("x.txt", "txt", [P(t) for t in lines]))
    assert [(t.no, t.lead_units, t.deadline.kind) for t in plan.tasks] == [
        ("（一）", ["市应急管理局", "市安委办"], "open_ended")
    ]
