"""Every page × role of the web UI: 200 where the user may see the object, 404 where not, 302 to the
login page when logged out. Runs on the demo city (``qiantou demo_load``)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from qiantou.accounts.models import User
from qiantou.demo.loader import demo_load
from qiantou.plans.models import Plan, Task
from qiantou.units.models import Unit

LOW_INCOME = "青山市低收入人口常态化帮扶工作任务分工"  # lead 市民政局, issued; 司法局, 财政局 named
LIVELIHOOD = "青山市重点民生实事督办台账"  # lead 督查室, issued; 民政局, 财政局 named, not 司法局
PRIVATE_ECONOMY = (
    "青山市促进民营经济高质量发展若干措施任务分工"  # lead 发改委, consulting; 司法局, 财政局 named
)

#: added by qiantou.consultation.demo: lead 民政局, consulted, signed and issued; 司法局, 财政局, 人社局 named
BASIC_LIVING = "青山市困难群众基本生活保障工作任务分工"

EVERYTHING = {LOW_INCOME, LIVELIHOOD, PRIVATE_ECONOMY, BASIC_LIVING}
MZJ = {LOW_INCOME, LIVELIHOOD, BASIC_LIVING}
#: username → titles of the plans that user may see
VISIBLE = {
    "mzj_handler": MZJ,
    "mzj_unit_head": MZJ,
    "mzj_leader": MZJ,
    "mzj_principal": MZJ,
    "sfj_liaison": {LOW_INCOME, PRIVATE_ECONOMY, BASIC_LIVING},
    "czj_liaison": EVERYTHING,
    "dcs_officer": EVERYTHING,
    "sjj_auditor": EVERYTHING,
    "sysadmin": set(),  # the administrator roles see no business data
}


@pytest.fixture
def city(db: Any) -> dict[str, Any]:
    demo_load()
    plans = {p.title: p for p in Plan.objects.all()}
    tasks = {
        title: Task.objects.filter(plan=plan).order_by("position").first() for title, plan in plans.items()
    }
    return {"plans": plans, "tasks": tasks}


def client_for(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def test_demo_load_is_idempotent(city: dict[str, Any]) -> None:
    counts = (Unit.objects.count(), User.objects.count(), Plan.objects.count(), Task.objects.count())
    summary = demo_load()
    assert (summary.users_created, summary.plans_created) == (0, 0)
    assert (Unit.objects.count(), User.objects.count(), Plan.objects.count(), Task.objects.count()) == counts
    assert counts[0] == 93 and counts[2] == 4


def test_logged_out_pages_redirect_to_login(city: dict[str, Any]) -> None:
    plan = city["plans"][LOW_INCOME]
    task = city["tasks"][LOW_INCOME]
    client = Client()
    for url in [
        "/",
        "/plans/",
        f"/plans/{plan.pk}/",
        "/plans/tasks/",
        f"/plans/tasks/{task.pk}/",
        "/units/",
        f"/units/{plan.lead_unit_id}/",
        f"/audit/plans.plan/{plan.pk}/",
    ]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/login/?next="), url
    assert client.get("/login/").status_code == 200


def test_login_form_logs_in_and_lands_on_home(city: dict[str, Any]) -> None:
    client = Client()
    response = client.post("/login/", {"username": "sfj_liaison", "password": "qiantou-demo"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert "工作台" in client.get("/").content.decode()
    bad = Client().post("/login/", {"username": "sfj_liaison", "password": "wrong-password"})
    assert bad.status_code == 200 and "errorlist" in bad.content.decode()


@pytest.mark.parametrize("username", sorted(VISIBLE))
def test_pages_by_role(city: dict[str, Any], username: str) -> None:
    client = client_for(username)
    for url in ["/", "/plans/", "/plans/tasks/", "/units/"]:
        assert client.get(url).status_code == 200, url
    listing = client.get("/plans/").content.decode()
    for title, plan in city["plans"].items():
        task = city["tasks"][title]
        expected = 200 if title in VISIBLE[username] else 404
        assert (title in listing) == (expected == 200), f"{username} plan list / {title}"
        for url in [
            f"/plans/{plan.pk}/",
            f"/plans/tasks/{task.pk}/",
            f"/audit/plans.plan/{plan.pk}/",
            f"/audit/plans.task/{task.pk}/",
        ]:
            assert client.get(url).status_code == expected, f"{username} {url} ({title})"
    unit = Unit.objects.get(code="QS0206")
    assert client.get(f"/units/{unit.pk}/").status_code == 200
    assert client.get(f"/audit/units.unit/{unit.pk}/").status_code == 200


def test_missing_and_unknown_objects_are_404(city: dict[str, Any]) -> None:
    client = client_for("dcs_officer")
    for url in [
        "/plans/999999/",
        "/plans/tasks/999999/",
        "/units/999999/",
        "/audit/plans.plan/999999/",
        "/audit/accounts.user/1/",
        "/audit/plans.plan/abc/",
    ]:
        assert client.get(url).status_code == 404, url


def test_liaison_home_lists_its_units_tasks(city: dict[str, Any]) -> None:
    html = client_for("sfj_liaison").get("/").content.decode()
    # 市司法局 leads （十一） of the low-income plan and cooperates on （二）
    assert "做好刑满释放人员救助衔接" in html
    assert "每月开展一次低保对象与在押服刑人员信息比对" in html
    # a task of a plan 司法局 is not on
    assert "新建、改扩建公办幼儿园" not in html


def test_plan_page_highlights_own_units_tasks_in_printed_order(city: dict[str, Any]) -> None:
    plan = city["plans"][LOW_INCOME]
    response = client_for("sfj_liaison").get(f"/plans/{plan.pk}/")
    html = response.content.decode()
    mine = [n["task"].no for n in response.context["nodes"] if n["mine"]]
    assert mine == ["（二）", "（十一）"]
    assert html.count('class="depth-0 mine"') == 2
    # cooperating units of （一） in printed order
    first = html.index("市人力资源社会保障局")
    assert first < html.index("市医保局", first) < html.index("市残联", first)


def test_plan_page_htmx_filter_returns_rows_only(city: dict[str, Any]) -> None:
    plan = city["plans"][LOW_INCOME]
    response = client_for("sfj_liaison").get(f"/plans/{plan.pk}/?mine=1", headers={"HX-Request": "true"})
    html = response.content.decode()
    assert "<html" not in html
    assert "做好刑满释放人员救助衔接" in html and "建立低收入人口动态监测信息平台" not in html


def test_plan_page_warns_of_deadlines_already_past_until_the_plan_is_issued(city: dict[str, Any]) -> None:
    import datetime as dt

    from qiantou.plans.models import PlanStatus, TaskStatus
    from qiantou.plans.selectors import today

    plan = city["plans"][PRIVATE_ECONOMY]  # consulting: not binding yet
    tasks = list(Task.objects.filter(plan=plan, status=TaskStatus.OPEN).order_by("position")[:2])
    Task.objects.filter(pk=tasks[0].pk).update(deadline=dt.date(2024, 6, 30))
    Task.objects.filter(pk=tasks[1].pk).update(deadline=today() + dt.timedelta(days=30))
    past = Task.objects.filter(plan=plan, status=TaskStatus.OPEN, deadline__lt=today()).count()
    html = client_for("czj_liaison").get(f"/plans/{plan.pk}/").content.decode()
    assert 'id="past-deadlines"' in html and f"{past} 项任务的完成时限已过" in html
    start = html.index('id="past-deadlines"')
    card = html[start : html.index("</div>", start)]
    assert "2024-06-30" in card and (today() + dt.timedelta(days=30)).isoformat() not in card
    Plan.objects.filter(pk=plan.pk).update(status=PlanStatus.ISSUED)  # issued: the overdue count says it
    html = client_for("czj_liaison").get(f"/plans/{plan.pk}/").content.decode()
    assert 'id="past-deadlines"' not in html


def test_overseer_home_shows_overdue_by_unit(city: dict[str, Any]) -> None:
    response = client_for("dcs_officer").get("/")
    rows = response.context["overdue_by_unit"]
    assert rows and all(r["overdue"] > 0 for r in rows)
    assert sum(r["overdue"] for r in rows) >= 4


def test_audit_trail_of_a_plan_lists_its_events(city: dict[str, Any]) -> None:
    plan = city["plans"][LOW_INCOME]
    response = client_for("sfj_liaison").get(f"/audit/plans.plan/{plan.pk}/")
    actions = [e.action for e in response.context["events"]]
    assert actions[0] == "plan.create"
    assert actions.count("task.create") == 13
    assert "plan.status" in actions
    html = response.content.decode()
    assert "创建方案" in html and "新增任务" in html


def test_language_switch_to_english_and_back(city: dict[str, Any]) -> None:
    client = client_for("sfj_liaison")
    assert "工作台" in client.get("/").content.decode()
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    html = client.get("/").content.decode()
    assert "Dashboard" in html and "Liaison" in html and 'lang="en"' in html
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert "工作台" in client.get("/").content.decode()


def test_unit_directory_search_finds_short_and_traditional_names(city: dict[str, Any]) -> None:
    client = client_for("sfj_liaison")
    assert "青山市发展和改革委员会" in client.get("/units/", {"q": "市发改委"}).content.decode()
    assert "青山市司法局" in client.get("/units/", {"q": "市司法"}).content.decode()
    html = client.get("/units/", {"q": "青山市政務服務和大數據管理局"}).content.decode()
    assert "青山市政务服务和大数据管理局" in html
    tree = client.get("/units/").content.decode()
    assert tree.count('class="kind"') == 93
