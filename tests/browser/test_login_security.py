"""Login security in Chromium: lockout after repeated failures, the forced change of an initial
password, and pages (with an htmx swap) running under the Content-Security-Policy without a violation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Qiantou#2026-ok"


@pytest.fixture
def people(transactional_db: Any, settings: Any) -> dict[str, Any]:
    from qiantou.accounts.models import Role, User
    from qiantou.plans.models import PlanStatus
    from qiantou.plans.tests.factories import make_plan, make_task, make_unit
    from qiantou.security import ratelimit

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.AXES_FAILURE_LIMIT = 3
    ratelimit.clear()
    unit = make_unit("青山市民政局")
    users = {}
    for name, must_change in (("zhangsan", False), ("lisi", True), ("wangwu", False)):
        user = User(
            username=name, role=Role.HANDLER, unit=unit, display_name=name, must_change_password=must_change
        )
        user.set_password(PASSWORD)
        user.save()
        users[name] = user
    for i, title in enumerate(["低收入人口帮扶分工", "民营经济发展分工", "重点民生实事台账"]):
        plan = make_plan(unit, status=PlanStatus.ISSUED, title=title)
        make_task(plan, no="1", lead=[unit], text=f"任务{i}")
    return users


def _login(page: Any, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit].btn-primary")


def test_lockout_after_three_failures(people: Any, live_server: Any, new_page: Callable[..., Any]) -> None:
    page = new_page()
    for _ in range(2):
        _login(page, live_server.url, "zhangsan", "Wrong#password1")
        expect(page.locator(".errorlist")).to_be_visible()
    _login(page, live_server.url, "zhangsan", "Wrong#password1")
    expect(page.locator("h1")).to_contain_text("账号已锁定")
    expect(page.locator("#lockout")).to_contain_text("3 次")
    # The right password does not open a locked account.
    _login(page, live_server.url, "zhangsan", PASSWORD)
    expect(page.locator("h1")).to_contain_text("账号已锁定")
    # Another account from the same browser is not locked.
    _login(page, live_server.url, "wangwu", PASSWORD)
    page.wait_for_url(f"{live_server.url}/")
    expect(page.locator("h1")).to_have_text("工作台")


def test_initial_password_must_be_changed(
    people: Any, live_server: Any, new_page: Callable[..., Any]
) -> None:
    page = new_page()
    _login(page, live_server.url, "lisi", PASSWORD)
    page.wait_for_url(f"{live_server.url}/accounts/password/")
    expect(page.locator("#forced-change")).to_be_visible()
    page.goto(f"{live_server.url}/plans/")  # nothing else opens first
    page.wait_for_url(f"{live_server.url}/accounts/password/")
    page.fill("#id_old_password", PASSWORD)
    page.fill("#id_new_password1", "abcdefghijk")
    page.fill("#id_new_password2", "abcdefghijk")
    page.click("button[type=submit].btn-primary")
    expect(page.locator(".errorlist")).to_contain_text("符号")
    page.fill("#id_old_password", PASSWORD)
    page.fill("#id_new_password1", "New-start 2026!")
    page.fill("#id_new_password2", "New-start 2026!")
    page.click("button[type=submit].btn-primary")
    page.wait_for_url(f"{live_server.url}/")
    expect(page.locator("h1")).to_have_text("工作台")
    page.goto(f"{live_server.url}/plans/")
    expect(page.locator("h1")).to_contain_text("分工方案")


def test_pages_and_htmx_run_under_the_csp(
    people: Any, live_server: Any, new_page: Callable[..., Any]
) -> None:
    page = new_page()
    violations: list[str] = []
    page.on(
        "console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None
    )
    _login(page, live_server.url, "zhangsan", PASSWORD)
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/plans/")
    expect(page.locator("#plan-rows")).to_contain_text("民营经济发展分工")
    page.evaluate("window.qiantouMarker = 1")  # survives only if the page is not reloaded
    page.fill("input[name=q]", "民生")
    # htmx swaps the rows in place (the URL follows via hx-push-url): no full page load.
    expect(page.locator("#plan-rows")).not_to_contain_text("民营经济发展分工")
    expect(page.locator("#plan-rows")).to_contain_text("重点民生实事台账")
    assert "q=" in page.url
    assert page.evaluate("window.qiantouMarker") == 1
    for path in ("/", "/plans/tasks/", "/units/", "/accounts/password/"):
        page.goto(f"{live_server.url}{path}")
    assert violations == []
