"""Reads for chasing: permission-scoped querysets, the ladder of a plan, status lights, overdue boards."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.db.models import Q, QuerySet

from qiantou.accounts.models import ADMINISTRATOR_ROLES, Role, User
from qiantou.chasing.calendar import get_calendar
from qiantou.chasing.ladder import (
    DEFAULT_SEND_TIME,
    DEFAULT_WARNING_WORKING_DAYS,
    Rung,
    default_rungs,
    parse_rungs,
)
from qiantou.chasing.models import (
    Attachment,
    ChaseItem,
    ItemState,
    MaterialRequest,
    MaterialStatus,
    Petition,
    RecipientRole,
    ReminderLadder,
    ReportCycle,
    ReportRequest,
)
from qiantou.plans.models import Plan, Task, TaskStatus
from qiantou.plans.selectors import plan_binds
from qiantou.units.models import Unit
from qiantou.workdays import CalendarYearNotLoaded, WorkingCalendar

OVERSEER_ROLES = frozenset({Role.SUPERVISION_OFFICE, Role.AUDITOR})
LEADER_ROLES = frozenset({Role.LEADER_IN_CHARGE, Role.PRINCIPAL})


# --- Ladder -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LadderConfig:
    """A plan's effective ladder (its own, else the default)."""

    rungs: list[Rung]
    send_time: dt.time
    warning_working_days: int


def ladder_for(plan_id: int) -> LadderConfig:
    """The ladder in force for a plan."""
    row = ReminderLadder.objects.filter(plan_id=plan_id).first()
    if row is None:
        return LadderConfig(default_rungs(), DEFAULT_SEND_TIME, DEFAULT_WARNING_WORKING_DAYS)
    return LadderConfig(parse_rungs(row.rungs), row.send_time, row.warning_working_days)


# --- Status lights ----------------------------------------------------------------------------------------


class Light(StrEnum):
    """红黄绿灯: green on track (or done), yellow due within N working days, red overdue."""

    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"

    @property
    def label(self) -> str:
        return {"green": "绿灯", "yellow": "黄灯", "red": "红灯"}[self.value]


def _due_and_done(item: Any) -> tuple[dt.date | None, bool, int | None]:
    """(due date, done?, plan id) for a Task, ChaseItem, MaterialRequest or ReportRequest."""
    if isinstance(item, ChaseItem):
        return item.due_date, item.state != ItemState.OPEN, item.plan_id
    if isinstance(item, Task):
        # A task of a plan not yet issued binds nobody: no red or yellow light before the plan is issued.
        done = item.status != TaskStatus.OPEN or not plan_binds(item.plan.status)
        return item.deadline, done, item.plan_id
    if isinstance(item, MaterialRequest):
        done = item.status in (MaterialStatus.SUBMITTED, MaterialStatus.ACCEPTED, MaterialStatus.CANCELLED)
        return item.due_date, done, item.plan_id
    if isinstance(item, ReportRequest):
        return item.due_date, item.item.state != ItemState.OPEN, None
    raise TypeError(f"status_light: unsupported object {type(item).__name__}")


def status_light(
    item: Any,
    today: dt.date,
    *,
    warning_working_days: int | None = None,
    calendar: WorkingCalendar | None = None,
) -> Light:
    """The light of a task, chase item, material request or report request on ``today``.

    Done (or without a deadline, or a task of a plan not yet issued) → green; past due and not done →
    red; due within ``warning_working_days`` working days (the plan's ladder setting, default 3) → yellow.
    Raises :class:`~qiantou.workdays.CalendarYearNotLoaded` only when the answer depends on an
    unloaded year.
    """
    due, done, plan_id = _due_and_done(item)
    if done or due is None:
        return Light.GREEN
    if today > due:
        return Light.RED
    if warning_working_days is None:
        warning_working_days = (
            ladder_for(plan_id).warning_working_days if plan_id else DEFAULT_WARNING_WORKING_DAYS
        )
    # N working days never span more than N calendar weeks plus the longest holiday break.
    if (due - today).days > warning_working_days * 7 + 14:
        return Light.GREEN
    cal = calendar or get_calendar()
    return Light.YELLOW if cal.working_days_between(today, due) <= warning_working_days else Light.GREEN


def working_days_overdue(due: dt.date, today: dt.date, calendar: WorkingCalendar | None = None) -> int:
    """Working days past ``due`` on ``today`` (0 when not overdue)."""
    if today <= due:
        return 0
    return (calendar or get_calendar()).working_days_between(due, today)


# --- Visibility -----------------------------------------------------------------------------------------


def _descendant_ids(unit_id: int) -> set[int]:
    children: dict[int | None, list[int]] = {}
    for pk, parent in Unit.objects.values_list("id", "parent_id"):
        children.setdefault(parent, []).append(pk)
    out, stack = {unit_id}, [unit_id]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in out:
                out.add(child)
                stack.append(child)
    return out


def _active_business(user: Any) -> bool:
    return bool(
        getattr(user, "is_authenticated", False)
        and getattr(user, "is_active", False)
        and getattr(user, "role", None) not in ADMINISTRATOR_ROLES
    )


def items_visible_to(user: Any) -> QuerySet[ChaseItem]:
    """Chase items the user may see: their unit's, their unit's plans', and (leaders) their area's.

    The supervision office and auditors see all; administrators and users without a unit see none.
    """
    qs = ChaseItem.objects.select_related("unit", "plan", "task")
    if not _active_business(user):
        return qs.none()
    if user.role in OVERSEER_ROLES:
        return qs
    if user.unit_id is None:
        return qs.none()
    scope = Q(unit_id=user.unit_id) | Q(plan__lead_unit_id=user.unit_id)
    if user.role in LEADER_ROLES:
        scope |= Q(unit_id__in=_descendant_ids(user.unit_id))
    return qs.filter(scope)


def item_visible(user: Any, item: ChaseItem) -> bool:
    """True when the user may see this item."""
    return items_visible_to(user).filter(pk=item.pk).exists()


def material_requests_visible_to(user: Any) -> QuerySet[MaterialRequest]:
    """Material requests whose chase item the user may see."""
    return MaterialRequest.objects.filter(item__in=items_visible_to(user).values("pk")).select_related(
        "unit", "plan", "task", "item"
    )


def attachments_visible_to(user: Any) -> QuerySet[Attachment]:
    """Files handed in with a material submission or a progress report whose chase item the user may see
    (the lead unit, the submitting unit, the supervision office and auditors, leaders over the unit)."""
    visible = items_visible_to(user).values("pk")
    return Attachment.objects.filter(
        Q(submission__request__item__in=visible) | Q(report__request__item__in=visible)
    )


def report_cycles_visible_to(user: Any) -> QuerySet[ReportCycle]:
    """Report cycles of plans the user's unit leads (handlers and unit heads set them up there), and
    cycles with a request the user may see."""
    if not _active_business(user):
        return ReportCycle.objects.none()
    scope = Q(pk__in=ReportRequest.objects.filter(item__in=items_visible_to(user).values("pk")).values(
        "cycle_id"
    ))
    if user.unit_id is not None:
        scope |= Q(plan__lead_unit_id=user.unit_id)
    return ReportCycle.objects.filter(scope)


def petitions_visible_to(user: Any) -> QuerySet[Petition]:
    """Difficulty / extension requests whose item the user may see."""
    return Petition.objects.filter(item__in=items_visible_to(user).values("pk")).select_related(
        "unit", "item", "item__plan"
    )


def plans_led_by(user: Any) -> QuerySet[Plan]:
    """Plans the user's unit leads (where the user may chase others)."""
    if not _active_business(user) or user.unit_id is None:
        return Plan.objects.none()
    return Plan.objects.filter(lead_unit_id=user.unit_id)


# --- Overdue board ---------------------------------------------------------------------------------------


@dataclass
class OverdueRow:
    """One overdue item with its working days overdue and light."""

    item: ChaseItem
    days_overdue: int


def overdue_board(user: Any, today: dt.date) -> list[tuple[Unit, list[OverdueRow]]]:
    """Overdue open items the user may see, grouped by the unit that owes them (most overdue first)."""
    cal = get_calendar()
    rows = (
        items_visible_to(user)
        .filter(state=ItemState.OPEN, due_date__lt=today)
        .order_by("unit__code", "due_date")
    )
    groups: dict[int, tuple[Unit, list[OverdueRow]]] = {}
    for item in rows:
        try:
            days = cal.working_days_between(item.due_date, today)
        except CalendarYearNotLoaded:
            days = -1
        groups.setdefault(item.unit_id, (item.unit, []))[1].append(OverdueRow(item, days))
    board = list(groups.values())
    board.sort(key=lambda g: (-max(r.days_overdue for r in g[1]), g[0].code))
    return board


# --- Recipients ------------------------------------------------------------------------------------------


def _ancestors(unit: Unit | None) -> list[Unit]:
    chain: list[Unit] = []
    seen: set[int] = set()
    while unit is not None and unit.pk not in seen:
        chain.append(unit)
        seen.add(unit.pk)
        unit = unit.parent
    return chain


def _users(unit_ids: list[int], role: str) -> list[User]:
    return list(User.objects.filter(unit_id__in=unit_ids, role=role, is_active=True).order_by("id"))


def recipients_for(role: str, item: ChaseItem) -> list[User]:
    """The people a rung's ``role`` names for ``item``.

    - liaison: the owing unit's liaisons (its unit heads when it has none);
    - unit_head: the owing unit's heads;
    - leader_in_charge: leaders in charge in the owing unit, else in its nearest ancestor that has one;
    - supervision_office: the supervision office nearest above the plan's lead unit, else every one;
    - handler: the handlers of the plan's lead unit.
    """
    if role == RecipientRole.LIAISON:
        return _users([item.unit_id], Role.LIAISON) or _users([item.unit_id], Role.UNIT_HEAD)
    if role == RecipientRole.UNIT_HEAD:
        return _users([item.unit_id], Role.UNIT_HEAD)
    if role == RecipientRole.HANDLER:
        return _users([item.plan.lead_unit_id], Role.HANDLER)
    if role == RecipientRole.LEADER_IN_CHARGE:
        for unit in _ancestors(item.unit):
            found = _users([unit.pk], Role.LEADER_IN_CHARGE)
            if found:
                return found
        return []
    if role == RecipientRole.SUPERVISION_OFFICE:
        for unit in _ancestors(item.plan.lead_unit):
            found = _users([unit.pk], Role.SUPERVISION_OFFICE)
            if found:
                return found
        return list(User.objects.filter(role=Role.SUPERVISION_OFFICE, is_active=True).order_by("id"))
    return []
