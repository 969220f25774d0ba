"""Who may configure, act on and see sign-off (django-rules).

- Configure the chain, submit for sign-off, issue: a handler or unit head of the plan's lead unit.
- Approve or return: only the approver of the request's current step, while it is pending.
- See a request: whoever may see the plan, and every approver on it.

Permissions: ``approvals.act`` (object: an ApprovalRequest), ``approvals.manage`` (object: a Plan).
"""

from __future__ import annotations

from typing import Any

import rules

from qiantou.approvals.models import ApprovalRequest, Decision, RequestStatus
from qiantou.plans.models import Plan
from qiantou.plans.rules import plan_editor_


def current_approver_(user: Any, request: ApprovalRequest) -> bool:
    """True when ``user`` is the approver whose turn it is on a pending request."""
    if request.status != RequestStatus.PENDING or not getattr(user, "is_authenticated", False):
        return False
    return request.steps.filter(
        position=request.current_position, approver_id=user.pk, decision=Decision.PENDING
    ).exists()


@rules.predicate
def can_act(user: Any, request: ApprovalRequest | None) -> bool:
    """Approve or return the request now."""
    return request is not None and current_approver_(user, request)


@rules.predicate
def can_manage(user: Any, plan: Plan | None) -> bool:
    """Configure the chain, submit, issue."""
    return plan is not None and plan_editor_(user, plan)


rules.add_perm("approvals.act", can_act)
rules.add_perm("approvals.manage", can_manage)
