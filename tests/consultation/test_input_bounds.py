"""Input bounds of consultation and sign-off: over-long strings, dates outside 2000–2100, and a round
given both a closing date and a number of working days are refused with a 422 naming the field."""

from __future__ import annotations

import datetime as dt

import pytest

from qiantou.approvals import services as approvals
from qiantou.approvals.models import ApprovalRequest
from qiantou.consultation.models import ConsultationRound
from qiantou.consultation.tests.factories import World, client_for, post_json
from qiantou.plans.models import Plan, PlanStatus
from qiantou.plans.selectors import today

pytestmark = pytest.mark.django_db





def _approved(world: World) -> ApprovalRequest:
    req = approvals.plan_submit(actor=world.handler, plan=world.plan)
    for approver in (world.leader, world.principal):
        req = ApprovalRequest.objects.get(pk=req.pk)
        approvals.approval_approve(actor=approver, request=req, lock_version=req.lock_version)
    return req


def test_issue_refuses_an_over_long_document_number_naming_the_field(world: World) -> None:
    _approved(world)
    handler = client_for(world.handler)
    r = post_json(handler, f"/api/approvals/plans/{world.plan.pk}/issue", {"doc_number": "号" * 209})
    assert r.status_code == 422  # type: ignore[attr-defined]
    assert "doc_number" in r.json()["detail"] or "文号" in r.json()["detail"]  # type: ignore[attr-defined]
    assert Plan.objects.get(pk=world.plan.pk).status == PlanStatus.APPROVING
    # the page form is refused by the service with a Chinese message naming the field
    page = handler.post(
        f"/approvals/plans/{world.plan.pk}/issue/", {"doc_number": "号" * 65}, follow=True
    ).content.decode()
    assert "文号" in page and "64" in page
    assert Plan.objects.get(pk=world.plan.pk).status == PlanStatus.APPROVING
    ok = post_json(handler, f"/api/approvals/plans/{world.plan.pk}/issue", {"doc_number": "号" * 64})
    assert ok.status_code == 200  # type: ignore[attr-defined]
    assert Plan.objects.get(pk=world.plan.pk).doc_number == "号" * 64


def test_issue_refuses_a_date_outside_2000_to_2100(world: World) -> None:
    _approved(world)
    handler = client_for(world.handler)
    for day in ("0001-01-01", "1999-12-31", "2101-01-01"):
        r = post_json(
            handler,
            f"/api/approvals/plans/{world.plan.pk}/issue",
            {"issued_on": day, "doc_number": "青民〔2026〕2号"},
        )
        assert r.status_code == 422, day  # type: ignore[attr-defined]
        assert "印发日期" in r.json()["detail"] and "2000" in r.json()["detail"]  # type: ignore[attr-defined]
    assert Plan.objects.get(pk=world.plan.pk).status == PlanStatus.APPROVING
    ok = post_json(
        handler,
        f"/api/approvals/plans/{world.plan.pk}/issue",
        {"issued_on": "2026-03-02", "doc_number": "青民〔2026〕2号"},
    )
    assert ok.status_code == 200  # type: ignore[attr-defined]


def test_round_with_both_a_closing_date_and_working_days_is_refused(world: World) -> None:
    url = f"/api/consultation/plans/{world.plan.pk}/rounds"
    closes_on = (today() + dt.timedelta(days=5)).isoformat()
    r = post_json(client_for(world.handler), url, {"closes_on": closes_on, "working_days": 5})
    assert r.status_code == 422  # type: ignore[attr-defined]
    assert "只填一项" in r.json()["detail"]  # type: ignore[attr-defined]
    assert not ConsultationRound.objects.exists()
    assert post_json(client_for(world.handler), url, {"working_days": 5}).status_code == 201  # type: ignore[attr-defined]


def test_the_issue_form_warns_of_deadlines_already_past(world: World) -> None:
    from qiantou.plans.models import Task

    _approved(world)
    url = f"/approvals/plans/{world.plan.pk}/"
    Task.objects.filter(plan=world.plan).update(deadline=today() + dt.timedelta(days=60))
    assert 'id="past-deadlines"' not in client_for(world.handler).get(url).content.decode()
    late = Task.objects.filter(plan=world.plan).order_by("position").first()
    assert late is not None
    Task.objects.filter(pk=late.pk).update(deadline=dt.date(2024, 6, 30))
    page = client_for(world.handler).get(url).content.decode()
    assert 'id="past-deadlines"' in page and "2024-06-30" in page
    assert page.index('id="past-deadlines"') < page.index('id="issue-form"')  # read before the button
    # The plan page says where the plan stands: signed by the whole chain, waiting to be issued.
    plan_page = client_for(world.handler).get(f"/plans/{world.plan.pk}/").content.decode()
    assert "已签批待印发" in plan_page and 'id="past-deadlines"' in plan_page
