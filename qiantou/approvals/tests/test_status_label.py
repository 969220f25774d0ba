"""Between the last signature and the issue a plan shows "已签批待印发", not "签批中" (QA), while its
stored status stays "approving" (the status machine is unchanged)."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from qiantou.approvals import services
from qiantou.approvals.selectors import plan_status_label
from qiantou.consultation.tests.factories import World
from qiantou.plans.models import Plan, PlanStatus

pytestmark = pytest.mark.django_db



def shown(user, url: str) -> str:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    page = client.get(url).content.decode()
    found = re.search(r'id="plan-status">([^<]*)<', page)
    assert found, url
    return found.group(1)


def test_status_reads_approved_awaiting_issue_after_the_last_signature(world: World) -> None:
    pages = [f"/approvals/plans/{world.plan.pk}/", f"/consultation/plans/{world.plan.pk}/"]
    req = services.plan_submit(actor=world.handler, plan=world.plan)
    assert [shown(world.handler, u) for u in pages] == ["签批中", "签批中"]
    req = services.approval_approve(actor=req.steps.get(position=0).approver, request=req, lock_version=0)
    assert plan_status_label(Plan.objects.get(pk=world.plan.pk)) == "签批中"  # one signature of two
    last = req.steps.get(position=1).approver
    services.approval_approve(actor=last, request=req, lock_version=req.lock_version)
    plan = Plan.objects.get(pk=world.plan.pk)
    assert plan.status == PlanStatus.APPROVING  # stored status unchanged
    assert plan_status_label(plan) == "已签批待印发"
    assert [shown(world.handler, u) for u in pages] == ["已签批待印发", "已签批待印发"]
    services.plan_issue(actor=world.handler, plan=plan, doc_number="青民〔2026〕3号")
    assert [shown(world.handler, u) for u in pages] == ["已印发", "已印发"]
