"""A plan is not issued without a document number (文号): the service, the page and the API refuse an
empty or blank one with a Chinese message naming the field, and nothing changes (QA)."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from qiantou.approvals import services
from qiantou.approvals.models import ApprovalRequest, RequestStatus
from qiantou.audit.models import AuditEvent
from qiantou.consultation.tests.factories import World
from qiantou.plans.models import Plan, PlanStatus

pytestmark = pytest.mark.django_db



def approved(world: World) -> ApprovalRequest:
    req = services.plan_submit(actor=world.handler, plan=world.plan)
    for approver in (world.leader, world.principal):
        req = services.approval_approve(actor=approver, request=req, lock_version=req.lock_version)
    return req


def unchanged(world: World) -> bool:
    plan = Plan.objects.get(pk=world.plan.pk)
    return (
        plan.status == PlanStatus.APPROVING
        and plan.doc_number == ""
        and ApprovalRequest.objects.get(plan=plan).status == RequestStatus.APPROVED
        and not AuditEvent.objects.filter(action="plan.issue").exists()
    )


def test_service_refuses_an_empty_document_number(world: World) -> None:
    approved(world)
    for blank in ("", "   "):
        with pytest.raises(ValidationError) as refused:
            services.plan_issue(actor=world.handler, plan=world.plan, doc_number=blank)
        assert "文号" in refused.value.messages[0]
    assert unchanged(world)


def test_page_and_api_refuse_issuing_without_a_document_number(world: World) -> None:
    approved(world)
    client = Client()
    client.force_login(world.handler)
    form = client.get(f"/approvals/plans/{world.plan.pk}/").content.decode()
    field = form.split('name="doc_number"')[1].split(">")[0]
    assert "required" in field
    page = client.post(
        f"/approvals/plans/{world.plan.pk}/issue/",
        {"doc_number": " ", "issued_on": "2026-03-02"},
        follow=True,
    ).content.decode()
    assert "文号：印发须填写文号" in page
    url = f"/api/approvals/plans/{world.plan.pk}/issue"
    for body in ({}, {"doc_number": ""}, {"doc_number": "  "}):
        r = client.post(url, json.dumps(body), content_type="application/json")
        assert r.status_code == 422 and "文号" in r.json()["detail"], body
    assert unchanged(world)
    ok = client.post(url, json.dumps({"doc_number": "青民〔2026〕9号"}), content_type="application/json")
    assert ok.status_code == 200 and ok.json()["doc_number"] == "青民〔2026〕9号"
    assert Plan.objects.get(pk=world.plan.pk).status == PlanStatus.ISSUED
