"""Reads of plans and tasks, scoped to what the user may see (the querysets mirror ``rules.py``).

Every function takes the user first and returns only rows that user may see; a missing row and an
invisible row look the same (``Http404``), so existence is never revealed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import BooleanField, Count, Exists, F, Func, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from qiantou.accounts.rules import is_business_user_, is_overseer_
from qiantou.plans.models import Plan, PlanStatus, Task, TaskStatus, TaskUnit, TaskUnitRole
from qiantou.plans.rules import CIRCULATED_STATUSES

SHANGHAI = ZoneInfo("Asia/Shanghai")

#: Plans whose tasks bind the named units, so that a passed deadline makes a task overdue. A draft, or a
#: plan still in consultation or approval, binds nobody yet (its deadlines are proposals and an imported
#: draft often carries last year's dates); a closed plan's work is over.
BINDING_PLAN_STATUSES = frozenset({PlanStatus.ISSUED})


def plan_binds(plan_status: str) -> bool:
    """True when tasks of a plan in ``plan_status`` bind their units (overdue and lights apply)."""
    return plan_status in BINDING_PLAN_STATUSES


def overdue_q(day: dt.date, prefix: str = "") -> Q:
    """The condition "open, deadline before ``day``, plan issued" on Task (``prefix`` e.g. "task__")."""
    return Q(
        **{
            f"{prefix}status": TaskStatus.OPEN,
            f"{prefix}deadline__lt": day,
            f"{prefix}plan__status__in": list(BINDING_PLAN_STATUSES),
        }
    )


def is_overdue(status: str, deadline: dt.date | None, plan_status: str, day: dt.date) -> bool:
    """The row form of :func:`overdue_q`: an open task of an issued plan whose deadline has passed."""
    return status == TaskStatus.OPEN and deadline is not None and deadline < day and plan_binds(plan_status)


def today() -> dt.date:
    """Today's calendar date in Asia/Shanghai (deadlines are dates on the official calendar)."""
    return timezone.now().astimezone(SHANGHAI).date()


def past_deadlines(plan: Any, day: dt.date | None = None) -> list[Any]:
    """Open tasks of a plan not yet binding whose deadline is before ``day`` (default today), earliest
    first: once issued, each is overdue at once and the reminder ladder fires all its rungs together
    (a published plan imported late, or a date mistyped). Issued and closed plans give ``[]``.

    Returns ``Task`` rows (``no``, ``text``, ``deadline``).
    """
    from qiantou.plans.models import PlanStatus, Task

    if plan.status in BINDING_PLAN_STATUSES or plan.status == PlanStatus.CLOSED:
        return []
    return list(
        Task.objects.filter(
            plan=plan, status=TaskStatus.OPEN, deadline__isnull=False, deadline__lt=day or today()
        ).order_by("deadline", "position", "pk")
    )


def _visible_plan_q(user: Any) -> Q | None:
    """A ``Q`` on Plan for what ``user`` sees; None means everything, ``Q(pk__in=[])`` nothing."""
    if not is_business_user_(user):
        return Q(pk__in=[])
    if is_overseer_(user):
        return None
    unit_id = user.unit_id
    if unit_id is None:
        return Q(pk__in=[])
    # An uncorrelated IN-subquery over one range of the TaskUnit(unit, plan) index, computed once.
    named_on_a_task = TaskUnit.objects.filter(unit_id=unit_id).values("plan_id")
    return (
        Q(lead_unit_id=unit_id)
        | Q(issuing_unit_id=unit_id)
        | (Q(status__in=list(CIRCULATED_STATUSES)) & Q(pk__in=named_on_a_task))
    )


def plan_list_for(user: Any) -> QuerySet[Plan]:
    """Plans ``user`` may see, newest first, with lead and issuing units joined."""
    qs = Plan.objects.select_related("lead_unit", "issuing_unit")
    q = _visible_plan_q(user)
    return qs if q is None else qs.filter(q)


def plan_get_for(user: Any, pk: Any) -> Plan:
    """The plan ``pk`` if ``user`` may see it; ``Http404`` when missing or not visible."""
    try:
        return plan_list_for(user).get(pk=pk)
    except (Plan.DoesNotExist, ValueError, TypeError):
        raise Http404(_("未找到该方案，或您无权查看。")) from None


class _Likely(Func):
    """A condition that holds for most rows. SQLite reads it as a hint (``likely()``, see
    https://sqlite.org/lang_corefunc.html#likely) and does not drive the query from its index; other
    databases get the bare condition."""

    function = "likely"
    output_field = BooleanField()
    conditional = True

    def as_sql(self, compiler: Any, connection: Any, *args: Any, **extra: Any) -> Any:
        if connection.vendor == "sqlite":
            return super().as_sql(compiler, connection, *args, **extra)
        return compiler.compile(self.source_expressions[0])


def _visible_task_q(user: Any, plan_id: int | None = None) -> Q | None:
    """A ``Q`` on Task for what ``user`` sees (of plan ``plan_id`` only, when given); None: no limit.

    For a unit member this runs one small query now (the visible plans and which of them the unit
    leads) and returns literal id lists, so the count and the page of a list do not each recompute
    them (the task list must answer in milliseconds over 100,000 tasks); for one plan the lists
    reduce to a test made here. A restricted task of a plan the unit does not lead is probed for
    the unit by an ``EXISTS`` that only restricted rows reach.
    """
    if not is_business_user_(user):
        return Q(pk__in=[])
    if is_overseer_(user):
        return None
    unit_id = user.unit_id
    if unit_id is None:
        return Q(pk__in=[])
    plans = plan_list_for(user).order_by().values_list("pk", "lead_unit_id")
    if plan_id is not None:
        plans = plans.filter(pk=plan_id)
    visible = {pk: lead == unit_id for pk, lead in plans}
    restricted_ok = Q(restricted=False) | Q(
        Exists(TaskUnit.objects.filter(task_id=OuterRef("pk"), unit_id=unit_id))
    )
    if plan_id is not None:
        if plan_id not in visible:
            return Q(pk__in=[])
        return None if visible[plan_id] else restricted_ok
    led = [pk for pk, leads in visible.items() if leads]
    return Q(plan_id__in=list(visible)) & (Q(plan_id__in=led) | restricted_ok)


def has_cased_letter(text: str) -> bool:
    """True when ``text`` has a letter with upper and lower case (Latin, Cyrillic…; not Han).

    A search without one matches the same rows with or without case folding, and the plain
    ``LIKE`` is cheaper: PostgreSQL's ``icontains`` upper-cases every row's text first (41 ms
    against 23 ms over 100,000 tasks).
    """
    return text.lower() != text.upper()


def task_list_for(
    user: Any,
    *,
    plan: Plan | int | None = None,
    unit: Any = None,
    status: str | None = None,
    overdue: bool | None = None,
    q: str | None = None,
) -> QuerySet[Task]:
    """Tasks ``user`` may see, in plan then printed order, filtered.

    ``plan``: a Plan or its id; ``unit``: a Unit or its id — tasks naming that unit (lead or
    cooperating); ``status``: a ``TaskStatus`` value; ``overdue``: True for open tasks of issued plans
    whose deadline is before today (Asia/Shanghai), False for the others (a draft's tasks are never
    overdue); ``q``: a substring of the number or text.
    """
    qs = Task.objects.all()
    plan_ref: Any = None if plan is None else getattr(plan, "pk", plan)
    plan_id: int | None = None
    if plan_ref is not None:
        try:
            plan_id = int(plan_ref)
        except (TypeError, ValueError):
            return qs.none()
        qs = qs.filter(plan_id=plan_id)
    visible = _visible_task_q(user, plan_id)
    if visible is not None:
        qs = qs.filter(visible)
    if unit is not None:
        unit_id = getattr(unit, "pk", unit)
        qs = qs.filter(pk__in=TaskUnit.objects.filter(unit_id=unit_id).values("task_id"))
    if status:
        # With a text search every row is read anyway: a status index would only add random lookups
        # (a city's 70,000 open tasks: 77 ms on SQLite instead of a 20 ms scan).
        qs = qs.filter(_Likely(Q(status=status)) if q and q.strip() else Q(status=status))
    if overdue is not None:
        late = overdue_q(today())
        qs = qs.filter(late) if overdue else qs.exclude(late)
    if q:
        q = q.strip()
        if q:
            qs = qs.filter(
                Q(text__icontains=q) | Q(no__icontains=q)
                if has_cased_letter(q)
                else Q(text__contains=q) | Q(no__contains=q)
            )
    return qs.order_by("plan_id", "position", "id")


def task_get_for(user: Any, pk: Any) -> Task:
    """The task ``pk`` (with its plan) if ``user`` may see it; ``Http404`` when missing or not visible."""
    try:
        return task_list_for(user).select_related("plan", "plan__lead_unit").get(pk=pk)
    except (Task.DoesNotExist, ValueError, TypeError):
        raise Http404(_("未找到该任务，或您无权查看。")) from None


def with_units(qs: QuerySet[Task]) -> QuerySet[Task]:
    """Prefetch each task's named units (``task_units``, printed order, with the unit)."""
    return qs.prefetch_related(
        Prefetch(
            "task_units",
            queryset=TaskUnit.objects.select_related("unit").order_by("role", "position", "id"),
        )
    )


#: The Task columns of a ``TaskOut`` row.
TASK_ROW_FIELDS = (
    "id",
    "plan_id",
    "parent_id",
    "no",
    "path",
    "position",
    "text",
    "deadline_text",
    "deadline_kind",
    "deadline",
    "deadline_end",
    "deliverables",
    "acceptance_standard",
    "weight",
    "status",
    "restricted",
    "warnings",
    "lock_version",
)


def task_rows(tasks: QuerySet[Task]) -> list[dict[str, Any]]:
    """Plain dicts (the ``TaskOut`` shape) for ``tasks`` in their order, in two queries.

    Each row has the task columns plus ``lead_units``, ``cooperating_units``, ``generic_units``
    (``[{"unit_id", "name", "printed_name", "resolution"}]`` in printed order) and ``overdue``.
    No model instances are built, so a page of 50 costs little beyond the queries.
    """
    rows = list(tasks.values(*TASK_ROW_FIELDS, row_plan_status=F("plan__status")))
    if not rows:
        return rows
    by_id: dict[int, dict[str, Any]] = {}
    day = today()
    for row in rows:
        row["weight"] = float(row["weight"])
        row["overdue"] = is_overdue(row["status"], row["deadline"], row.pop("row_plan_status"), day)
        row["lead_units"], row["cooperating_units"], row["generic_units"] = [], [], []
        by_id[row["id"]] = row
    named = (
        TaskUnit.objects.filter(task_id__in=list(by_id))
        .order_by("task_id", "position", "id")
        .values_list("task_id", "role", "unit_id", "unit__name", "printed_name", "resolution")
    )
    for task_id, role, unit_id, unit_name, printed_name, resolution in named:
        add_named_unit(by_id[task_id], role, unit_id, unit_name, printed_name, resolution)
    return rows


_ROLE_KEYS: dict[str, str] = {
    TaskUnitRole.LEAD: "lead_units",
    TaskUnitRole.COOPERATING: "cooperating_units",
    TaskUnitRole.GENERIC: "generic_units",
}


def add_named_unit(
    row: dict[str, Any],
    role: str,
    unit_id: int | None,
    unit_name: str | None,
    printed_name: str,
    resolution: str,
) -> None:
    """Append a named unit to a ``TaskOut`` row's list for its role, in the shape the API returns."""
    row[_ROLE_KEYS.get(role, "generic_units")].append(
        {
            "unit_id": unit_id,
            "name": unit_name or printed_name,
            "printed_name": printed_name,
            "resolution": resolution,
        }
    )


def task_units_by_role(task: Task) -> dict[str, list[TaskUnit]]:
    """``{"lead": [...], "cooperating": [...], "generic": [...]}`` in printed order (uses the prefetch)."""
    out: dict[str, list[TaskUnit]] = {r: [] for r in TaskUnitRole.values}
    for tu in sorted(task.task_units.all(), key=lambda t: (t.position, t.pk)):
        out.setdefault(tu.role, []).append(tu)
    return out


def plan_task_tree(plan: Plan, user: Any) -> list[dict[str, Any]]:
    """The plan's visible tasks as a tree for the plan page, in printed order, in two queries.

    Each node: ``{"task": Task, "lead_units": [TaskUnit], "cooperating_units": [TaskUnit],
    "generic_units": [TaskUnit], "overdue": bool, "plan_status": str, "depth": int, "children": [node]}``.
    A task whose
    parent is hidden (restricted) is shown at the top level rather than dropped.
    """
    tasks = list(with_units(task_list_for(user, plan=plan)))
    day = today()
    nodes: dict[int, dict[str, Any]] = {}
    for task in tasks:
        units = task_units_by_role(task)
        nodes[task.pk] = {
            "task": task,
            "lead_units": units[TaskUnitRole.LEAD],
            "cooperating_units": units[TaskUnitRole.COOPERATING],
            "generic_units": units[TaskUnitRole.GENERIC],
            "overdue": is_overdue(task.status, task.deadline, plan.status, day),
            "plan_status": plan.status,
            "depth": 0,
            "children": [],
        }
    roots: list[dict[str, Any]] = []
    for task in tasks:
        node = nodes[task.pk]
        parent = nodes.get(task.parent_id) if task.parent_id else None
        (parent["children"] if parent else roots).append(node)

    def set_depth(items: list[dict[str, Any]], depth: int) -> None:
        for item in items:
            item["depth"] = depth
            set_depth(item["children"], depth + 1)

    set_depth(roots, 0)
    return roots


def flatten_tree(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The nodes of :func:`plan_task_tree` depth-first, in printed order (for a flat table)."""
    out: list[dict[str, Any]] = []
    for node in nodes:
        out.append(node)
        out.extend(flatten_tree(node["children"]))
    return out


def unit_task_counts_for(user: Any) -> dict[str, int]:
    """Counts for a home page: the user's unit's visible open and overdue tasks, as lead and as cooperating.

    Keys: ``lead_open``, ``lead_overdue``, ``cooperating_open``, ``cooperating_overdue``; all zero
    for users without a unit or without business visibility. Overdue counts only issued plans' tasks.
    """
    counts = {"lead_open": 0, "lead_overdue": 0, "cooperating_open": 0, "cooperating_overdue": 0}
    unit_id = getattr(user, "unit_id", None)
    if not is_business_user_(user) or unit_id is None:
        return counts
    day = today()
    base = task_list_for(user, status=TaskStatus.OPEN)
    for role, prefix in ((TaskUnitRole.LEAD, "lead"), (TaskUnitRole.COOPERATING, "cooperating")):
        named = TaskUnit.objects.filter(task_id=OuterRef("pk"), unit_id=unit_id, role=role)
        agg = base.filter(Exists(named)).aggregate(
            open=Count("pk"), overdue=Count("pk", filter=overdue_q(day))
        )
        counts[f"{prefix}_open"] = agg["open"] or 0
        counts[f"{prefix}_overdue"] = agg["overdue"] or 0
    return counts


def plan_status_counts_for(user: Any) -> dict[str, int]:
    """How many visible plans are in each status (``{"draft": n, ...}``, every status present)."""
    counts = dict.fromkeys(PlanStatus.values, 0)
    for row in plan_list_for(user).order_by().values("status").annotate(n=Count("pk")):
        counts[row["status"]] = row["n"]
    return counts
