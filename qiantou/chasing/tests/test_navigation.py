"""Chasing pages can be found: an item links to the material / report page where it is handled, and
the 报送要求 page (in the chasing navigation) lists a plan's report cycles and material requests."""

from __future__ import annotations

import datetime as dt

import pytest

from qiantou.chasing import services
from qiantou.chasing.models import ReportRequest
from qiantou.chasing.tests.factories import City, at, client_for, make_plan, make_task

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(city: City) -> tuple[int, int, int]:
    plan = make_plan(city, title="营商环境方案")
    make_task(plan, "1", dt.date(2026, 12, 31), lead=[city.coop_a])
    mr = services.material_request_create(
        actor=city.handler, plan=plan, unit=city.coop_a, title="统计数据", due_date=dt.date(2026, 12, 15),
        now=at("2026-11-30 08:00"),
    )
    cycle = services.report_cycle_create(
        actor=city.handler, plan=plan, title="月度进展", rule={"kind": "monthly", "day": 20},
        start_date=dt.date(2026, 12, 1), end_date=dt.date(2026, 12, 31), now=at("2026-11-30 08:00"),
    )
    services.report_requests_generate(cycle=cycle, now=at("2026-12-20 08:00"))
    return mr.pk, cycle.pk, ReportRequest.objects.get(cycle=cycle).pk


def test_item_page_links_to_its_material_and_report_page(city: City, setup: tuple[int, int, int]) -> None:
    mr_pk, _, rr_pk = setup
    from qiantou.chasing.models import MaterialRequest

    mr = MaterialRequest.objects.get(pk=mr_pk)
    rr = ReportRequest.objects.get(pk=rr_pk)
    for user in (city.handler, city.liaison_a):
        page = client_for(user).get(f"/chasing/items/{mr.item_id}/").content.decode()
        assert f'href="/chasing/materials/{mr_pk}/"' in page
        page = client_for(user).get(f"/chasing/items/{rr.item_id}/").content.decode()
        assert f'href="/chasing/reports/{rr_pk}/"' in page


def test_requests_page_lists_cycles_and_materials_and_is_in_the_nav(
    city: City, setup: tuple[int, int, int]
) -> None:
    mr_pk, cycle_pk, _ = setup
    home = client_for(city.handler).get("/chasing/").content.decode()
    assert 'href="/chasing/requests/"' in home
    for user in (city.handler, city.liaison_a, city.supervisor):
        page = client_for(user).get("/chasing/requests/").content.decode()
        assert f'href="/chasing/cycles/{cycle_pk}/"' in page, user
        assert f'href="/chasing/materials/{mr_pk}/"' in page, user
    outsider = client_for(city.liaison_b).get("/chasing/requests/").content.decode()
    assert "月度进展" not in outsider and "统计数据" not in outsider
