"""Assessment pages per role: the dashboard draws its charts from what the user may see; rules are set
and weights changed only by those allowed; ratings only by the lead unit, only of accepted submissions;
the circular draft is the supervision office's and opens in Word."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.test import Client

from qiantou.assessment import services
from qiantou.assessment.models import CircularDraft, QualityRating, ScoringRules
from qiantou.chasing import services as chasing
from qiantou.chasing.tests.factories import City, at, make_city, make_plan
from qiantou.errors import StateError

pytestmark = pytest.mark.django_db


@pytest.fixture
def city(db: None) -> City:
    return make_city()


def _client(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


def test_dashboard_draws_charts_for_each_role(city: City) -> None:
    plan = make_plan(city)
    chasing.material_request_create(
        actor=city.handler,
        plan=plan,
        unit=city.coop_a,
        title="统计数据",
        due_date=dt.date(2024, 3, 15),
        now=at("2024-03-01 09:00"),
    )
    services.rules_create(actor=city.supervisor, name="年度考核")
    for user in (city.supervisor, city.handler, city.liaison_a, city.leader, city.auditor):
        page = _client(user).get("/assessment/?start=2024-01-01")
        assert page.status_code == 200, user
        html = page.content.decode()
        assert "考核看板" in html and "<svg" in html
    overdue = _client(city.handler).get("/assessment/?start=2024-01-01").content.decode()
    assert "市财政局" in overdue  # the overdue request shows by unit
    assert "市财政局" not in _client(city.liaison_b).get("/assessment/?start=2024-01-01").content.decode()


def test_absurd_date_range_falls_back_to_the_current_year(city: City) -> None:
    """Dates outside 2000–2100 (e.g. 0001-01-01 to 9999-12-31) are ignored, never a server error."""
    make_plan(city)
    client = _client(city.supervisor)
    for path in ("/assessment/", "/assessment/report/", "/assessment/ledger/"):
        page = client.get(f"{path}?start=0001-01-01&end=9999-12-31&as_of=9999-12-31")
        assert page.status_code == 200, path
    assert "0001-01-01 至" not in client.get("/assessment/?start=0001-01-01").content.decode()


def test_rules_are_set_by_those_allowed(city: City) -> None:
    plan = make_plan(city)
    assert (
        _client(city.handler)
        .post("/assessment/rules/", {"name": "本方案考核", "plan": plan.pk, "timeliness": "50"})
        .status_code
        == 302
    )
    rules = ScoringRules.objects.get(name="本方案考核")
    assert rules.plan == plan and rules.weights == {"timeliness": 50.0}
    # a handler cannot set rules for every plan; a liaison none at all
    with pytest.raises(Exception, match="考核细则"):
        services.rules_create(actor=city.handler, name="全市考核")
    _client(city.liaison_a).post("/assessment/rules/", {"name": "我的考核"})
    assert not ScoringRules.objects.filter(name="我的考核").exists()
    # bad weights are refused with a message and change nothing
    with pytest.raises(services.AssessmentError, match="0到100"):
        services.rules_update(actor=city.handler, rules=rules, version=1, weights={"quality": 300})
    with pytest.raises(services.AssessmentError, match="未知的考核指标"):
        services.rules_update(actor=city.handler, rules=rules, version=1, weights={"speed": 3})
    rules.refresh_from_db()
    assert rules.version == 1
    page = _client(city.handler).post(f"/assessment/rules/{rules.pk}/", {"version": "1", "quality": "30"})
    assert page.status_code == 302
    rules.refresh_from_db()
    assert rules.version == 2 and rules.weights["quality"] == 30.0
    # the other cooperating unit's liaison cannot see the rules page
    assert _client(city.liaison_b).get(f"/assessment/rules/{rules.pk}/").status_code == 404


def test_only_the_lead_unit_rates_accepted_submissions(city: City) -> None:
    plan = make_plan(city)
    req = chasing.material_request_create(
        actor=city.handler,
        plan=plan,
        unit=city.coop_a,
        title="统计数据",
        due_date=dt.date(2024, 3, 15),
        now=at("2024-03-01 09:00"),
    )
    sub = chasing.material_submit(
        actor=city.liaison_a, request=req, text="见附件", now=at("2024-03-10 09:00")
    )
    with pytest.raises(StateError):
        services.rating_give(actor=city.handler, submission=sub, rating=4, comment="好")
    chasing.material_decide(actor=city.handler, submission=sub, accept=True, now=at("2024-03-11 09:00"))
    with pytest.raises(services.AssessmentError):
        services.rating_give(actor=city.handler, submission=sub, rating=6, comment="好")
    # the rated unit itself may not rate
    _client(city.liaison_a).post(f"/assessment/rate/submission/{sub.pk}/", {"rating": "5", "comment": "自评"})
    assert not QualityRating.objects.exists()
    _client(city.handler).post(f"/assessment/rate/submission/{sub.pk}/", {"rating": "4", "comment": "较完整"})
    rating = QualityRating.objects.get()
    assert (rating.rating, rating.unit, rating.comment) == (4, city.coop_a, "较完整")


def test_circular_draft_is_edited_and_downloaded(city: City) -> None:
    from docx import Document

    rules = services.rules_create(actor=city.supervisor, name="年度考核", leading_group="重点工作领导小组")
    client = _client(city.supervisor)
    response = client.post(
        f"/assessment/rules/{rules.pk}/circular/",
        {"start": "2024-01-01", "end": "2024-12-31", "as_of": "2024-12-31"},
    )
    draft = CircularDraft.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/assessment/circulars/{draft.pk}/"
    client.post(
        f"/assessment/circulars/{draft.pk}/",
        {
            "lock_version": "0",
            "title": "关于2024年重点工作落实情况的通报",
            "body": "一、总体情况\n本期无逾期。",
            "main_recipients": "各有关单位：",
            "doc_number": "青重办〔2025〕1号",
            "signatory": "重点工作领导小组办公室",
        },
    )
    docx = client.get(f"/assessment/circulars/{draft.pk}/?format=docx")
    assert docx.status_code == 200
    text = "\n".join(p.text for p in Document(io.BytesIO(docx.content)).paragraphs)
    assert (
        "关于2024年重点工作落实情况的通报" in text and "青重办〔2025〕1号" in text and "本期无逾期。" in text
    )
    # a handler may neither draft nor open circulars
    assert _client(city.handler).get(f"/assessment/circulars/{draft.pk}/").status_code == 404
