"""Model-level guards and audit-trail wiring for consultation.

A :class:`~qiantou.plans.models.PlanVersion` is frozen once written (issue 4: "versions are frozen once
circulated"): saving an existing version or deleting one raises ``StateError`` whatever the caller —
the service layer, the admin or a script.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet
from django.db.models.signals import pre_delete, pre_save
from django.utils.translation import gettext as _

from qiantou.errors import StateError


def _refuse_version_change(sender: Any, instance: Any, **kwargs: Any) -> None:
    if instance.pk is not None and not kwargs.get("raw") and sender.objects.filter(pk=instance.pk).exists():
        raise StateError(_("方案版本一经生成即冻结，不能修改；如需修改请生成新版本。"))


def _refuse_version_delete(sender: Any, instance: Any, **kwargs: Any) -> None:
    raise StateError(_("方案版本一经生成即冻结，不能删除。"))


def _plan_children(user: Any, plan_id: str, reader: bool) -> Iterable[tuple[str, QuerySet[Any]]]:
    from qiantou.approvals.models import ApprovalRequest
    from qiantou.consultation.models import Comment, ConsultationRound

    if not plan_id.isdigit():
        return []
    rounds = ConsultationRound.objects.filter(plan_id=int(plan_id))
    return [
        ("consultation.consultationround", rounds),
        ("consultation.comment", Comment.objects.filter(round__plan_id=int(plan_id))),
        ("approvals.approvalrequest", ApprovalRequest.objects.filter(plan_id=int(plan_id))),
    ]


def connect() -> None:
    """Connect the receivers (called once from ``ConsultationConfig.ready``)."""
    from qiantou.audit.selectors import register_children
    from qiantou.plans.models import PlanVersion

    pre_save.connect(_refuse_version_change, sender=PlanVersion, dispatch_uid="consultation.version_frozen")
    pre_delete.connect(
        _refuse_version_delete, sender=PlanVersion, dispatch_uid="consultation.version_nodelete"
    )
    register_children("plans.plan", _plan_children)
