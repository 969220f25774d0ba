"""Issue 4 end to end in Chromium: the handler opens a round for three units; one comments on two
tasks, one says no objection, one stays silent; the round is closed early (the handler confirms it);
one comment adopted, one rejected with a reason; version 2 and its diff; the leader in charge returns
it once, then both sign; the plan is issued; the disposition statement and the official document
download and open (the .docx parsed back, the PDF rendered to PNG for a look at the Chinese glyphs)."""

from __future__ import annotations

import datetime as dt
import io
import subprocess
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TITLE = "青山市社会救助综合改革试点工作任务分工"


def _make_plan() -> int:
    from qiantou.plans import services
    from qiantou.units.models import Unit

    units = {u.code: u for u in Unit.objects.filter(code__in=["QS0206", "QS0207", "QS0208", "QS0209"])}
    mz, sf, cz, rs = units["QS0206"], units["QS0207"], units["QS0208"], units["QS0209"]
    plan = services.plan_create(actor=None, title=TITLE, lead_unit=mz)
    services.task_create(
        actor=None,
        plan=plan,
        no="1",
        text="建立救助对象服刑信息比对机制",
        lead_units=[mz],
        cooperating_units=[sf],
        deadline_text="6月底前",
        deadline=dt.date(2026, 6, 30),
    )
    services.task_create(
        actor=None,
        plan=plan,
        no="2",
        text="统筹安排社会救助资金",
        lead_units=[cz],
        cooperating_units=[mz],
        deadline_text="持续推进",
    )
    services.task_create(
        actor=None,
        plan=plan,
        no="3",
        text="落实公益性岗位兜底安置",
        lead_units=[rs],
        cooperating_units=[mz, sf],
        deadline_text="年底前",
        deadline=dt.date(2026, 12, 31),
    )
    return plan.pk


@pytest.fixture
def as_user(live_server: Any, new_page: Any) -> Any:
    """``as_user(username)`` → a page whose context carries a logged-in session for that demo user."""
    from django.test import Client

    from qiantou.accounts.models import User

    def make(username: str) -> Any:
        client = Client()
        client.force_login(User.objects.get(username=username))
        page = new_page()
        page.context.add_cookies(
            [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
        )
        return page

    return make


def _download(page: Any, selector: str) -> bytes:
    with page.expect_download() as info:
        page.click(selector)
    return Path(info.value.path()).read_bytes()


def test_consultation_signoff_issue_end_to_end(
    demo_city: Any, live_server: Any, as_user: Any, artifacts: Path
) -> None:
    from docx import Document
    from openpyxl import load_workbook

    plan_id = _make_plan()
    base = live_server.url

    # 1. the handler opens a round: the three units named in the plan are checked by default
    handler = as_user("mzj_handler")
    handler.goto(f"{base}/consultation/plans/{plan_id}/")
    checked = handler.locator("#open-round input[name=units]:checked")
    assert checked.count() == 3
    handler.fill("#open-round input[name=working_days]", "5")
    handler.fill("#open-round textarea[name=note]", "请各单位认真研究，逾期未反馈视为无意见。")
    handler.click("#open-round button[type=submit]")
    handler.wait_for_url("**/consultation/rounds/*/")
    round_url = handler.url
    assert handler.locator("#round-status").inner_text() == "征求意见中"

    # 2. 司法局 comments on two tasks; 财政局 says no objection; 人社局 stays silent
    sfj = as_user("sfj_liaison")
    sfj.goto(round_url)
    for task_no, text in (
        ("1", "涉及敏感信息，建议改为按月以隐私计算方式核对，时限调整为9月底前。"),
        ("3", "司法局不宜作为公益性岗位安置的配合单位。"),
    ):
        row = sfj.locator("#draft-tasks tr", has=sfj.locator("td.no", has_text=task_no)).first
        row.locator("summary").click()
        row.locator("textarea[name=body]").fill(text)
        row.locator("button[type=submit]").click()
        sfj.wait_for_url(round_url)
        assert sfj.get_by_text(text).count() == 1
    czj = as_user("czj_liaison")
    czj.goto(round_url)
    czj.click("#no-objection")
    czj.wait_for_url(round_url)
    assert "无意见" in czj.locator("#consulted tr[data-unit='青山市财政局']").inner_text()

    # 3. the handler closes the round before its closing date: the browser will not submit until the
    # confirmation is ticked; 人社局 is recorded as not answered at the early close = no objection
    handler.goto(round_url)
    handler.click("#close-form button")
    assert handler.locator("#round-status").inner_text() == "征求意见中"  # required box not ticked
    handler.check("#confirm-early")
    handler.click("#close-form button")
    handler.wait_for_url(round_url)
    assert handler.locator("#round-status").inner_text() == "已截止"
    silent_row = handler.locator("#consulted tr[data-unit='青山市人力资源和社会保障局']").inner_text()
    assert "提前截止时未反馈，视为无意见" in silent_row and "逾期" not in silent_row

    # 4. adopt the first comment, reject the second with a reason
    forms = handler.locator(".dispose-form")
    assert forms.count() == 2
    forms.nth(0).locator("select").select_option("adopted")
    forms.nth(0).locator("button").click()
    handler.wait_for_load_state()
    forms = handler.locator(".dispose-form")
    forms.nth(1).locator("select").select_option("not_adopted")
    forms.nth(1).locator("button").click()  # no reason: refused with a message
    handler.wait_for_load_state()
    assert handler.get_by_text("部分采纳或不予采纳的，必须说明理由。").count() == 1
    forms = handler.locator(".dispose-form")
    forms.nth(1).locator("select").select_option("not_adopted")
    forms.nth(1).locator("input[name=reason]").fill("公益性岗位涉及刑满释放人员安置，需司法局配合。")
    forms.nth(1).locator("button").click()
    handler.wait_for_load_state()
    assert handler.locator(".disposition .tag", has_text="不予采纳").count() == 1

    # 5. make the adopted change and freeze it as version 2; the diff shows it
    handler.locator(".dispose-form").nth(0).get_by_text("修改该任务").click()
    handler.wait_for_url("**/consultation/tasks/*/edit/")
    handler.fill("#task-form textarea[name=text]", "建立救助对象服刑信息比对机制，按月以隐私计算方式核对")
    handler.fill("#task-form input[name=deadline_text]", "9月底前")
    handler.fill("#task-form input[name=deadline]", "2026-09-30")
    handler.click("#task-form button[type=submit]")
    handler.wait_for_url(f"**/consultation/plans/{plan_id}/")
    handler.fill("#revise-form input[name=note]", "采纳市司法局意见")
    handler.click("#revise-form button")
    handler.wait_for_url("**/consultation/plans/*/diff/*")
    diff = handler.locator("#diff").inner_text()
    assert "修改" in diff and "6月底前" in diff and "9月底前" in diff and "按月以隐私计算方式核对" in diff
    diff_xlsx = load_workbook(io.BytesIO(_download(handler, "#diff-xlsx"))).active
    assert any("9月底前" in str(c.value) for row in diff_xlsx.iter_rows() for c in row if c.value)

    # 6. submit; the leader in charge returns it once with remarks
    handler.goto(f"{base}/approvals/plans/{plan_id}/")
    assert handler.locator("#chain li").first.inner_text().strip().startswith("陈立")
    handler.click("#submit-form button")
    handler.wait_for_load_state()
    assert handler.locator("#plan-status").inner_text() == "签批中"
    leader = as_user("mzj_leader")
    leader.goto(f"{base}/approvals/")
    leader.click(f"text={TITLE}")
    leader.fill("#decide textarea[name=remarks]", "第3项配合单位再与司法局沟通确认。")
    leader.click("#return")
    leader.wait_for_load_state()
    assert leader.locator("#plan-status").inner_text() == "草稿"
    handler.goto(f"{base}/approvals/plans/{plan_id}/")
    assert handler.get_by_text("第3项配合单位再与司法局沟通确认。").count() == 1

    # 7. resubmit; both sign in order
    handler.click("#submit-form button")
    handler.wait_for_load_state()
    principal = as_user("mzj_principal")
    principal.goto(f"{base}/approvals/plans/{plan_id}/")
    assert principal.locator("#approve").count() == 0  # not the principal's turn yet
    leader.goto(f"{base}/approvals/plans/{plan_id}/")
    leader.click("#approve")
    leader.wait_for_load_state()
    principal.goto(f"{base}/approvals/plans/{plan_id}/")
    principal.click("#approve")
    principal.wait_for_load_state()
    assert principal.locator("#plan-status").inner_text() == "已签批待印发"

    # 8. issue
    handler.goto(f"{base}/approvals/plans/{plan_id}/")
    handler.fill("#issue-form input[name=doc_number]", "青民〔2026〕21号")
    handler.fill("#issue-form input[name=issued_on]", "2026-03-16")
    handler.fill("#issue-form input[name=main_recipients]", "市司法局，市财政局，市人力资源社会保障局")
    handler.click("#issue-form button")
    handler.wait_for_load_state()
    assert handler.locator("#plan-status").inner_text() == "已印发"

    # 9. the statement, as seen by the unit whose comment was rejected
    sfj.goto(round_url)
    statement = Document(io.BytesIO(_download(sfj, "#statement-docx")))
    rows = [[c.text for c in r.cells] for r in statement.tables[0].rows]
    assert ["不予采纳", "公益性岗位涉及刑满释放人员安置，需司法局配合。"] in [r[4:] for r in rows]
    assert any(
        "青山市人力资源和社会保障局" in p.text and "视为无意见" in p.text for p in statement.paragraphs
    )
    book = load_workbook(io.BytesIO(_download(sfj, "#statement-xlsx")))
    assert book["采纳情况"].max_row >= 6

    # 10. the official document: .docx parsed back, PDF rendered for a look
    handler.goto(f"{base}/approvals/plans/{plan_id}/")
    official = Document(io.BytesIO(_download(handler, "#official-docx")))
    texts = [p.text for p in official.paragraphs]
    assert "青山市民政局文件" in texts and "青民〔2026〕21号" in texts and "2026年3月16日" in texts
    assert f"青山市民政局关于印发《{TITLE}》的通知" in texts
    task_rows = [[c.text for c in r.cells] for r in official.tables[0].rows]
    assert (
        task_rows[1][1] == "建立救助对象服刑信息比对机制，按月以隐私计算方式核对"
        and task_rows[1][4] == "9月底前"
    )
    pdf = _download(handler, "#official-pdf")
    assert pdf.startswith(b"%PDF")
    pdf_path = artifacts / "consultation-official.pdf"
    pdf_path.write_bytes(pdf)
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            "60",
            "-png",
            "-f",
            "1",
            "-l",
            "3",
            str(pdf_path),
            str(artifacts / "consultation-official"),
        ],
        check=True,
    )
    assert (artifacts / "consultation-official-1.png").stat().st_size > 10_000
