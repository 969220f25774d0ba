"""The web UI in Chromium: a liaison logs in, opens a plan and sees its unit's tasks; another unit's
liaison is refused; the layout holds at 1280×800 and at phone width (390×844)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.conftest import DESKTOP, PHONE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "qiantou-demo"
LOW_INCOME = "青山市低收入人口常态化帮扶工作任务分工"
LIVELIHOOD = "青山市重点民生实事督办台账"


def _plan_and_task(title: str) -> tuple[int, int]:
    from qiantou.plans.models import Plan, Task

    plan = Plan.objects.get(title=title)
    return plan.pk, Task.objects.filter(plan=plan).order_by("position").values_list("pk", flat=True)[0]


def test_liaison_opens_plan_and_sees_its_units_tasks(
    demo_city: Any, live_server: Any, logged_in_page: Any
) -> None:
    page = logged_in_page("sfj_liaison", PASSWORD)
    # home: the unit's tasks with their deadlines
    assert page.locator("h1").inner_text() == "工作台"
    assert page.get_by_text("做好刑满释放人员救助衔接").count() == 1
    page.click("nav.side >> text=分工方案")
    page.click(f"text={LOW_INCOME}")
    page.wait_for_url("**/plans/*/")
    assert page.locator("h1").inner_text() == LOW_INCOME
    mine = page.locator("tr.mine")
    assert mine.count() == 2
    texts = mine.all_inner_texts()
    assert "（二）" in texts[0] and "市司法局" in texts[0]
    assert "（十一）" in texts[1] and "刑满释放后15个工作日内" in texts[1]
    # the htmx filter "只看本单位" swaps the rows without a page load
    page.check("input[name=mine]")
    # (a locator wait, not wait_for_function: the Content-Security-Policy forbids eval)
    expect(page.locator("#task-rows tbody tr")).to_have_count(2)
    assert "mine=1" in page.url
    # the task page
    page.click("#task-rows >> text=做好刑满释放人员救助衔接")
    page.wait_for_url("**/plans/tasks/*/")
    assert page.get_by_text("刑满释放后15个工作日内").count() == 1


def test_other_units_liaison_gets_404(demo_city: Any, live_server: Any, logged_in_page: Any) -> None:
    plan_id, task_id = _plan_and_task(LIVELIHOOD)  # 市司法局 is on no task of this plan
    page = logged_in_page("sfj_liaison", PASSWORD)
    for path in [
        f"/plans/{plan_id}/",
        f"/plans/tasks/{task_id}/",
        f"/audit/plans.plan/{plan_id}/",
        f"/audit/plans.task/{task_id}/",
    ]:
        response = page.goto(f"{live_server.url}{path}")
        assert response is not None and response.status == 404, path
    page.goto(f"{live_server.url}/plans/")
    assert page.get_by_text(LIVELIHOOD).count() == 0
    # the liaison of 市财政局 is on that plan and sees it
    other = logged_in_page("czj_liaison", PASSWORD)
    response = other.goto(f"{live_server.url}/plans/{plan_id}/")
    assert response is not None and response.status == 200


def _no_horizontal_overflow(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"))


@pytest.mark.parametrize(("name", "viewport"), [("desktop", DESKTOP), ("phone", PHONE)])
def test_layout_screenshots(
    demo_city: Any,
    live_server: Any,
    new_page: Any,
    logged_in_page: Any,
    artifacts: Path,
    name: str,
    viewport: dict[str, int],
) -> None:
    login = new_page(viewport)
    login.goto(f"{live_server.url}/login/")
    assert login.locator("h1").inner_text().endswith("牵头协同平台")
    login.screenshot(path=str(artifacts / f"login-{name}.png"))

    plan_id, _ = _plan_and_task(LOW_INCOME)
    page = logged_in_page("sfj_liaison", PASSWORD, viewport)
    for label, path in [("home", "/"), ("plan", f"/plans/{plan_id}/"), ("units", "/units/")]:
        page.goto(f"{live_server.url}{path}")
        assert _no_horizontal_overflow(page), f"{label} overflows at {viewport}"
        page.screenshot(path=str(artifacts / f"{label}-{name}.png"), full_page=label != "plan")
    # the top bar shows who is logged in, the unit and the role
    top = page.locator("header.top").inner_text()
    assert "青山市司法局" in top and "联络员" in top
    # the sidebar is beside the content on a desktop and above it on a phone
    nav = page.locator("nav.side").bounding_box()
    content = page.locator("main.content").bounding_box()
    assert nav is not None and content is not None
    if name == "desktop":
        assert nav["x"] + nav["width"] <= content["x"] + 1
    else:
        assert nav["y"] + nav["height"] <= content["y"] + 1

    overseer = logged_in_page("dcs_officer", PASSWORD, viewport)
    assert _no_horizontal_overflow(overseer)
    overseer.screenshot(path=str(artifacts / f"home-overseer-{name}.png"), full_page=True)
    # Pages a QA pass found 540–571 px wide at phone width: the charts' grid, the data check's form.
    overseer.goto(f"{live_server.url}/assessment/")
    assert _no_horizontal_overflow(overseer), f"assessment overflows at {viewport}"
    officer = logged_in_page("mzj_data", PASSWORD, viewport)
    officer.goto(f"{live_server.url}/matching/")
    assert officer.locator("h1").count() == 1 and _no_horizontal_overflow(officer), f"matching at {viewport}"
