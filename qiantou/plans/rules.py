"""Who may see and edit plans and tasks (django-rules). Mirrors the querysets in ``selectors.py``.

Visibility (issue 2, item 4 — it follows from the user's unit and role, never from names in text):

- a plan is visible to members of its lead unit and of its issuing unit; once out of draft
  (consulting / approving / issued / closed) also to members of every unit on any of its tasks
  (``TaskUnit.unit``); the supervision office and auditors see every plan, read-only; the three
  administrator roles see none;
- a task is visible when its plan is; a ``restricted`` task only to the plan's lead unit, the units on
  that task, the supervision office and auditors;
- editing a plan or its tasks: a handler or unit head of the plan's lead unit, only while the plan
  is a draft. Auditors never write.

Permissions: ``plans.view_plan``, ``plans.add_plan`` (no object), ``plans.change_plan``,
``plans.view_task``, ``plans.add_task`` (object: the plan), ``plans.change_task``,
``plans.delete_task``. With no object, ``view_*`` means "may list" and ``change_*`` "may edit some".

Also ``audit.view_events`` (auditor, supervision office, security auditor read the whole record),
unless the audit app's own ``rules.py`` (loaded before this one) already defines it.
"""

from __future__ import annotations

from typing import Any

import rules

from qiantou.accounts.rules import (
    is_business_user,
    is_business_user_,
    is_editor_role,
    is_editor_role_,
    is_event_reader,
    is_overseer_,
)
from qiantou.plans.models import Plan, PlanStatus, Task, TaskUnit

#: Statuses in which the units named on the tasks see the plan (everything except the draft).
CIRCULATED_STATUSES = frozenset(
    {PlanStatus.CONSULTING, PlanStatus.APPROVING, PlanStatus.ISSUED, PlanStatus.CLOSED}
)


def plan_visible_(user: Any, plan: Plan) -> bool:
    """True when ``user`` may see ``plan`` (one query at most)."""
    if not is_business_user_(user):
        return False
    if is_overseer_(user):
        return True
    unit_id = getattr(user, "unit_id", None)
    if unit_id is None:
        return False
    if unit_id in (plan.lead_unit_id, plan.issuing_unit_id):
        return True
    if plan.status in CIRCULATED_STATUSES:
        return TaskUnit.objects.filter(plan_id=plan.pk, unit_id=unit_id).exists()
    return False


def task_visible_(user: Any, task: Task) -> bool:
    """True when ``user`` may see ``task`` (its plan is visible; restricted tasks narrower)."""
    plan = task.plan
    if not plan_visible_(user, plan):
        return False
    if not task.restricted or is_overseer_(user):
        return True
    unit_id = user.unit_id
    if unit_id == plan.lead_unit_id:
        return True
    return TaskUnit.objects.filter(task_id=task.pk, unit_id=unit_id).exists()


def plan_editor_(user: Any, plan: Plan) -> bool:
    """True when ``user`` is a handler or unit head of the plan's lead unit (whatever its status)."""
    return is_editor_role_(user) and user.unit_id == plan.lead_unit_id


def plan_is_draft_(plan: Plan) -> bool:
    """True while the plan may be edited (status ``draft``)."""
    return plan.status == PlanStatus.DRAFT


@rules.predicate
def can_view_plan(user: Any, plan: Plan | None) -> bool:
    """See the plan; with no plan, may list plans at all."""
    if plan is None:
        return is_business_user_(user)
    return plan_visible_(user, plan)


@rules.predicate
def is_plan_editor(user: Any, plan: Plan | None) -> bool:
    """Handler or unit head of the plan's lead unit."""
    if plan is None:
        return is_editor_role_(user)
    return plan_editor_(user, plan)


@rules.predicate
def is_draft_plan(user: Any, plan: Plan | None) -> bool:
    """The plan is still a draft."""
    return plan is None or plan_is_draft_(plan)


@rules.predicate
def can_view_task(user: Any, task: Task | None) -> bool:
    """See the task; with no task, may list tasks at all."""
    if task is None:
        return is_business_user_(user)
    return task_visible_(user, task)


@rules.predicate
def can_edit_task(user: Any, task: Task | None) -> bool:
    """Edit the task: an editor of its plan, while the plan is a draft."""
    if task is None:
        return is_editor_role_(user)
    return plan_editor_(user, task.plan) and plan_is_draft_(task.plan)


rules.add_perm("plans.view_plan", can_view_plan)
rules.add_perm("plans.add_plan", is_business_user & is_editor_role)
rules.add_perm("plans.change_plan", is_plan_editor & is_draft_plan)
rules.add_perm("plans.view_task", can_view_task)
rules.add_perm("plans.add_task", is_plan_editor & is_draft_plan)
rules.add_perm("plans.change_task", can_edit_task)
rules.add_perm("plans.delete_task", can_edit_task)

if not rules.perm_exists("audit.view_events"):
    rules.add_perm("audit.view_events", is_event_reader)
