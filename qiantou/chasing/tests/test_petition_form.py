"""The decision form of a 困难反映/延期申请 is shown only to those who may decide it: the lead unit while
it is pending, the leader in charge above the lead unit once escalated — not the liaison who raised it,
nor the read-only auditor or supervision office."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from qiantou.chasing import services
from qiantou.chasing.models import PetitionStatus
from qiantou.chasing.tests.factories import City, at, make_plan

pytestmark = pytest.mark.django_db

FORM = "提交处理意见"


def _page(user: object, item_id: int) -> str:
    c = Client()
    c.force_login(user)  # type: ignore[arg-type]
    r = c.get(f"/chasing/items/{item_id}/")
    assert r.status_code == 200
    return r.content.decode()


def test_decision_form_only_for_deciders(city: City) -> None:
    req = services.material_request_create(
        actor=city.handler, plan=make_plan(city), unit=city.coop_a, title="统计数据",
        due_date=dt.date(2026, 12, 15), now=at("2026-11-30 08:00"),
    )
    petition = services.petition_raise(
        actor=city.liaison_a, item=req.item, kind="extension", reason="数据未出",
        requested_due_date=dt.date(2026, 12, 22), now=at("2026-12-01 08:00"),
    )
    assert FORM in _page(city.handler, req.item_id)
    for user in (city.liaison_a, city.auditor, city.supervisor, city.leader):
        assert FORM not in _page(user, req.item_id), user
    services.petition_decide(
        actor=city.handler, petition=petition, decision=PetitionStatus.ESCALATED, note="请领导定",
        now=at("2026-12-01 09:00"),
    )
    assert FORM in _page(city.leader, req.item_id)
    for user in (city.liaison_a, city.auditor, city.supervisor, city.handler):
        assert FORM not in _page(user, req.item_id), user
