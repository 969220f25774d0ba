"""A refused sign-off chain names the users as people know them (name, username, role, unit), never
by database number (QA: "这些用户不能作为本方案的签批人：3")."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from qiantou.approvals import services
from qiantou.approvals.models import PlanApprover
from qiantou.consultation.tests.factories import World

pytestmark = pytest.mark.django_db



def test_service_names_refused_approvers(world: World) -> None:
    world.liaison_a.display_name = "王芳"
    world.liaison_a.save(update_fields=["display_name"])
    with pytest.raises(ValidationError) as refused:
        services.chain_set(
            actor=world.handler, plan=world.plan, approvers=[world.leader, world.liaison_a, world.auditor]
        )
    text = "；".join(refused.value.messages)
    assert "王芳（liaison_a，联络员，青山市司法局）" in text
    assert f"{world.auditor}（" in text and world.auditor.get_role_display() in text
    assert f"：{world.liaison_a.pk}" not in text and "分管领导" in text
    assert not PlanApprover.objects.exists()


def test_web_and_api_show_the_names(world: World) -> None:
    client = Client()
    client.force_login(world.handler)
    page = client.post(
        f"/approvals/plans/{world.plan.pk}/chain/", {"approver": [world.liaison_b.pk]}, follow=True
    ).content.decode()
    assert "liaison_b（联络员，青山市财政局）" in page
    r = client.put(
        f"/api/approvals/plans/{world.plan.pk}/chain",
        json.dumps({"approver_ids": [world.principal.pk, 987654]}),
        content_type="application/json",
    )
    assert r.status_code == 422 and "不存在的用户（编号987654）" in r.json()["detail"]
