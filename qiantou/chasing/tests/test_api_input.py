"""The chasing API's answers to bad or awkward input found by the QA pass: filters before paging, 422
naming the parameter or field, Chinese 403 sentences, nothing changed on a refusal."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from qiantou.chasing.models import ChaseItem, ItemKind
from qiantou.chasing.tests.factories import City, make_plan

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def items(city: City) -> dict[str, list[int]]:
    """Six overdue (red) items, then five due far ahead (green), all open, in one issued plan."""
    plan = make_plan(city)
    today = timezone.localdate()
    ids: dict[str, list[int]] = {"red": [], "green": []}
    for n in range(11):
        light = "red" if n < 6 else "green"
        due = today - dt.timedelta(days=30 - n) if light == "red" else today + dt.timedelta(days=200 + n)
        item = ChaseItem.objects.create(
            kind=ItemKind.MATERIAL_REQUEST, plan=plan, unit=city.coop_a, title=f"事项{n}", due_date=due,
            created_at=timezone.now(),
        )
        ids[light].append(item.pk)
    return ids


def test_item_light_filter_applies_before_paging(city: City, items: dict[str, list[int]]) -> None:
    c = _client(city.supervisor)

    def ids(**params: Any) -> list[int]:
        rows = c.get("/api/chasing/items", params).json()
        assert all(r["light"] == params["light"] for r in rows) if "light" in params else True
        return [r["id"] for r in rows]

    assert ids(limit=1000) == items["red"] + items["green"]
    assert ids(limit=2, light="green") == items["green"][:2]
    assert ids(limit=2, offset=2, light="green") == items["green"][2:4]
    assert ids(limit=3, offset=4, light="red") == items["red"][4:6]
    assert ids(light="green", state="done") == []


@pytest.mark.parametrize(("param", "value"), [("state", "bogus"), ("light", "purple")])
def test_item_list_refuses_unknown_state_or_light(
    city: City, items: dict[str, list[int]], param: str, value: str
) -> None:
    response = _client(city.supervisor).get("/api/chasing/items", {param: value})
    assert response.status_code == 422
    assert list(response.json()["errors"]) == [param] and param in response.json()["detail"]
