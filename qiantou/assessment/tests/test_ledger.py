"""The ledger (台账): .xlsx and CSV exports with the standard columns, Chinese text, frozen header, filters
and light colours; importing the progress column back, atomically, with every bad row listed."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from django.test import Client
from openpyxl import Workbook, load_workbook

from qiantou.accounts.models import Role
from qiantou.assessment import services
from qiantou.assessment.ledger import HEADERS, ledger_csv, ledger_rows, ledger_xlsx
from qiantou.assessment.models import LedgerProgress
from qiantou.audit.models import AuditEvent
from qiantou.chasing.tests.factories import City, make_city, make_plan, make_task, make_user
from qiantou.plans.models import Task, TaskStatus

pytestmark = pytest.mark.django_db

TODAY = dt.date(2024, 5, 20)  # Monday


@pytest.fixture
def city(db: None) -> City:
    return make_city()


@pytest.fixture
def plan_tasks(city: City) -> dict[str, Any]:
    plan = make_plan(city, title="2024年民生实事任务分工方案")
    late = make_task(
        plan,
        "1",
        dt.date(2024, 5, 10),
        lead=[city.lead],
        cooperating=[city.coop_a, city.coop_b],
        text="=新建公办幼儿园10所",
    )  # starts like a formula: must stay text
    soon = make_task(plan, "2", dt.date(2024, 5, 22), lead=[city.coop_a], text="改造老旧小区")
    done = make_task(
        plan, "3", dt.date(2024, 4, 30), lead=[city.coop_b], text="完成农贸市场提升", status=TaskStatus.DONE
    )
    later = make_task(plan, "4", dt.date(2024, 9, 30), lead=[city.lead], text="建设口袋公园")
    return {"plan": plan, "late": late, "soon": soon, "done": done, "later": later}


def test_rows_have_the_standard_columns(city: City, plan_tasks: dict[str, Any]) -> None:
    rows = ledger_rows(Task.objects.filter(plan=plan_tasks["plan"]).order_by("position"), today=TODAY)
    first = rows[0]
    assert (
        first.lead_units == "市发展和改革委员会" and first.cooperating_units == "市财政局、市住房和城乡建设局"
    )
    # 5/10 (Fri) → 5/20 (Mon): Saturday 5/11 (adjusted working day after Labour Day), 5/13–5/17, 5/20
    assert (first.light, first.days_overdue, first.leader) == ("red", 7, str(city.leader))
    assert [r.light for r in rows] == ["red", "yellow", "green", "green"]
    assert [r.days_overdue for r in rows] == [7, 0, 0, 0]


def test_xlsx_opens_with_chinese_text_frozen_header_filters_and_colours(
    city: City, plan_tasks: dict[str, Any]
) -> None:
    rows = ledger_rows(Task.objects.filter(plan=plan_tasks["plan"]).order_by("position"), today=TODAY)
    data = ledger_xlsx(rows, title="民生实事台账", exported_at=dt.datetime(2024, 5, 20, 9, 0))
    ws = load_workbook(io.BytesIO(data))["台账"]
    assert ws["A1"].value.startswith("民生实事台账")
    assert [c.value for c in ws[2]] == HEADERS
    assert ws.freeze_panes == "A3" and ws.auto_filter.ref == "A2:K6"
    assert ws["D3"].value == "=新建公办幼儿园10所" and ws["D3"].data_type == "s"
    assert ws["G3"].value == dt.datetime(2024, 5, 10) and "年" in ws["G3"].number_format
    assert ws["H3"].value == "红灯" and ws["H3"].fill.fgColor.rgb.endswith("FFC7CE")
    assert ws["H4"].value == "黄灯" and ws["H4"].fill.fgColor.rgb.endswith("FFEB9C")
    assert ws["H5"].value == "绿灯" and ws["H5"].fill.fgColor.rgb.endswith("C6EFCE")
    assert ws["B3"].font.name == "宋体" and ws["A2"].font.b


def test_csv_is_utf8_with_bom(city: City, plan_tasks: dict[str, Any]) -> None:
    rows = ledger_rows(Task.objects.filter(plan=plan_tasks["plan"]).order_by("position"), today=TODAY)
    data = ledger_csv(rows)
    assert data.startswith(b"\xef\xbb\xbf")
    parsed = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert parsed[0] == HEADERS
    assert parsed[1][3] == "'=新建公办幼儿园10所" and parsed[1][7] == "红灯" and parsed[1][6] == "2024-05-10"


def _edited_ledger(
    city: City, plan_tasks: dict[str, Any], edits: dict[int, str], extra: list[list[Any]]
) -> bytes:
    rows = ledger_rows(Task.objects.filter(plan=plan_tasks["plan"]).order_by("position"), today=TODAY)
    wb = load_workbook(io.BytesIO(ledger_xlsx(rows, title="台账", exported_at=dt.datetime(2024, 5, 20))))
    ws = wb["台账"]
    for row in ws.iter_rows(min_row=3):
        task_id = row[0].value
        if task_id in edits:
            row[8].value = edits[task_id]
    for values in extra:
        ws.append(values)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_import_writes_back_the_progress_column(city: City, plan_tasks: dict[str, Any]) -> None:
    late, soon = plan_tasks["late"], plan_tasks["soon"]
    data = _edited_ledger(city, plan_tasks, {late.pk: "已完成选址8处，施工招标进行中", soon.pk: ""}, [])
    result = services.ledger_import(actor=city.handler, name="台账.xlsx", data=data)
    assert result == {"rows": 4, "updated": 1, "unchanged": 3}
    note = LedgerProgress.objects.get()
    assert note.task == late and note.text == "已完成选址8处，施工招标进行中" and note.row == 3
    assert AuditEvent.objects.filter(action="task.progress_import", object_id=str(late.pk)).count() == 1
    rows = ledger_rows(Task.objects.filter(pk=late.pk), today=TODAY)
    assert rows[0].progress == "已完成选址8处，施工招标进行中"
    # importing the same file again changes nothing
    assert services.ledger_import(actor=city.handler, name="台账.xlsx", data=data)["updated"] == 0


def test_bad_rows_are_all_listed_and_nothing_changes(city: City, plan_tasks: dict[str, Any]) -> None:
    other = make_plan(city, title="别的方案")
    other.lead_unit = city.coop_a
    other.save()
    foreign = make_task(other, "1", dt.date(2024, 6, 1), lead=[city.coop_a], text="别的任务")
    late = plan_tasks["late"]
    data = _edited_ledger(
        city,
        plan_tasks,
        {late.pk: "进展良好"},
        [
            ["abc", "", "", "", "", "", "", "", "进展"],
            [999999, "", "", "", "", "", "", "", "进展"],
            [late.pk, "", "", "", "", "", "", "", "重复一行"],
        ],
    )
    with pytest.raises(services.LedgerImportError) as exc:
        services.ledger_import(actor=city.handler, name="台账.xlsx", data=data)
    assert [row for row, _ in exc.value.errors] == [7, 8, 9]
    assert "应为数字" in exc.value.errors[0][1] and "不存在或您无权查看" in exc.value.errors[1][1]
    assert "重复" in exc.value.errors[2][1]
    assert LedgerProgress.objects.count() == 0
    # a task of a plan another unit leads, although visible, is refused for this handler
    wb = Workbook()
    ws = wb.active
    ws.append(["系统编号", "最新进展"])
    ws.append([foreign.pk, "替别人填"])
    out = io.BytesIO()
    wb.save(out)
    make_task(other, "2", None, lead=[city.coop_a], cooperating=[city.lead])
    with pytest.raises(services.LedgerImportError) as exc:
        services.ledger_import(actor=city.handler, name="x.xlsx", data=out.getvalue())
    assert exc.value.errors[0][0] == 2
    with pytest.raises(services.AssessmentError, match="未找到表头"):
        services.ledger_import(actor=city.handler, name="x.csv", data="甲,乙\n1,2\n".encode())


def test_download_views(city: City, plan_tasks: dict[str, Any]) -> None:
    client = Client()
    client.force_login(city.handler)
    plan = plan_tasks["plan"]
    xlsx = client.get(f"/assessment/ledger/?plan={plan.pk}&format=xlsx")
    assert xlsx.status_code == 200 and "attachment" in xlsx["Content-Disposition"]
    assert load_workbook(io.BytesIO(xlsx.content))["台账"].max_row == 6
    csv_resp = client.get(f"/assessment/ledger/?plan={plan.pk}&format=csv")
    assert csv_resp.content.startswith(b"\xef\xbb\xbf")
    page = client.post("/assessment/ledger/", {"file": io.BytesIO(b"nonsense")})
    assert page.status_code == 200
    # a liaison of an unrelated unit sees no tasks of this plan
    stranger = make_user("stranger", Role.LIAISON, city.office)
    client.force_login(stranger)
    assert client.get(f"/assessment/ledger/?plan={plan.pk}&format=xlsx").status_code == 404
