"""Assessment inputs that used to slip through: a 系统编号 of "²" (a digit int() cannot read), NaN as a
weight or parameter, and scorecard dates outside 2000–2100."""

from __future__ import annotations

import io

import pytest
from django.test import Client
from openpyxl import Workbook

from qiantou.assessment import services
from qiantou.assessment.models import LedgerProgress, ScoringRules
from qiantou.chasing.tests.factories import City, ensure_calendar, make_city, make_plan

pytestmark = pytest.mark.django_db


@pytest.fixture
def city(db: None) -> City:
    ensure_calendar()
    return make_city()


def _ledger(*rows: list[object]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(["系统编号", "最新进展"])
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_ledger_refuses_odd_digits_and_huge_ids_naming_the_row(city: City) -> None:
    data = _ledger(["²", "进展"], ["1" * 40, "进展"], ["¹²", "进展"])
    with pytest.raises(services.LedgerImportError) as exc:
        services.ledger_import(actor=city.handler, name="台账.xlsx", data=data)
    assert [row for row, _ in exc.value.errors] == [2, 3, 4]
    assert all("系统编号" in message for _, message in exc.value.errors)
    assert LedgerProgress.objects.count() == 0


@pytest.mark.parametrize("value", [float("nan"), "nan", float("inf"), "-inf"])
def test_weights_and_parameters_refuse_non_finite_numbers(city: City, value: object) -> None:
    plan = make_plan(city)
    with pytest.raises(services.AssessmentError, match="有限数值"):
        services.rules_create(actor=city.handler, name="细则", plan=plan, weights={"timeliness": value})
    with pytest.raises(services.AssessmentError, match="有限数值"):
        services.rules_create(
            actor=city.handler, name="细则", plan=plan, parameters={"late_penalty_per_working_day": value}
        )
    assert not ScoringRules.objects.exists()


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": "1999-12-31", "end": "2026-01-01"}, "start"),
        ({"start": "2026-01-01", "end": "9999-12-31"}, "end"),
        ({"start": "2026-01-01", "end": "2026-12-31", "as_of": "0001-01-01"}, "as_of"),
        ({"start": "2026-12-31", "end": "2026-01-01"}, "end"),
    ],
)
def test_scorecard_api_refuses_dates_out_of_range_naming_them(
    city: City, params: dict[str, str], field: str
) -> None:
    rules = ScoringRules.objects.create(name="细则", plan=make_plan(city))
    client = Client()
    client.force_login(city.supervisor)
    response = client.get(f"/api/assessment/rules/{rules.pk}/scorecard", params)
    assert response.status_code == 422, response.content
    body = response.json()
    assert list(body["errors"]) == [field] and field in body["detail"]
    url = f"/api/assessment/rules/{rules.pk}/scorecard"
    ok = client.get(url, {"start": "2026-01-01", "end": "2026-12-31"})
    assert ok.status_code == 200
