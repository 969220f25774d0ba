"""Balancing a draft plan's cooperating units: build the proposal (reads only) and accept it, per task
or whole (the only write, through ``qiantou.plans.services.task_update`` with an audit event).

Nothing changes until the handler accepts: :func:`plan_balance_proposal` computes and returns a
:class:`Proposal`; :func:`balance_accept` writes the accepted tasks only. Each accepted row carries
the ``lock_version`` the proposal was computed from, so a task someone changed meanwhile fails with
``ConflictError`` and nothing is written (one transaction).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from qiantou.allocation.balancing import DEFAULT_FIT_THRESHOLD, BalanceResult, BalanceTask, BalanceUnit, solve
from qiantou.allocation.selectors import load_weights, unit_loads
from qiantou.allocation.suggestion import get_suggester
from qiantou.audit.services import audit_record
from qiantou.plans.models import Plan, PlanStatus, Task, TaskStatus, TaskUnitRole
from qiantou.plans.rules import plan_editor_
from qiantou.plans.selectors import task_list_for, task_units_by_role, with_units
from qiantou.plans.services import NamedUnit, task_update
from qiantou.units.models import Unit, UnitKind


@dataclass
class ProposalRow:
    """One task of the proposal: the printed cooperating units and the proposed ones (unit ids)."""

    task: Task
    lead_ids: list[int]
    before: list[int]
    after: list[int]
    fixed: bool

    @property
    def changed(self) -> bool:
        """True when the proposal differs from what is printed (order ignored)."""
        return not self.fixed and set(self.before) != set(self.after)


@dataclass
class Proposal:
    """A balancing proposal for one plan: rows per task, the solver's result, unit names, loads."""

    plan: Plan
    result: BalanceResult
    rows: list[ProposalRow] = field(default_factory=list)
    names: dict[int, str] = field(default_factory=dict)
    loads_before: dict[int, float] = field(default_factory=dict)
    loads_after: dict[int, float] = field(default_factory=dict)

    @property
    def changed_rows(self) -> list[ProposalRow]:
        """The rows the handler would accept or not."""
        return [r for r in self.rows if r.changed]


def plan_balance_proposal(
    *,
    user: Any,
    plan: Plan,
    fit_threshold: float = DEFAULT_FIT_THRESHOLD,
    caps: Mapping[int, float] | None = None,
    unavailable: Iterable[int] = (),
    allowed: Mapping[int, Iterable[int]] | None = None,
    fixed_tasks: Iterable[int] = (),
    min_cooperating: int = 1,
    time_limit: float = 5.0,
) -> Proposal:
    """Propose cooperating units for the open tasks of a draft plan; changes nothing.

    ``caps``: unit id → highest total load; ``unavailable``: unit ids that get nothing more;
    ``allowed``: task id → unit ids allowed whatever their mandate fit; ``fixed_tasks``: task ids
    that keep their printed cooperating units. A task needs as many cooperating units as it prints,
    at least ``min_cooperating``. Loads are :func:`~qiantou.allocation.selectors.unit_loads` scores
    from the other plans plus this plan's lead tasks. Raises ``PermissionDenied`` unless the user
    may edit the plan.
    """
    if not plan_editor_(user, plan):
        raise PermissionDenied(_("只有牵头单位的经办人或单位负责人可以为该方案生成均衡方案。"))
    weights = load_weights()
    caps = dict(caps or {})
    unavailable_ids = set(unavailable)
    allowed_map = {k: set(v) for k, v in (allowed or {}).items()}
    fixed_ids = set(fixed_tasks)
    loads = {u.unit_id: u for u in unit_loads(user=user, exclude_plan=plan)}
    base = {uid: load.score for uid, load in loads.items()}
    suggester = get_suggester()
    code_to_id = dict(Unit.objects.values_list("code", "id"))
    group_ids = set(Unit.objects.filter(kind=UnitKind.GROUP).values_list("id", flat=True))
    tasks = list(with_units(task_list_for(user, plan=plan, status=TaskStatus.OPEN)))
    rows: list[ProposalRow] = []
    balance_tasks: list[BalanceTask] = []
    for task in tasks:
        by_role = task_units_by_role(task)
        lead_ids = [tu.unit_id for tu in by_role[TaskUnitRole.LEAD] if tu.unit_id]
        for uid in lead_ids:
            base[uid] = base.get(uid, 0.0) + weights["lead"] * float(task.weight)
        current = [
            tu.unit_id
            for tu in by_role[TaskUnitRole.COOPERATING]
            if tu.unit_id and tu.unit_id not in group_ids
        ]
        fit = {
            code_to_id[code]: score
            for code, score in suggester.fit_scores(task.text, exclude_plan=plan.pk).items()
            if code in code_to_id
        }
        fixed = task.pk in fixed_ids
        rows.append(
            ProposalRow(task=task, lead_ids=lead_ids, before=current, after=list(current), fixed=fixed)
        )
        balance_tasks.append(
            BalanceTask(
                key=task.pk,
                label=f"{task.no} {task.text[:20]}".strip(),
                lead=lead_ids[0] if lead_ids else None,
                weight=weights["cooperating"] * float(task.weight),
                need=len(current) if fixed else max(len(current), min_cooperating),
                fit=fit,
                allowed=frozenset(allowed_map.get(task.pk, ())),
                current=tuple(current),
                fixed=fixed,
            )
        )
    # Leads of several-lead tasks must not cooperate on them either.
    lead_sets = {r.task.pk: set(r.lead_ids) for r in rows}
    balance_tasks = [
        replace(
            bt,
            fit={k: v for k, v in bt.fit.items() if k not in lead_sets[bt.key]},
            current=tuple(k for k in bt.current if k not in lead_sets[bt.key]),
        )
        for bt in balance_tasks
    ]
    unit_rows = Unit.objects.filter(active=True).exclude(kind=UnitKind.GROUP).values_list("id", "name")
    names = dict(unit_rows)
    balance_units = [
        BalanceUnit(
            key=uid,
            name=name,
            base_load=round(base.get(uid, 0.0), 2),
            cap=caps.get(uid),
            available=uid not in unavailable_ids,
        )
        for uid, name in unit_rows
    ]
    result = solve(balance_tasks, balance_units, fit_threshold=fit_threshold, time_limit=time_limit)
    for row in rows:
        if row.task.pk in result.assignment:
            row.after = list(result.assignment[row.task.pk])  # type: ignore[arg-type]
    after = dict(base)
    for row in rows:
        w = weights["cooperating"] * float(row.task.weight)
        for uid in row.after:
            after[uid] = after.get(uid, 0.0) + w
    before = dict(base)
    for row in rows:
        w = weights["cooperating"] * float(row.task.weight)
        for uid in row.before:
            before[uid] = before.get(uid, 0.0) + w
    return Proposal(plan=plan, result=result, rows=rows, names=names, loads_before=before, loads_after=after)


@dataclass(frozen=True)
class AcceptedChange:
    """One accepted row: the task, the lock version the proposal read, the cooperating unit ids."""

    task_id: int
    lock_version: int
    cooperating_unit_ids: tuple[int, ...]


def balance_accept(*, actor: Any, plan: Plan, changes: Sequence[AcceptedChange]) -> list[Task]:
    """Apply the accepted rows of a balancing proposal, all or nothing; returns the updated tasks.

    Each row replaces the task's matched cooperating units (unresolved printed names and collective
    parties stay as printed) through ``task_update`` (its own audit event), and one
    ``allocation.balance_accept`` event records the acceptance. Raises ``PermissionDenied``,
    ``StateError`` (plan no longer a draft), ``ConflictError`` (a task changed since the proposal),
    ``ValidationError`` (a task not in this plan, a lead proposed as cooperating unit).
    """
    if not changes:
        raise ValidationError(_("没有选中要采纳的调整。"))
    if actor is not None and not plan_editor_(actor, plan):
        raise PermissionDenied(_("只有牵头单位的经办人或单位负责人可以采纳均衡方案。"))
    if plan.status != PlanStatus.DRAFT:
        from qiantou.errors import StateError

        raise StateError(_("方案已不是草稿，不能再调整配合单位。"))
    updated: list[Task] = []
    with transaction.atomic():
        tasks = {
            t.pk: t for t in with_units(Task.objects.filter(plan=plan, pk__in=[c.task_id for c in changes]))
        }
        units = {
            u.pk: u for u in Unit.objects.filter(pk__in={i for c in changes for i in c.cooperating_unit_ids})
        }
        payload = []
        for change in changes:
            task = tasks.get(change.task_id)
            if task is None:
                raise ValidationError(_("任务 %(id)s 不属于该方案。") % {"id": change.task_id})
            by_role = task_units_by_role(task)
            leads = {tu.unit_id for tu in by_role[TaskUnitRole.LEAD]}
            if leads & set(change.cooperating_unit_ids):
                raise ValidationError(_("牵头单位不能同时作为该任务的配合单位。"))
            missing = [i for i in change.cooperating_unit_ids if i not in units]
            if missing:
                raise ValidationError(_("单位 %(id)s 不存在。") % {"id": missing[0]})
            kept = [
                NamedUnit(
                    unit=tu.unit,
                    printed_name=tu.printed_name,
                    resolution=tu.resolution,
                    confidence=tu.confidence,
                )
                for tu in by_role[TaskUnitRole.COOPERATING]
                if tu.unit is None or tu.unit.kind == UnitKind.GROUP
            ]
            before = [tu.unit_id for tu in by_role[TaskUnitRole.COOPERATING]]
            new_units = [
                NamedUnit(unit=units[i], printed_name=units[i].name) for i in change.cooperating_unit_ids
            ]
            updated.append(
                task_update(
                    actor=actor,
                    task=task,
                    lock_version=change.lock_version,
                    cooperating_units=[*new_units, *kept],
                )
            )
            payload.append({"task": task.pk, "before": before, "after": list(change.cooperating_unit_ids)})
        audit_record(actor=actor, action="allocation.balance_accept", obj=plan, payload={"tasks": payload})
    return updated
