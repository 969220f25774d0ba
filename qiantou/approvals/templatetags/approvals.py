"""Template helpers of sign-off: ``{% load approvals %}{{ plan|plan_status }}`` shows a plan's status
with "已签批待印发" between the last signature and the issue (one query per plan: for single-plan pages)."""

from __future__ import annotations

from django import template

from qiantou.approvals.selectors import plan_status_label
from qiantou.plans.models import Plan

register = template.Library()


@register.filter
def plan_status(plan: Plan) -> str:
    """The plan's status as shown (see ``qiantou.approvals.selectors.plan_status_label``)."""
    return plan_status_label(plan)
