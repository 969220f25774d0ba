"""Which tasks of a frozen plan version (``PlanVersion.snapshot``) a user may see.

The plans app's rule for restricted tasks (``qiantou.plans.rules.task_visible_``) applied to the
tasks of a snapshot: a restricted task is seen only by members of the plan's lead unit, members of a
unit named on that task (lead, cooperating or other), the supervision office and auditors. A task
counts as restricted when it was restricted in the snapshot or is restricted now (making a task
restricted later hides its earlier versions too); a unit counts as named when the snapshot or the
task as it is now names it.

Everything that shows a snapshot's tasks to a user goes through :class:`TaskFilter`: the diff of two
versions, the circulated draft of a round, the comments on tasks and the disposition statement, the
version list, the official document. The caller has already checked that the user may see the plan
or the round; this only narrows the tasks.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from qiantou.accounts.rules import is_business_user_, is_overseer_
from qiantou.plans.models import Plan, Task, TaskUnit

#: The unit lists of a snapshot task (``plans.services.task_as_json``).
UNIT_KEYS = ("lead_units", "cooperating_units", "generic_units")


@dataclass
class TaskFilter:
    """The restricted-task rule for one user and one plan (``everything``: no task is hidden)."""

    everything: bool
    unit_id: int | None = None
    restricted_now: set[int] = field(default_factory=set)
    named_now: set[int] = field(default_factory=set)

    def visible(self, task: dict[str, Any]) -> bool:
        """True when the user may see the snapshot task ``task``."""
        if self.everything:
            return True
        task_id = task.get("id")
        if not task.get("restricted") and task_id not in self.restricted_now:
            return True
        if self.unit_id is None:
            return False
        if task_id is not None and task_id in self.named_now:
            return True
        return any(u.get("unit_id") == self.unit_id for key in UNIT_KEYS for u in task.get(key) or [])

    def tasks(self, snapshot: dict[str, Any]) -> list[dict[str, Any]]:
        """The snapshot's tasks the user may see, in printed order."""
        return [t for t in snapshot.get("tasks") or [] if self.visible(t)]

    def hidden_ids(self, *snapshots: dict[str, Any]) -> set[Any]:
        """Ids of the tasks hidden from the user in any of ``snapshots``."""
        return {
            t.get("id")
            for s in snapshots
            for t in s.get("tasks") or []
            if t.get("id") is not None and not self.visible(t)
        }

    def pair(self, older: dict[str, Any], newer: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """Both snapshots without any task hidden in either (what a diff of the two may show), so a
        task restricted in one version does not appear as added or removed in the other."""
        if self.everything:
            return older, newer
        hidden = self.hidden_ids(older, newer)

        def keep(s: dict[str, Any]) -> dict[str, Any]:
            tasks = [t for t in s.get("tasks") or [] if self.visible(t) and t.get("id") not in hidden]
            return {**s, "tasks": tasks}

        return keep(older), keep(newer)

    def task_id_visible(self, snapshot: dict[str, Any], task_id: Any) -> bool:
        """True when task ``task_id`` is in the snapshot and the user may see it there."""
        found = next((t for t in snapshot.get("tasks") or [] if t.get("id") == task_id), None)
        return found is not None and self.visible(found)

    def comments(self, snapshot: dict[str, Any], comments: Iterable[Any]) -> list[Any]:
        """``comments`` (with ``task_ref``) on the whole plan or on a task of ``snapshot`` the user sees."""
        if self.everything:
            return list(comments)
        return [c for c in comments if c.task_ref is None or self.task_id_visible(snapshot, c.task_ref)]


def sees_every_task_(user: Any, plan: Plan) -> bool:
    """True for the supervision office and auditors and for members of the plan's lead unit."""
    if not is_business_user_(user):
        return False
    if is_overseer_(user):
        return True
    unit_id = getattr(user, "unit_id", None)
    return unit_id is not None and unit_id == plan.lead_unit_id


def task_filter_for(user: Any, plan: Plan) -> TaskFilter:
    """The filter of ``plan``'s snapshot tasks for ``user`` (at most two small queries)."""
    if sees_every_task_(user, plan):
        return TaskFilter(everything=True)
    unit_id = getattr(user, "unit_id", None) if is_business_user_(user) else None
    restricted_now = set(Task.objects.filter(plan_id=plan.pk, restricted=True).values_list("pk", flat=True))
    named_now: set[int] = set()
    if unit_id is not None and restricted_now:
        named_now = set(
            TaskUnit.objects.filter(plan_id=plan.pk, unit_id=unit_id, task_id__in=restricted_now).values_list(
                "task_id", flat=True
            )
        )
    return TaskFilter(everything=False, unit_id=unit_id, restricted_now=restricted_now, named_now=named_now)
