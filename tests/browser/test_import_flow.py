"""The import flow in Chromium: a handler uploads a published Word plan, sees the preview, picks the
directory unit for a misspelt unit name (htmx), confirms, and lands on the new draft plan."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "qiantou-demo"
DOCX = Path(__file__).resolve().parents[1] / "fixtures" / "cases" / "plans" / "dev10-renju-mergedtable.docx"


def test_handler_imports_a_docx_resolving_the_unknown_unit(
    demo_city: Any, live_server: Any, logged_in_page: Any, artifacts: Path
) -> None:
    from qiantou.plans.models import Plan, TaskUnit

    page = logged_in_page("mzj_handler", PASSWORD)
    page.click("nav.side >> text=分工方案")
    page.click("text=导入方案")
    page.wait_for_url("**/imports/new/")
    page.set_input_files("input[type=file]", str(DOCX))
    page.click("text=上传并预览")
    page.wait_for_url("**/imports/*/")
    assert "农村人居环境整治" in page.locator("h1").inner_text()
    expect(page.locator("table.import-preview tbody tr")).to_have_count(14)
    unknown = page.locator("table.import-preview .chip.u-unknown", has_text="市农业农材局")
    expect(unknown.first).to_be_visible()
    page.screenshot(path=str(artifacts / "import-preview.png"), full_page=False)

    # pick the directory unit for the misspelt name: the resolver's candidate is offered first
    pending = page.locator(".pending", has_text="市农业农材局")
    pending.locator("select").select_option(label="青山市农业农村局")
    pending.get_by_role("button", name="确定").click()
    expect(page.locator(".pending", has_text="市农业农材局").locator(".picked")).to_have_text(
        "青山市农业农村局"
    )
    # the task table is refreshed: no unknown chip left for that name, a chosen one instead
    expect(page.locator("table.import-preview .chip.u-unknown", has_text="市农业农材局")).to_have_count(0)
    expect(page.locator("table.import-preview .chip.u-chosen", has_text="市农业农材局").first).to_be_visible()

    page.click("#confirm-import")
    page.wait_for_url("**/plans/*/")
    assert "农村人居环境整治" in page.locator("h1").inner_text()
    expect(page.locator(".messages")).to_contain_text("已导入方案")
    page.screenshot(path=str(artifacts / "import-done.png"), full_page=False)

    plan = Plan.objects.get(source_name=DOCX.name)
    assert plan.status == "draft" and plan.lead_unit.code == "QS0206" and plan.tasks.count() == 14
    typo = TaskUnit.objects.filter(task__plan=plan, printed_name="市农业农材局")
    assert typo.exists() and {tu.unit.code for tu in typo if tu.unit} == {"QS0216"}
