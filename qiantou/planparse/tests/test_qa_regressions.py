"""Defects found by a QA pass on the importer, each checked as a general rule (not one printed line)."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from pathlib import Path

import pytest
from django.core.management import call_command

from qiantou.planparse import parse_document
from qiantou.planparse.attribution import parse_attribution, parse_fields, take_deadlines
from qiantou.planparse.document import Paragraph, ParsedPlan, SourceDocument, Table, warning_text
from qiantou.planparse.readers import read_document

PLANS = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "cases" / "plans"


def parse(*blocks: str | Table, year: int | None = None) -> ParsedPlan:
    doc = SourceDocument(
        filename="t.txt",
        kind="txt",
        blocks=[Paragraph(b) if isinstance(b, str) else b for b in blocks],
    )
    return parse_document(doc, year=year)


# --- 1. a deadline listed with the units is the task's deadline, never a unit ----------------------


@pytest.mark.parametrize(
    "bracket,leads,coop,deadline",
    [
        (
            "牵头单位：市民政局；配合单位：市司法局；2026年6月底前",
            ["市民政局"],
            ["市司法局"],
            "2026年6月底前",
        ),
        ("责任单位：市财政局、市民政局，2026年底前", ["市财政局", "市民政局"], [], "2026年底前"),
        ("牵头单位：市财政局、每月10日前；配合单位：市民政局", ["市财政局"], ["市民政局"], "每月10日前"),
        ("市财政局牵头，市民政局、长期坚持", ["市财政局"], ["市民政局"], "长期坚持"),
        ("市财政局、市民政局负责，持续推进", ["市财政局", "市民政局"], [], "持续推进"),
    ],
)
def test_a_deadline_in_a_bracketed_unit_list_is_the_deadline(
    bracket: str, leads: list[str], coop: list[str], deadline: str
) -> None:
    plan = parse("青山市重点任务分工方案", "一、重点任务", f"1.建立低保比对机制。（{bracket}）", year=2026)
    [task] = plan.tasks
    assert (task.lead_units, task.cooperating_units, task.deadline.text) == (leads, coop, deadline)
    assert task.deadline.kind != "none"


def test_a_completion_time_field_wins_over_a_time_in_the_unit_list() -> None:
    attr = parse_attribution("牵头单位：市民政局；配合单位：市司法局、2026年6月底前；完成时限：2026年9月底前")
    assert attr is not None
    assert (attr.cooperating, attr.deadline) == (["市司法局"], "2026年9月底前")


def test_a_deadline_in_a_block_line_is_the_deadline() -> None:
    plan = parse(
        "青山市重点任务分工方案",
        "1.建立低保比对机制。",
        "牵头单位：市民政局",
        "配合单位：市司法局，2026年6月底前",
        year=2026,
    )
    [task] = plan.tasks
    assert (task.lead_units, task.cooperating_units) == (["市民政局"], ["市司法局"])
    assert task.deadline.date == dt.date(2026, 6, 30)


def test_a_deadline_in_a_table_unit_cell_is_the_deadline() -> None:
    table = Table(
        rows=[
            ["序号", "工作任务", "牵头单位", "配合单位"],
            ["1", "建立低保比对机制", "市民政局", "市司法局\n2026年6月底前"],
            ["2", "完善财政保障", "市财政局；2026年底前", "市民政局"],
        ]
    )
    plan = parse("青山市重点任务分工表", table, year=2026)
    got = [(t.lead_units, t.cooperating_units, t.deadline.date) for t in plan.tasks]
    assert got == [
        (["市民政局"], ["市司法局"], dt.date(2026, 6, 30)),
        (["市财政局"], ["市民政局"], dt.date(2026, 12, 31)),
    ]


def test_take_deadlines_keeps_units_that_merely_contain_digits() -> None:
    assert take_deadlines(["市第二人民医院", "12345热线办", "2026年底前"]) == (
        ["市第二人民医院", "12345热线办"],
        ["2026年底前"],
    )


# --- 2. field keys inside brackets (bracket depth computed in one pass) ----------------------------


def test_parse_fields_skips_keys_inside_brackets_at_any_position() -> None:
    text = "牵头单位：市财政局（配合单位：不是字段）；配合单位：市民政局【责任单位：也不是】、市司法局"
    assert parse_fields(text) == [
        ("lead", "市财政局（配合单位：不是字段）"),
        ("coop", "市民政局【责任单位：也不是】、市司法局"),
    ]
    # Unbalanced closers before a key do not make the depth negative.
    assert [r for r, _ in parse_fields("））；牵头单位：市财政局；配合单位：市民政局")] == [
        "",
        "lead",
        "coop",
    ]


def test_a_long_line_of_many_fields_keeps_every_unit() -> None:
    fields = "".join(f"牵头单位：市财政局；配合单位：市民政局{i}办；" for i in range(300))
    attr = parse_attribution(fields)
    assert attr is not None
    assert len(attr.cooperating) == 300 and attr.leads == ["市财政局"] * 300


# --- 3. the plan's year and implausible deadlines ----------------------------------------------------


def test_a_misprinted_year_does_not_become_the_plan_year() -> None:
    plan = parse(
        "重点任务分工方案",
        "1.推进档案数字化。（牵头单位：市档案馆；完成时限：1900年1月1日前）",
        "2.推进政务公开。（牵头单位：市政府办；完成时限：2026年6月底前）",
        "3.推进数据共享。（牵头单位：市数据局；完成时限：2026年9月底前）",
        "4.推进数据开放。（牵头单位：市数据局；完成时限：10月底前）",
    )
    assert plan.year == 2026
    assert plan.tasks[3].deadline.date == dt.date(2026, 10, 31)
    assert any(w.startswith("deadline_implausible") for w in plan.tasks[0].warnings)
    assert not any(w.startswith("deadline_") for t in plan.tasks[1:] for w in t.warnings)


def test_the_document_number_gives_the_year_and_far_future_deadlines_are_flagged() -> None:
    plan = parse(
        "青山市人民政府办公室",
        "青政办发〔2026〕12号",
        "重点任务分工方案",
        "1.推进档案数字化。（牵头单位：市档案馆；完成时限：2099年底前）",
        "2.推进政务公开。（牵头单位：市政府办；完成时限：2030年底前）",
    )
    assert plan.year == 2026
    assert any(w.startswith("deadline_implausible") for w in plan.tasks[0].warnings)
    assert plan.tasks[1].warnings == []


def test_a_deadline_before_the_plan_was_issued_is_flagged() -> None:
    plan = parse(
        "青山市2026年重点任务分工方案",
        "1.推进档案数字化。（牵头单位：市档案馆；完成时限：2026年2月底前）",
        "2.推进政务公开。（牵头单位：市政府办；完成时限：2025年底前）",
        "3.推进数据共享。（牵头单位：市数据局；完成时限：2026年6月底前）",
        "2026年3月10日",
    )
    warned = [any(w.startswith("deadline_before_issue") for w in t.warnings) for t in plan.tasks]
    assert warned == [True, True, False]


def test_a_day_no_calendar_has_is_flagged_not_moved_to_the_month_end() -> None:
    plan = parse(
        "青山市2026年重点任务分工方案",
        "1.推进档案数字化。（牵头单位：市档案馆；完成时限：2026年2月30日前）",
        "2.推进政务公开。（牵头单位：市政府办；完成时限：4月31日前）",
        "3.推进数据共享。（牵头单位：市数据局；完成时限：2月29日前）",  # 2026 is no leap year
        "4.推进电子证照。（牵头单位：市数据局；完成时限：2026年2月28日前）",
    )
    dates = [t.deadline.date for t in plan.tasks]
    assert dates == [None, None, None, dt.date(2026, 2, 28)]
    flagged = [[w for w in t.warnings if w.startswith("deadline_nonexistent")] for t in plan.tasks]
    assert ["2026年2月30日" in w[0] for w in flagged[:1]] == [True]
    assert "4月31日" in flagged[1][0] and "2026年2月29日" in flagged[2][0] and flagged[3] == []


# --- 4. what people read carries no internal code ----------------------------------------------------


def test_warning_text_drops_the_code_only() -> None:
    assert warning_text("odd_unit_name：“X”不像单位名称，请核对") == "“X”不像单位名称，请核对"
    assert warning_text("first_listed：列第一位者为牵头单位") == "列第一位者为牵头单位"
    assert warning_text("文件扩展名表示网页，但内容是文本：已按实际内容读取") == (
        "文件扩展名表示网页，但内容是文本：已按实际内容读取"
    )


# --- 5. no tasks; wrong extensions ----------------------------------------------------------------


def test_a_document_without_tasks_says_so() -> None:
    plan = parse("你好，这是一份没有任务的文件。", "只有一段说明文字。", year=2026)
    assert plan.tasks == []
    assert any("没有找到任务" in w for w in plan.warnings)


def test_parse_command_warns_on_no_tasks_and_exits_zero(tmp_path: Path) -> None:
    path = tmp_path / "hello.txt"
    path.write_text("你好，世界。\n这是一份普通的说明。\n", encoding="utf-8")
    out = io.StringIO()
    call_command("parse", str(path), "--json", stdout=out)  # raises CommandError on a non-zero exit
    data = json.loads(out.getvalue())
    assert data["tasks"] == [] and any("没有找到任务" in w for w in data["warnings"])


@pytest.mark.parametrize("name", ["plan.html", "plan.htm", "plan.docx", "plan.pdf"])
def test_plain_text_under_another_extension_is_warned_about(name: str) -> None:
    data = "青山市重点任务分工方案\n1.推进工作。（市财政局负责）\n".encode("gbk")
    doc = read_document(data, name)
    assert doc.kind == "txt"
    assert any("文件扩展名" in w for w in doc.warnings)


def test_plain_text_named_txt_has_no_extension_warning() -> None:
    doc = read_document("青山市重点任务分工方案\n".encode("gbk"), "plan.txt")
    assert not any("文件扩展名" in w for w in doc.warnings)


# --- 6. replacement characters --------------------------------------------------------------------


def test_a_task_with_replacement_characters_is_flagged() -> None:
    plan = parse(
        "重点任务分工方案",
        "1.推进统\ufffd开发。（市财政局负责，2026年底前）",
        "2.推进统一开发。（市财政局负责，2026年底前）",
        year=2026,
    )
    flagged = [any(w.startswith("unreadable_chars") for w in t.warnings) for t in plan.tasks]
    assert flagged == [True, False]


def test_dev03_mojibake_tasks_keeping_replacement_characters_are_flagged() -> None:
    path = PLANS / "dev03-dishouru-mojibake.txt"
    plan = parse_document(read_document(path.read_bytes(), path.name))
    bad = [t for t in plan.tasks if "\ufffd" in t.text]
    assert bad, "the fixture keeps replacement characters in some tasks"
    assert all(any(w.startswith("unreadable_chars") for w in t.warnings) for t in bad)
    clean = [t for t in plan.tasks if not re.search("\ufffd", t.text + "".join(t.lead_units))]
    assert not any(w.startswith("unreadable_chars") for t in clean for w in t.warnings)
