"""``qiantou demo_load`` imports its ledger plan from the published .xlsx with the importer."""

from __future__ import annotations

import pytest

from qiantou.audit.models import AuditEvent
from qiantou.demo.loader import demo_load
from qiantou.plans.models import Plan, TaskStatus

pytestmark = pytest.mark.django_db


def test_demo_ledger_plan_comes_through_the_importer(settings: object) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # type: ignore[attr-defined]
    demo_load()
    plan = Plan.objects.get(title="青山市重点民生实事督办台账")
    assert plan.source_name == "dev11-minsheng-taizhang.xlsx" and len(plan.source_sha256) == 64
    assert AuditEvent.objects.filter(action="plan.import", object_id=str(plan.pk)).exists()
    tasks = list(plan.tasks.order_by("position"))
    assert len(tasks) == 15
    assert tasks[0].text.startswith("新建、改扩建公办幼儿园8所")  # the document's words, as printed
    assert sum(t.status == TaskStatus.DONE for t in tasks) == 2  # the demo's timing and status applied
