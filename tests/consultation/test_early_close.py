"""Closing a round before its closing date (QA: 13 units were stamped "逾期未反馈" a week early).

An early close with units still to answer must be confirmed (web: a required checkbox; API:
``"early": true``; the service refuses otherwise), and the units that had not answered are shown as
"提前截止时未反馈，视为无意见" everywhere — round page, statement .docx/.xlsx, audit payload, API —
never as late (逾期). A round closed after its closing date still says 逾期.
"""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from qiantou.audit.models import AuditEvent
from qiantou.consultation import exports, selectors, services
from qiantou.consultation.models import ConsultationRound, Response, RoundStatus
from qiantou.consultation.tests.factories import World, client_for
from qiantou.plans.selectors import SHANGHAI, today

pytestmark = pytest.mark.django_db

EARLY = "提前截止时未反馈，视为无意见"




def opened(world: World, days: int = 7) -> ConsultationRound:
    """A round closing in ``days`` days; unit b commented, a and c have not answered."""
    rnd = services.round_open(
        actor=world.handler, plan=world.plan, closes_on=today() + dt.timedelta(days=days)
    )
    services.comment_create(actor=world.liaison_b, round=rnd, body="建议调整时限", task_id=world.tasks[0].pk)
    return rnd


def test_service_refuses_an_unconfirmed_early_close_and_changes_nothing(world: World) -> None:
    rnd = opened(world)
    with pytest.raises(ValidationError) as refused:
        services.round_close(actor=world.handler, round=rnd)
    text = "；".join(refused.value.messages)
    assert "反馈截止日期" in text and "2个单位未反馈" in text and "青山市司法局" in text
    rnd.refresh_from_db()
    assert rnd.status == RoundStatus.OPEN
    assert not rnd.consulted.filter(response=Response.SILENT).exists()
    assert not AuditEvent.objects.filter(action__in=["consultation.close", "consultation.silence"]).exists()


def test_confirmed_early_close_says_not_answered_at_early_close_not_late(world: World) -> None:
    rnd = opened(world)
    closed = services.round_close(actor=world.handler, round=rnd, early=True)
    assert closed.status == RoundStatus.CLOSED and closed.closed_early
    st = selectors.statement_for(closed)
    assert [c.response_label for c in st.silent_units] == [EARLY, EARLY]
    rules = set(
        AuditEvent.objects.filter(action="consultation.silence").values_list("payload__rule", flat=True)
    )
    assert rules == {"提前截止时未反馈视为无意见"}
    close = AuditEvent.objects.get(action="consultation.close")
    assert (
        close.payload["closed_early"] is True and close.payload["closes_on"] == closed.closes_on.isoformat()
    )
    # the statement every consulted unit sees
    from docx import Document
    from openpyxl import load_workbook

    doc = Document(io.BytesIO(exports.statement_docx(st)))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "逾期" not in text
    assert (
        "2个单位在征求意见提前截止" in text and "提前截止时未反馈、视为无意见的单位：青山市司法局、" in text
    )
    book = load_workbook(io.BytesIO(exports.statement_xlsx(st)))
    sheet_text = " ".join(str(c.value) for row in book["采纳情况"].iter_rows() for c in row if c.value)
    assert "逾期" not in sheet_text and "提前截止" in sheet_text
    units = {r[0].value: r[1].value for r in book["单位反馈情况"].iter_rows(min_row=2)}
    assert units["青山市人力资源和社会保障局"] == EARLY and units["青山市财政局"] == "已提意见"


def test_closing_on_the_closing_date_itself_is_still_early(world: World) -> None:
    rnd = opened(world)
    on_the_day = dt.datetime.combine(rnd.closes_on, dt.time(16, 0), tzinfo=SHANGHAI)
    with pytest.raises(ValidationError):
        services.round_close(actor=world.handler, round=rnd, now=on_the_day)
    closed = services.round_close(actor=world.handler, round=rnd, now=on_the_day, early=True)
    assert closed.closed_early


def test_close_after_the_closing_date_needs_no_confirmation_and_says_late(world: World) -> None:
    rnd = opened(world)
    after = dt.datetime.combine(rnd.closes_on + dt.timedelta(days=1), dt.time(9, 0), tzinfo=SHANGHAI)
    closed = services.round_close(actor=world.handler, round=rnd, now=after)
    assert not closed.closed_early
    st = selectors.statement_for(closed)
    assert [c.response_label for c in st.silent_units] == ["逾期未反馈，视为无意见"] * 2
    rules = set(
        AuditEvent.objects.filter(action="consultation.silence").values_list("payload__rule", flat=True)
    )
    assert rules == {"逾期未反馈视为无意见"}
    assert "2个单位逾期未反馈（视为无意见）" in " ".join(exports.statement_summary(st))


def test_early_close_with_everyone_answered_needs_no_confirmation(world: World) -> None:
    rnd = opened(world)
    services.no_objection_record(actor=world.liaison_a, round=rnd)
    services.no_objection_record(actor=world.liaison_c, round=rnd)
    closed = services.round_close(actor=world.handler, round=rnd)
    assert (
        closed.status == RoundStatus.CLOSED and not closed.consulted.filter(response=Response.SILENT).exists()
    )


def test_web_close_form_asks_to_confirm_and_the_server_refuses_without_it(world: World) -> None:
    rnd = opened(world)
    handler = client_for(world.handler)
    page = handler.get(f"/consultation/rounds/{rnd.pk}/").content.decode()
    assert 'name="early"' in page and "required" in page.split('name="early"')[1].split(">")[0]
    assert "确认提前截止" in page
    url = f"/consultation/rounds/{rnd.pk}/close/"
    refused = handler.post(url, {}, follow=True).content.decode()
    assert "请勾选“确认提前截止”" in refused
    rnd.refresh_from_db()
    assert rnd.status == RoundStatus.OPEN
    done = handler.post(url, {"early": "1"}, follow=True).content.decode()
    rnd.refresh_from_db()
    assert rnd.status == RoundStatus.CLOSED
    assert "征求意见已提前截止" in done and EARLY in done and "逾期" not in done
    # a liaison of a consulted unit sees the same truthful wording
    seen = client_for(world.liaison_c).get(f"/consultation/rounds/{rnd.pk}/").content.decode()
    assert EARLY in seen and "逾期" not in seen


def test_web_close_form_has_no_checkbox_after_the_closing_date(world: World) -> None:
    rnd = opened(world)
    ConsultationRound.objects.filter(pk=rnd.pk).update(closes_on=today() - dt.timedelta(days=1))
    page = client_for(world.handler).get(f"/consultation/rounds/{rnd.pk}/").content.decode()
    assert 'id="close-form"' in page and 'name="early"' not in page
    client_for(world.handler).post(f"/consultation/rounds/{rnd.pk}/close/", {})
    rnd.refresh_from_db()
    assert rnd.status == RoundStatus.CLOSED and not rnd.closed_early
    assert timezone.localtime(rnd.closed_at).date() > rnd.closes_on  # type: ignore[arg-type]


def test_api_close_requires_early_before_the_closing_date(world: World) -> None:
    rnd = opened(world)
    api = client_for(world.handler)
    url = f"/api/consultation/rounds/{rnd.pk}/close"
    for body in ("", "{}", '{"early": false}'):  # no body (an older client), or not confirmed
        r = api.post(url, body, content_type="application/json")
        assert r.status_code == 422 and "确认提前截止" in r.json()["detail"], body
    rnd.refresh_from_db()
    assert rnd.status == RoundStatus.OPEN
    r = api.post(url, json.dumps({"early": True}), content_type="application/json")
    assert r.status_code == 200
    data = r.json()
    assert data["status"] == "closed" and data["closed_early"] is True
    by_unit = {c["unit"]: c for c in data["consulted"]}
    assert by_unit["青山市人力资源和社会保障局"]["response"] == "silent"
    assert by_unit["青山市人力资源和社会保障局"]["response_label"] == EARLY
    assert by_unit["青山市财政局"]["response_label"] == "已提意见"
