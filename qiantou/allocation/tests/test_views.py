"""Allocation pages render for a handler: load chart and table, suggestion partials, balancing diff."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from qiantou.accounts.models import Role
from qiantou.plans.models import PlanStatus, TaskUnitRole
from qiantou.plans.tests.factories import make_plan, make_task, make_unit, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup() -> dict:
    civil = make_unit(
        "江城市民政局", short_names=["市民政局"], mandate="负责社会救助和养老服务，承担最低生活保障。"
    )
    finance = make_unit(
        "江城市财政局", short_names=["市财政局"], mandate="管理财政资金，落实养老服务资金保障。"
    )
    health = make_unit("江城市卫生健康委员会", mandate="负责医养结合和养老服务中的医疗卫生。")
    handler = make_user("h", role=Role.HANDLER, unit=civil)
    plan = make_plan(civil)
    task = make_task(plan, text="完善养老服务资金保障。", lead=[finance], cooperating=[finance, health])
    issued = make_plan(finance, status=PlanStatus.ISSUED)
    make_task(issued, text="预算编制。", lead=[finance], cooperating=[civil])
    client = Client()
    client.force_login(handler)
    return {"client": client, "plan": plan, "task": task, "civil": civil, "finance": finance}


def test_load_page_shows_chart_and_table(setup: dict) -> None:
    response = setup["client"].get("/allocation/load/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "<svg" in body and "江城市财政局" in body
    # On a phone the table and the chart scroll inside their cards instead of widening the page,
    # and unit names stay on one line.
    assert '<div class="table-wrap" id="load-table"><table class="table" style="white-space:nowrap">' in body
    assert re.search(r'<div class="table-wrap" id="load-chart"><div style="min-width:\d+px"><svg', body)


def test_suggest_partial_says_when_printed_lead_differs(setup: dict) -> None:
    client, finance = setup["client"], setup["finance"]
    response = client.get(
        "/allocation/suggest/",
        {"text": "做好最低生活保障和社会救助。", "lead": finance.pk},
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert "江城市民政局" in body and "不同" in body


def test_plan_suggestions_page(setup: dict) -> None:
    response = setup["client"].get(f"/allocation/plans/{setup['plan'].pk}/suggestions/")
    assert response.status_code == 200 and "完善养老服务资金保障" in response.content.decode()


def test_balance_page_shows_diff_and_accepting_all_writes(setup: dict) -> None:
    client, plan, task = setup["client"], setup["plan"], setup["task"]
    url = f"/allocation/plans/{plan.pk}/balance/"
    assert client.get(url).status_code == 200
    page = client.get(url, {"run": "1", "threshold": "0"}).content.decode()
    assert "配合单位均衡方案" in page
    response = client.post(
        url,
        {
            "task": [task.pk],
            "lock_" + str(task.pk): task.lock_version,
            "units_" + str(task.pk): str(setup["civil"].pk),
            "all": "1",
        },
    )
    assert response.status_code == 302
    coop = list(task.task_units.filter(role=TaskUnitRole.COOPERATING).values_list("unit_id", flat=True))
    assert coop == [setup["civil"].pk]
