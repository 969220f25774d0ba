"""Restricted tasks on a plan's audit trail: what of an event's payload one viewer may not see.

The rule is the plans app's (``qiantou.plans.rules.task_visible_``) as consultation applies it to frozen
versions (``qiantou.consultation.visibility.TaskFilter``): a restricted task is seen only by members of
the plan's lead unit, of a unit named on that task, the supervision office and auditors. Whole-record
readers (``audit.view_events``: auditor, supervision office, security auditor) and the lead unit see
every event in full; nothing here applies to them.

Events about a task *object* (``task.*``) are already left out by :func:`audit_events_for`'s children.
These events are about another object but name a task in their payload (``grep "audit_record(" qiantou``
for ``task_id``, ``tasks``, ``changes``, ``no``):

- ``consultation.comment`` (the comment; ``task_id``, ``task_no`` and the text ``body``) and
  ``consultation.dispose`` (the same comment; its disposition and reason): about that task only, so
  both are left out when the viewer may not see the task in the version the round circulated;
- ``consultation.revise`` (the new version; ``changes``: ``[{"kind", "no", "fields"}]``): the changes to
  tasks hidden from the viewer in either version are removed; the event is left out when every change
  was to such a task;
- ``allocation.balance_accept`` (the plan; ``tasks``: ``[{"task", "before", "after"}]``): the entries of
  hidden tasks are removed; left out when every entry was one.

Other events a plan's trail holds (plan, version, round, approval events) name no task beyond counts.
Stored events never change (they are hash-chained): redaction works on copies of the payloads, so an
event's shown payload no longer matches its ``hash`` — only whole-record readers verify hashes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet

from qiantou.audit.models import AuditEvent

COMMENT_ACTIONS = ("consultation.comment", "consultation.dispose")
REVISE_ACTION = "consultation.revise"
BALANCE_ACTION = "allocation.balance_accept"
#: Actions whose payload can name a task of the plan (see the module docstring).
TASK_NAMING_ACTIONS = (*COMMENT_ACTIONS, REVISE_ACTION, BALANCE_ACTION)


@dataclass
class Screen:
    """What one viewer may not see of a trail: ``left_out`` event seqs, and ``payloads`` to show instead
    of the stored ones (by seq)."""

    left_out: set[int] = field(default_factory=set)
    payloads: dict[int, dict[str, Any]] = field(default_factory=dict)


class _PlanTasks:
    """The plan's tasks as one viewer sees them, looked up at most once each per request."""

    def __init__(self, task_filter: Any, plan_id: int) -> None:
        self.filter = task_filter
        self.plan_id = plan_id
        self._versions: dict[int, tuple[int, dict[str, Any]]] | None = None
        self._existing: set[int] | None = None

    def versions(self) -> dict[int, tuple[int, dict[str, Any]]]:
        """``{version pk: (number, snapshot)}`` of every version of the plan (one query)."""
        if self._versions is None:
            from qiantou.plans.models import PlanVersion

            self._versions = {
                pk: (number, snapshot or {})
                for pk, number, snapshot in PlanVersion.objects.filter(plan_id=self.plan_id).values_list(
                    "pk", "number", "snapshot"
                )
            }
        return self._versions

    def snapshot(self, *, pk: Any = None, number: Any = None) -> dict[str, Any]:
        """The snapshot of the version with this pk or number; {} when there is none."""
        for vpk, (vnumber, snapshot) in self.versions().items():
            if (pk is not None and vpk == pk) or (number is not None and vnumber == number):
                return snapshot
        return {}

    def visible_in(self, snapshot: dict[str, Any], task_id: Any) -> bool:
        """True when task ``task_id`` is in ``snapshot`` and the viewer may see it there."""
        return bool(self.filter.task_id_visible(snapshot, task_id))

    def visible_now(self, task_id: Any) -> bool:
        """True when the viewer may see task ``task_id`` of the plan as it is now. A task deleted since
        counts as it stood in every version that held it, and as hidden when no version did."""
        if self._existing is None:
            from qiantou.plans.models import Task

            self._existing = set(Task.objects.filter(plan_id=self.plan_id).values_list("pk", flat=True))
        if task_id in self._existing:
            return bool(self.filter.visible({"id": task_id}))
        seen = [
            t for _n, snapshot in self.versions().values() for t in snapshot.get("tasks") or []
            if t.get("id") == task_id
        ]
        return bool(seen) and all(self.filter.visible(t) for t in seen)


def _comments(tasks: _PlanTasks, rows: list[tuple[int, str, str, str, Any]], screen: Screen) -> None:
    """Leave out the comment and disposition events of comments on tasks hidden from the viewer."""
    from qiantou.consultation.models import Comment

    ids = {int(oid) for _s, action, otype, oid, _p in rows if action in COMMENT_ACTIONS and oid.isdecimal()}
    known = {
        str(pk): (task_ref, version_id)
        for pk, task_ref, version_id in Comment.objects.filter(pk__in=ids).values_list(
            "pk", "task_ref", "round__version_id"
        )
    }
    for seq, action, _otype, oid, payload in rows:
        if action not in COMMENT_ACTIONS:
            continue
        if oid in known:
            task_ref, version_id = known[oid]
            shown = task_ref is None or tasks.visible_in(tasks.snapshot(pk=version_id), task_ref)
        else:  # the comment row is gone: its own event still names the task; a bare disposition does not
            task_id = payload.get("task_id") if isinstance(payload, dict) else None
            shown = action == "consultation.comment" and (task_id is None or tasks.visible_now(task_id))
        if not shown:
            screen.left_out.add(seq)


def _keep_entries(
    screen: Screen, seq: int, payload: Any, key: str, keep: Callable[[dict[str, Any]], bool]
) -> None:
    """Drop the entries of ``payload[key]`` that ``keep`` refuses; the event when none is left."""
    entries = payload.get(key) if isinstance(payload, dict) else None
    if not isinstance(entries, list):
        return
    kept = [e for e in entries if isinstance(e, dict) and keep(e)]
    if len(kept) == len(entries):
        return
    if entries and not kept:
        screen.left_out.add(seq)
    else:
        screen.payloads[seq] = {**payload, key: kept}


def _revision(tasks: _PlanTasks, seq: int, payload: Any, screen: Screen) -> None:
    """Remove the changes to tasks hidden from the viewer in either version of a revision."""
    if not isinstance(payload, dict):
        return
    older, newer = tasks.snapshot(number=payload.get("from")), tasks.snapshot(number=payload.get("to"))
    hidden = tasks.filter.hidden_ids(older, newer)
    hidden_numbers = {
        t.get("no") or "" for s in (older, newer) for t in s.get("tasks") or [] if t.get("id") in hidden
    }
    _keep_entries(screen, seq, payload, "changes", lambda c: (c.get("no") or "") not in hidden_numbers)


def plan_screen(user: Any, plan: Any, events: QuerySet[AuditEvent]) -> Screen | None:
    """What ``user`` may not see of ``events`` (a trail of ``plan``): None when they see everything.

    At most a fixed handful of queries, whatever the trail's length: the plan's restricted tasks and
    the user's named ones, the trail's task-naming events, their comments, the plan's versions and its
    task ids — the last three only when such events are there.
    """
    from qiantou.consultation.visibility import task_filter_for

    task_filter = task_filter_for(user, plan)
    if task_filter.everything:
        return None
    screen = Screen()
    rows = list(
        events.filter(action__in=TASK_NAMING_ACTIONS)
        .order_by()
        .values_list("seq", "action", "object_type", "object_id", "payload")
    )
    if not rows:
        return screen
    tasks = _PlanTasks(task_filter, plan.pk)
    if any(action in COMMENT_ACTIONS for _s, action, *_rest in rows):
        _comments(tasks, rows, screen)
    for seq, action, _otype, _oid, payload in rows:
        if action == REVISE_ACTION:
            _revision(tasks, seq, payload, screen)
        elif action == BALANCE_ACTION:
            _keep_entries(screen, seq, payload, "tasks", lambda e: tasks.visible_now(e.get("task")))
    return screen
