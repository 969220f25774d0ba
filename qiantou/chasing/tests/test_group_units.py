"""A collective party (各有关单位, a unit of kind group) is not a unit: it cannot be asked for materials
(page, API, service) and is left out of scorecards, where it used to top the table at 100.00."""

from __future__ import annotations

import datetime as dt

import pytest

from qiantou.assessment.models import ScoringRules
from qiantou.assessment.scoring import compute_scorecard
from qiantou.chasing import services
from qiantou.chasing.models import ChaseItem, ItemKind, ItemState, MaterialRequest
from qiantou.chasing.tests.factories import City, at, client_for, make_plan
from qiantou.units.models import Unit, UnitKind

pytestmark = pytest.mark.django_db


@pytest.fixture
def group(city: City) -> Unit:
    return Unit.objects.create(
        code=f"GRP{city.gov.pk}", name="各有关单位", kind=UnitKind.GROUP, parent=city.gov
    )


def test_service_refuses_a_group_naming_the_field(city: City, group: Unit) -> None:
    with pytest.raises(services.ChasingError, match=r"报送单位（unit_id）“各有关单位”是集合主体"):
        services.material_request_create(
            actor=city.handler, plan=make_plan(city), unit=group, title="统计数据", due_working_days=5,
        )
    assert not MaterialRequest.objects.exists()


def test_page_and_api_refuse_a_group(city: City, group: Unit) -> None:
    plan = make_plan(city)
    page = client_for(city.handler).get(f"/chasing/plans/{plan.pk}/materials/new/").content.decode()
    assert "各有关单位" not in page and "市财政局" in page
    r = client_for(city.handler).post(
        f"/chasing/plans/{plan.pk}/materials/new/",
        {"unit": group.pk, "title": "统计数据", "due_mode": "days", "due_working_days": 5},
    )
    assert r.status_code == 200
    assert "集合主体" in r.context["form"].errors["unit"][0]
    api = client_for(city.handler).post(
        f"/api/chasing/plans/{plan.pk}/material-requests",
        {"unit_id": group.pk, "title": "统计数据", "due_working_days": 5},
        content_type="application/json",
    )
    assert api.status_code == 422 and "unit_id" in api.json()["detail"]
    assert not MaterialRequest.objects.exists()


def test_scorecard_leaves_out_group_units(city: City, group: Unit) -> None:
    plan = make_plan(city)
    due = dt.date(2026, 6, 10)
    for unit, done_at in ((group, at("2026-06-01 10:00")), (city.coop_a, at("2026-06-15 10:00"))):
        # the group's item stands for one made before groups were refused
        ChaseItem.objects.create(
            kind=ItemKind.MATERIAL_REQUEST, plan=plan, unit=unit, title="统计数据", due_date=due,
            state=ItemState.DONE, done_at=done_at, created_at=at("2026-05-01 10:00"),
        )
    rules = ScoringRules.objects.create(name="细则", plan=plan)
    card = compute_scorecard(
        rules, start=dt.date(2026, 1, 1), end=dt.date(2026, 12, 31), as_of=dt.date(2026, 11, 30)
    )
    names = [x.unit_name for x in card.cooperating + card.lead]
    assert names == ["市财政局"]
