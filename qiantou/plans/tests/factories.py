"""Small builders for plans, tasks, units and users in tests (plain functions, no factory library)."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from typing import Any

from qiantou.accounts.models import Role, User
from qiantou.plans.models import Plan, PlanStatus, Task, TaskUnit, TaskUnitRole
from qiantou.units.models import Unit

_seq = itertools.count(1)


def make_unit(name: str, code: str | None = None, **fields: Any) -> Unit:
    """A unit with a unique code."""
    return Unit.objects.create(code=code or f"U{next(_seq):05d}", name=name, **fields)


def make_user(
    username: str, *, role: str, unit: Unit | None = None, password: str | None = None, **fields: Any
) -> User:
    """An active user with this role and unit; no usable password unless given (hashing is slow)."""
    user = User(username=username, role=role, unit=unit, display_name=username, **fields)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    return user


def make_plan(
    lead_unit: Unit,
    *,
    status: str = PlanStatus.DRAFT,
    issuing_unit: Unit | None = None,
    title: str = "测试分工方案",
    **fields: Any,
) -> Plan:
    """A plan led by ``lead_unit``."""
    return Plan.objects.create(
        title=title, lead_unit=lead_unit, issuing_unit=issuing_unit, status=status, **fields
    )


def make_task(
    plan: Plan,
    *,
    no: str = "1",
    lead: list[Unit] | None = None,
    cooperating: list[Unit] | None = None,
    position: int | None = None,
    deadline: dt.date | None = None,
    **fields: Any,
) -> Task:
    """A task with lead and cooperating units in the given (printed) order."""
    if position is None:
        position = Task.objects.filter(plan=plan).count()
    task = Task.objects.create(
        plan=plan,
        no=no,
        path=no,
        position=position,
        text=fields.pop("text", f"任务{no}"),
        deadline=deadline,
        **fields,
    )
    rows = [
        TaskUnit(task=task, unit=u, role=TaskUnitRole.LEAD, position=i, printed_name=u.name)
        for i, u in enumerate(lead or [])
    ]
    rows += [
        TaskUnit(task=task, unit=u, role=TaskUnitRole.COOPERATING, position=i, printed_name=u.name)
        for i, u in enumerate(cooperating or [])
    ]
    TaskUnit.objects.bulk_create(rows)
    return task


@dataclass
class World:
    """A small city: a lead unit, a named cooperating unit, an unrelated unit, and one user per role."""

    lead: Unit
    named: Unit
    other: Unit
    issuing: Unit
    handler: User
    unit_head: User
    lead_liaison: User
    named_liaison: User
    other_liaison: User
    issuing_liaison: User
    supervision: User
    auditor: User
    sysadmin: User
    secadmin: User
    secauditor: User


def make_world() -> World:
    """Units and users covering every role the permission rules distinguish."""
    lead = make_unit("市民政局")
    named = make_unit("市司法局")
    other = make_unit("市农业农村局")
    issuing = make_unit("市人民政府办公室")
    office = make_unit("市委督查室")
    return World(
        lead=lead,
        named=named,
        other=other,
        issuing=issuing,
        handler=make_user("handler", role=Role.HANDLER, unit=lead),
        unit_head=make_user("unithead", role=Role.UNIT_HEAD, unit=lead),
        lead_liaison=make_user("leadliaison", role=Role.LIAISON, unit=lead),
        named_liaison=make_user("namedliaison", role=Role.LIAISON, unit=named),
        other_liaison=make_user("otherliaison", role=Role.LIAISON, unit=other),
        issuing_liaison=make_user("issuingliaison", role=Role.LIAISON, unit=issuing),
        supervision=make_user("supervision", role=Role.SUPERVISION_OFFICE, unit=office),
        auditor=make_user("auditor", role=Role.AUDITOR, unit=None),
        sysadmin=make_user("sysadmin", role=Role.SYSTEM_ADMIN, unit=None),
        secadmin=make_user("secadmin", role=Role.SECURITY_ADMIN, unit=None),
        secauditor=make_user("secauditor", role=Role.SECURITY_AUDITOR, unit=None),
    )
