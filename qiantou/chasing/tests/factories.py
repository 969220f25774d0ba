"""A small city for chasing tests: a government with a lead bureau, two cooperating bureaus, a
supervision office, and one person per role (plain functions, no factory library)."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from typing import Any

from django.test import Client
from django.utils import timezone

from qiantou.accounts.models import Role, User
from qiantou.chasing.calendar import SHANGHAI
from qiantou.plans.models import Plan, PlanStatus, Task, TaskUnit, TaskUnitRole
from qiantou.units.models import Unit, UnitKind

_seq = itertools.count(1)


def at(text: str) -> dt.datetime:
    """An aware instant from "YYYY-MM-DD HH:MM[:SS]" read in Asia/Shanghai."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def make_user(username: str, role: str, unit: Unit | None, **fields: Any) -> User:
    user = User(
        username=username,
        role=role,
        unit=unit,
        display_name=username,
        email=fields.pop("email", f"{username}@example.gov.cn"),
        **fields,
    )
    user.set_unusable_password()  # tests log in with force_login; hashing ten passwords costs seconds
    user.save()
    return user


@dataclass
class City:
    gov: Unit
    lead: Unit
    coop_a: Unit
    coop_b: Unit
    office: Unit
    handler: User
    lead_head: User
    liaison_a: User
    head_a: User
    liaison_b: User
    head_b: User
    leader: User
    supervisor: User
    auditor: User
    admin: User


def make_city() -> City:
    n = next(_seq)
    gov = Unit.objects.create(code=f"G{n}", name="某市人民政府", kind=UnitKind.GOVERNMENT)
    lead = Unit.objects.create(code=f"L{n}", name="市发展和改革委员会", short_names=["市发改委"], parent=gov)
    coop_a = Unit.objects.create(code=f"A{n}", name="市财政局", parent=gov)
    coop_b = Unit.objects.create(
        code=f"B{n}", name="市住房和城乡建设局", short_names=["市住建局"], parent=gov
    )
    office = Unit.objects.create(code=f"O{n}", name="市政府督查室", parent=gov, kind=UnitKind.OFFICE)
    return City(
        gov=gov,
        lead=lead,
        coop_a=coop_a,
        coop_b=coop_b,
        office=office,
        handler=make_user(f"handler{n}", Role.HANDLER, lead),
        lead_head=make_user(f"leadhead{n}", Role.UNIT_HEAD, lead),
        liaison_a=make_user(f"liaisona{n}", Role.LIAISON, coop_a),
        head_a=make_user(f"heada{n}", Role.UNIT_HEAD, coop_a),
        liaison_b=make_user(f"liaisonb{n}", Role.LIAISON, coop_b),
        head_b=make_user(f"headb{n}", Role.UNIT_HEAD, coop_b),
        leader=make_user(f"leader{n}", Role.LEADER_IN_CHARGE, gov),
        supervisor=make_user(f"supervisor{n}", Role.SUPERVISION_OFFICE, office),
        auditor=make_user(f"auditor{n}", Role.AUDITOR, None),
        admin=make_user(f"sysadmin{n}", Role.SYSTEM_ADMIN, None),
    )


def make_plan(
    city: City, *, status: str = PlanStatus.ISSUED, title: str = "优化营商环境任务分工方案"
) -> Plan:
    return Plan.objects.create(
        title=title, lead_unit=city.lead, issuing_unit=city.gov, status=status, issued_on=timezone.localdate()
    )


def make_task(
    plan: Plan,
    no: str,
    deadline: dt.date | None,
    *,
    lead: list[Unit],
    cooperating: list[Unit] | None = None,
    **fields: Any,
) -> Task:
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
        for i, u in enumerate(lead)
    ]
    rows += [
        TaskUnit(task=task, unit=u, role=TaskUnitRole.COOPERATING, position=i, printed_name=u.name)
        for i, u in enumerate(cooperating or [])
    ]
    TaskUnit.objects.bulk_create(rows)
    return task


def ensure_calendar() -> None:
    """Load the official calendar when a flushing (transactional) test elsewhere emptied the table that
    the data migration filled."""
    from qiantou.chasing.models import HolidayYear
    from qiantou.chasing.services import calendar_load_year
    from qiantou.workdays import chinese_calendar_years

    if not HolidayYear.objects.exists():
        for year in chinese_calendar_years():
            calendar_load_year(actor=None, year=year)


def run_jobs(limit: int = 100000) -> int:
    """Run every ready django.tasks job in this process, as ``qiantou db_worker`` would; returns how many."""
    from qiantou.chasing.jobs import run_ready_jobs

    return run_ready_jobs(limit)


def client_for(user: Any) -> Client:
    """A test client logged in as ``user``."""
    c = Client()
    c.force_login(user)
    return c
