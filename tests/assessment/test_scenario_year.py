"""A simulated plan year (2024, across the Spring Festival, Dragon Boat and National Day 调休): three
cooperating units' scores match a hand computation; changing a weight recomputes them; the scorecard
links every point to the events it came from; the lead unit's own record is kept apart."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from qiantou.accounts.models import Role
from qiantou.assessment import services
from qiantou.assessment.scoring import compute_scorecard
from qiantou.chasing import services as chasing
from qiantou.chasing.models import MaterialRequest, PetitionKind, PetitionStatus, Reminder
from qiantou.chasing.tests.factories import City, make_city, make_plan, make_user
from qiantou.units.models import Unit
from tests.assessment.sim import acknowledge, advance, at

pytestmark = pytest.mark.django_db

AS_OF = dt.date(2024, 12, 31)


def _request(city: City, plan: Any, unit: Unit, title: str, when: str, **due: Any) -> MaterialRequest:
    return chasing.material_request_create(
        actor=city.handler, plan=plan, unit=unit, title=title, issued_on=at(when).date(), now=at(when), **due
    )


def _submit(req: MaterialRequest, user: Any, when: str, *, accept: bool = True) -> Any:
    advance(at(when))
    sub = chasing.material_submit(actor=user, request=req, text="材料见附件", now=at(when))
    if accept:
        chasing.material_decide(
            actor=req.plan.lead_unit.members.get(role=Role.HANDLER),
            submission=sub,
            accept=True,
            now=at(when) + dt.timedelta(hours=2),
        )
    return sub


def _ack_all(req: MaterialRequest, user: Any, *, limit: int | None = None) -> None:
    for i, r in enumerate(Reminder.objects.filter(item=req.item).order_by("rung_index")):
        if limit is not None and i >= limit:
            break
        acknowledge(r, user, r.fired_at + dt.timedelta(hours=1))


@pytest.fixture
def year(db: None) -> dict[str, Any]:
    """Play the year; returns the actors, units and rules."""
    city = make_city()
    unit_c = Unit.objects.create(code="C-ZRZY", name="市自然资源和规划局", parent=city.gov)
    liaison_c = make_user("liaisonc", Role.LIAISON, unit_c)
    plan = make_plan(city, title="2024年优化营商环境重点任务分工方案")
    rules = services.rules_create(
        actor=city.supervisor,
        name="2024年度营商环境考核",
        plan=plan,
        leading_group="优化营商环境工作领导小组",
    )
    # C: issued Wed 2024-02-07 "5个工作日内" → due Tue 2024-02-20 (across the Spring Festival).
    mr5 = _request(city, plan, unit_c, "一季度用地保障数据", "2024-02-07 10:00", due_working_days=5)
    assert mr5.due_date == dt.date(2024, 2, 20)
    advance(at("2024-02-19 10:00"))
    diff = chasing.petition_raise(
        actor=liaison_c,
        item=mr5.item,
        kind=PetitionKind.DIFFICULTY,
        reason="数据需自然资源部系统导出，权限待开通",
        now=at("2024-02-19 10:00"),
    )
    chasing.petition_decide(
        actor=city.handler,
        petition=diff,
        decision=PetitionStatus.RESOLVED,
        note="已协调省厅开通权限",
        now=at("2024-02-19 15:00"),
    )
    _submit(mr5, liaison_c, "2024-02-22 10:00", accept=False)  # 2 working days late (2/21, 2/22)
    _ack_all(
        mr5, liaison_c, limit=2
    )  # of three reminders (notice 2/9, due 2/20, overdue 2/21) two acknowledged
    # A: on time (rated 5), then 2 working days late (rated 4); acknowledges every reminder.
    mr1 = _request(
        city, plan, city.coop_a, "财政资金保障方案", "2024-03-01 09:30", due_date=dt.date(2024, 3, 15)
    )
    sub1 = _submit(mr1, city.liaison_a, "2024-03-14 10:00")
    mr2 = _request(
        city, plan, city.coop_a, "惠企资金兑付情况", "2024-06-03 09:30", due_date=dt.date(2024, 6, 14)
    )
    sub2 = _submit(mr2, city.liaison_a, "2024-06-18 10:00")  # 6/17, 6/18: 2 working days late
    _ack_all(mr1, city.liaison_a)
    _ack_all(mr2, city.liaison_a)
    services.rating_give(actor=city.handler, submission=sub1, rating=5, comment="数据完整，测算清楚")
    services.rating_give(actor=city.handler, submission=sub2, rating=4, comment="基本完整")
    # The lead unit's own request to itself, never handed in: its own record, not its cooperators'.
    own = _request(
        city, plan, city.lead, "牵头单位汇总报告", "2024-04-01 09:30", due_date=dt.date(2024, 4, 12)
    )
    # B: ignores a request (asks for an extension, refused), hands in another on time (rated 3).
    mr3 = _request(
        city, plan, city.coop_b, "城市更新项目清单", "2024-09-02 09:30", due_date=dt.date(2024, 9, 27)
    )
    advance(at("2024-09-26 10:00"))
    ext = chasing.petition_raise(
        actor=city.liaison_b,
        item=mr3.item,
        kind=PetitionKind.EXTENSION,
        reason="人手紧张",
        requested_due_date=dt.date(2024, 10, 31),
        now=at("2024-09-26 10:00"),
    )
    chasing.petition_decide(
        actor=city.handler,
        petition=ext,
        decision=PetitionStatus.REFUSED,
        note="时间节点已报市政府，不宜延期",
        now=at("2024-09-26 16:00"),
    )
    mr4 = _request(
        city, plan, city.coop_b, "保障性住房进度", "2024-11-01 09:30", due_date=dt.date(2024, 11, 15)
    )
    sub4 = _submit(mr4, city.liaison_b, "2024-11-14 10:00")
    services.rating_give(actor=city.handler, submission=sub4, rating=3, comment="数据口径不一致")
    _ack_all(mr4, city.liaison_b)  # its one reminder (notice 11/12)
    advance(at("2024-12-31 18:00"))
    services.adjustment_add(
        actor=city.supervisor,
        rules=rules,
        unit=unit_c,
        points=3,
        reason="主动承担额外数据核查任务",
        on_date=dt.date(2024, 5, 1),
    )
    return {
        "city": city,
        "plan": plan,
        "rules": rules,
        "c": unit_c,
        "mr": {1: mr1, 2: mr2, 3: mr3, 4: mr4, 5: mr5},
        "own": own,
    }


def test_reminders_fired_as_the_ladder_says(year: dict[str, Any]) -> None:
    def fired(req: MaterialRequest) -> list[str]:
        return [
            f"{r.rung}@{r.fired_at.astimezone(at('2024-01-01 00:00').tzinfo):%m-%d}"
            for r in Reminder.objects.filter(item=req.item).order_by("rung_index")
        ]

    mr = year["mr"]
    assert fired(mr[5]) == ["notice@02-09", "due@02-20", "overdue_1@02-21"]
    assert fired(mr[1]) == ["notice@03-12"]
    assert fired(mr[2]) == ["notice@06-11", "due@06-14", "overdue_1@06-17"]
    # 9/29 (Sunday) is an adjusted working day; 10/1–10/7 National Day
    assert fired(mr[3]) == [
        "notice@09-24",
        "due@09-27",
        "overdue_1@09-29",
        "overdue_3@10-08",
        "overdue_5@10-10",
    ]
    assert fired(mr[4]) == ["notice@11-12"]


def _scores(card: Any, unit: Unit) -> dict[str, Any]:
    line = card.unit(unit.pk)
    assert line is not None, unit.name
    return {k: (None if c.score is None else round(c.score, 4)) for k, c in line.criteria.items()} | {
        "total": round(line.total, 4),
        "rank": line.rank,
    }


def test_scores_match_the_hand_computation(year: dict[str, Any]) -> None:
    city, rules = year["city"], year["rules"]
    card = compute_scorecard(rules, start=dt.date(2024, 1, 1), end=dt.date(2024, 12, 31), as_of=AS_OF)
    # A: timeliness (100 + 80)/2; completeness 2/2; quality (5 + 4)/2 × 20; 4 of 4 reminders acknowledged.
    #    total = (40×90 + 30×100 + 20×90 + 10×100) / 100 = 94
    assert _scores(card, city.coop_a) == {
        "timeliness": 90.0,
        "completeness": 100.0,
        "quality": 90.0,
        "cooperation": 100.0,
        "total": 94.0,
        "rank": 1,
    }
    # B: timeliness (0 + 100)/2; completeness 1/2; quality 3 × 20; 1 of 6 reminders acknowledged
    #    = 16.667, minus 5 for the extension request = 11.667.
    #    total = (40×50 + 30×50 + 20×60 + 10×11.6667) / 100 = 48.1667
    assert _scores(card, city.coop_b) == {
        "timeliness": 50.0,
        "completeness": 50.0,
        "quality": 60.0,
        "cooperation": 11.6667,
        "total": 48.1667,
        "rank": 3,
    }
    # C: timeliness 80 (2 working days late); completeness 1/1; no rating (quality not counted);
    #    2 of 3 acknowledged = 66.667, plus 2 for the difficulty resolved = 68.667.
    #    weighted = (40×80 + 30×100 + 10×68.6667) / 80 = 86.0833; plus the bonus 3 = 89.0833
    assert _scores(card, year["c"]) == {
        "timeliness": 80.0,
        "completeness": 100.0,
        "quality": None,
        "cooperation": 68.6667,
        "total": 89.0833,
        "rank": 2,
    }
    # The lead unit's own unanswered request is its own record, apart from the ranking.
    assert [x.unit_id for x in card.cooperating] == [city.coop_a.pk, year["c"].pk, city.coop_b.pk]
    assert [x.unit_id for x in card.lead] == [city.lead.pk]
    assert card.lead[0].criteria["timeliness"].score == 0.0 and card.lead[0].items_missing == 1


def test_changing_a_weight_recomputes(year: dict[str, Any]) -> None:
    city, rules = year["city"], year["rules"]
    services.rules_update(
        actor=city.supervisor,
        rules=rules,
        version=rules.version,
        weights={"timeliness": 70, "completeness": 10, "quality": 10, "cooperation": 10},
    )
    rules.refresh_from_db()
    card = compute_scorecard(rules, start=dt.date(2024, 1, 1), end=dt.date(2024, 12, 31), as_of=AS_OF)
    assert card.rules_version == 2
    assert round(card.unit(city.coop_a.pk).total, 4) == 92.0  # type: ignore[union-attr]
    assert round(card.unit(city.coop_b.pk).total, 4) == 47.1667  # type: ignore[union-attr]
    # C: (70×80 + 10×100 + 10×68.6667) / 90 + 3
    assert round(card.unit(year["c"].pk).total, 4) == round((5600 + 1000 + 686.6667) / 90 + 3, 4)  # type: ignore[union-attr]
    # a stale version is refused
    from qiantou.errors import ConflictError

    with pytest.raises(ConflictError):
        services.rules_update(actor=city.supervisor, rules=rules, version=1, weights={"quality": 5})


def test_scorecard_links_each_point_to_its_events(year: dict[str, Any]) -> None:
    city, rules, mr = year["city"], year["rules"], year["mr"]
    card = compute_scorecard(rules, start=dt.date(2024, 1, 1), end=dt.date(2024, 12, 31), as_of=AS_OF)
    b = card.unit(city.coop_b.pk)
    assert b is not None
    timely = b.criteria["timeliness"].events
    assert [(e.url, e.points) for e in timely] == [
        (f"/chasing/materials/{mr[3].pk}/", 0.0),
        (f"/chasing/materials/{mr[4].pk}/", 100.0),
    ]
    assert len([e for e in b.criteria["cooperation"].events if e.kind == "reminder"]) == 6
    assert any(e.kind == "petition" and e.points == -5.0 for e in b.criteria["cooperation"].events)
    assert [e.points for e in b.criteria["quality"].events] == [60.0]
    # the page: each unit links to its breakdown, and the breakdown links to the chasing pages
    client = Client()
    client.force_login(city.supervisor)
    page = client.get(
        f"/assessment/rules/{rules.pk}/scorecard/?start=2024-01-01&end=2024-12-31&as_of=2024-12-31"
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert f"/assessment/rules/{rules.pk}/units/{city.coop_b.pk}/" in html and "94.00" in html
    detail = client.get(
        f"/assessment/rules/{rules.pk}/units/{city.coop_b.pk}/?start=2024-01-01&end=2024-12-31"
        "&as_of=2024-12-31"
    ).content.decode()
    assert f'href="/chasing/materials/{mr[3].pk}/"' in detail and "逾期未完成" in detail
    assert "延期申请（不同意）" in detail and "48.17" in detail
    # a liaison of a cooperating unit may not read the leading group's scorecard
    client.force_login(city.liaison_b)
    assert client.get(f"/assessment/rules/{rules.pk}/scorecard/").status_code == 404


def test_trend_and_circular(year: dict[str, Any]) -> None:
    from io import BytesIO

    from docx import Document

    from qiantou.assessment.exports import circular_docx
    from qiantou.assessment.scoring import score_trend

    city, rules = year["city"], year["rules"]
    trend = score_trend(
        rules, start=dt.date(2024, 1, 1), end=dt.date(2024, 12, 31), as_of=AS_OF, by="quarter"
    )
    assert [t[0] for t in trend] == ["2024Q1", "2024Q2", "2024Q3", "2024Q4"]
    assert trend[0][1][year["c"].pk] == pytest.approx((40 * 80 + 30 * 100 + 10 * 68.6667) / 80, abs=1e-3)
    assert trend[2][1][city.coop_b.pk] == pytest.approx(0.0)  # Q3: the missing request only
    draft = services.circular_draft_create(
        actor=city.supervisor,
        rules=rules,
        start=dt.date(2024, 1, 1),
        end=dt.date(2024, 12, 31),
        as_of=AS_OF,
        authority="某市优化营商环境工作领导小组办公室",
        signatory="某市优化营商环境工作领导小组办公室",
    )
    assert "市财政局等1个单位" in draft.body and "市住房和城乡建设局：应完成2项" in draft.body
    draft = services.circular_draft_update(
        actor=city.supervisor, draft=draft, lock_version=0, body=draft.body + "\n特此通报。"
    )
    text = "\n".join(p.text for p in Document(BytesIO(circular_docx(draft))).paragraphs)
    assert "通报" in text and "特此通报。" in text and "市住房和城乡建设局" in text
    services.circular_send(actor=city.supervisor, draft=draft)
    from qiantou.errors import StateError

    with pytest.raises(StateError):
        services.circular_draft_update(actor=city.supervisor, draft=draft, lock_version=1, body="改")
