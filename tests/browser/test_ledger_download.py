"""In Chromium: the supervision office opens the assessment dashboard (charts drawn), downloads the ledger
as .xlsx from the ledger page, and the file opens in openpyxl with the demo plans' Chinese text. Also
renders an accountability report PDF page to PNG (pdftoppm) for the README."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "qiantou-demo"


@pytest.fixture
def demo_year(demo_city: Any) -> Any:
    """The demo city with its chasing timeline (late units, reminders) and a scoring rules set."""
    from qiantou.accounts.models import User
    from qiantou.assessment import services
    from qiantou.chasing.demo import load_demo_timeline
    from qiantou.chasing.models import HolidayYear
    from qiantou.chasing.services import calendar_load_year

    # A transactional test's flush empties the calendar rows the migration loaded: load the years again.
    admin = User.objects.get(username="sysadmin")
    this_year = dt.date.today().year
    for year in (this_year - 1, this_year, this_year + 1):
        if not HolidayYear.objects.filter(year=year).exists():
            try:
                calendar_load_year(actor=admin, year=year)
            except Exception:  # a year chinese-calendar does not cover yet
                pass
    summary = load_demo_timeline()
    assert summary.reminders > 0, summary
    services.rules_create(
        actor=User.objects.get(username="dcs_officer"),
        name="青山市重点工作年度考核",
        leading_group="青山市重点工作领导小组",
    )
    return demo_city


def test_dashboard_and_ledger_download(
    demo_year: Any, live_server: Any, logged_in_page: Any, artifacts: Path
) -> None:
    page = logged_in_page("dcs_officer", PASSWORD)
    page.goto(f"{live_server.url}/assessment/")
    assert page.locator("h1").inner_text() == "考核看板"
    assert page.locator("section.chart svg").count() >= 3  # overdue, trend, ranking (and load)
    assert page.get_by_text("各单位逾期事项").count() >= 1
    page.screenshot(path=str(artifacts / "assessment-dashboard.png"), full_page=True)
    page.click("text=工作台账")
    page.wait_for_url("**/assessment/ledger/")
    with page.expect_download() as info:
        page.click("button[value=xlsx]")
    download = info.value
    assert download.suggested_filename.endswith(".xlsx") and "工作台账" in download.suggested_filename
    target = artifacts / "ledger.xlsx"
    download.save_as(str(target))
    ws = load_workbook(target)["台账"]
    assert [c.value for c in ws[2]][:4] == ["系统编号", "方案", "序号", "任务"]
    texts = {str(ws.cell(row=r, column=2).value) for r in range(3, ws.max_row + 1)}
    assert "青山市低收入人口常态化帮扶工作任务分工" in "".join(texts)
    lights = {ws.cell(row=r, column=8).value for r in range(3, ws.max_row + 1)}
    assert lights <= {"红灯", "黄灯", "绿灯"} and "红灯" in lights
    assert ws.freeze_panes == "A3"


def test_report_pdf_page_renders(demo_year: Any, artifacts: Path) -> None:
    from qiantou.accounts.models import User
    from qiantou.assessment import services
    from qiantou.assessment.exports import report_pdf
    from qiantou.assessment.report import build_report
    from qiantou.chasing.models import Reminder
    from qiantou.plans.models import Plan

    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    plan = Plan.objects.filter(chase_items__reminders__isnull=False).distinct().first()
    assert plan is not None and Reminder.objects.filter(item__plan=plan).exists()
    auditor = User.objects.get(username="sjj_auditor")
    report = build_report(
        scope="plan",
        obj=plan,
        start=dt.date(2020, 1, 1),
        end=dt.date.today() + dt.timedelta(days=1),
        generated_by=auditor,
    )
    services.report_checkpoint(actor=auditor, report=report)
    pdf = artifacts / "accountability-report.pdf"
    pdf.write_bytes(report_pdf(report))
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "80",
            "-f",
            "1",
            "-l",
            "2",
            str(pdf),
            str(artifacts / "accountability-report"),
        ],
        check=True,
        timeout=120,
    )
    pages = sorted(artifacts.glob("accountability-report-*.png"))
    assert pages and pages[0].stat().st_size > 20_000
