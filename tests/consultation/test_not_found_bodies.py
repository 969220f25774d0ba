"""A 404 from the consultation and sign-off API has the same body whether the object is missing or
only invisible to the caller, so the answer never reveals that it exists (README: byte-identical)."""

from __future__ import annotations

import datetime as dt

import pytest

from qiantou.accounts.models import Role, User
from qiantou.approvals import services as approvals
from qiantou.consultation import services
from qiantou.consultation.models import ConsultationRound
from qiantou.consultation.tests.factories import World, client_for, post_json
from qiantou.plans import services as plan_services
from qiantou.plans.selectors import today

pytestmark = pytest.mark.django_db





def _open(world: World) -> ConsultationRound:
    return services.round_open(actor=world.handler, plan=world.plan, closes_on=today() + dt.timedelta(days=5))


def _sysadmin() -> User:
    return User.objects.create_user(username="sysadmin", password="x" * 12, role=Role.SYSTEM_ADMIN)


def test_404_bodies_are_identical_for_missing_and_invisible_comments_and_requests(world: World) -> None:
    rnd = _open(world)
    c = services.comment_create(actor=world.liaison_b, round=rnd, body="意见")
    req_plan = plan_services.plan_create(actor=None, title="另一方案", lead_unit=world.lead)
    plan_services.task_create(actor=None, plan=req_plan, no="1", text="任务", lead_units=[world.lead])
    req = approvals.plan_submit(actor=world.handler, plan=req_plan)
    for user in (_sysadmin(), world.liaison_out):
        client = client_for(user)
        body = {"disposition": "adopted", "lock_version": 0}
        seen = post_json(client, f"/api/consultation/comments/{c.pk}/dispose", body)
        missing = post_json(client, "/api/consultation/comments/999999/dispose", body)
        assert seen.status_code == missing.status_code == 404  # type: ignore[attr-defined]
        assert seen.content == missing.content  # type: ignore[attr-defined]
        decision = {"lock_version": 0}
        for action in ("approve", "return"):
            seen = post_json(client, f"/api/approvals/requests/{req.pk}/{action}", decision)
            missing = post_json(client, f"/api/approvals/requests/999999/{action}", decision)
            assert seen.status_code == missing.status_code == 404  # type: ignore[attr-defined]
            assert seen.content == missing.content  # type: ignore[attr-defined]
