"""A small world for consultation and sign-off tests: a lead unit with its handlers and leaders, three
units named in the plan (each with a liaison), one unit that is not, and a three-task draft plan."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from django.test import Client

from qiantou.accounts.models import Role, User
from qiantou.plans import services as plan_services
from qiantou.plans.models import Plan, Task
from qiantou.units.models import Unit, UnitKind


@dataclass
class World:
    gov: Unit
    lead: Unit
    a: Unit
    b: Unit
    c: Unit
    outsider: Unit
    handler: User
    handler2: User
    leader: User
    principal: User
    liaison_a: User
    liaison_b: User
    liaison_c: User
    liaison_out: User
    auditor: User
    plan: Plan
    tasks: list[Task]


def _user(username: str, role: str, unit: Unit) -> User:
    return User.objects.create_user(
        username=username, password="x" * 12, role=role, unit=unit, display_name=username
    )


def make_world() -> World:
    """Create the world (units, users, a draft plan with tasks 1–3 naming units a, b, c)."""
    gov = Unit.objects.create(code="G", name="青山市人民政府", kind=UnitKind.GOVERNMENT)
    lead = Unit.objects.create(code="L", name="青山市民政局", parent=gov)
    a = Unit.objects.create(code="A", name="青山市司法局", parent=gov)
    b = Unit.objects.create(code="B", name="青山市财政局", parent=gov)
    c = Unit.objects.create(code="C", name="青山市人力资源和社会保障局", parent=gov)
    outsider = Unit.objects.create(code="D", name="青山市交通运输局", parent=gov)
    plan = plan_services.plan_create(actor=None, title="低收入人口常态化帮扶工作任务分工", lead_unit=lead)
    t1 = plan_services.task_create(
        actor=None,
        plan=plan,
        no="1",
        text="建立低收入人口动态监测机制",
        lead_units=[lead],
        cooperating_units=[b],
        deadline_text="2026年6月底前",
        deadline=dt.date(2026, 6, 30),
    )
    t2 = plan_services.task_create(
        actor=None,
        plan=plan,
        no="2",
        text="做好刑满释放人员救助衔接",
        lead_units=[a],
        cooperating_units=[lead],
        deadline_text="2026年9月底前",
        deadline=dt.date(2026, 9, 30),
    )
    t3 = plan_services.task_create(
        actor=None,
        plan=plan,
        no="3",
        text="落实就业帮扶政策",
        lead_units=[c],
        cooperating_units=[b],
        deadline_text="长期坚持",
    )
    return World(
        gov=gov,
        lead=lead,
        a=a,
        b=b,
        c=c,
        outsider=outsider,
        handler=_user("handler", Role.HANDLER, lead),
        handler2=_user("handler2", Role.HANDLER, lead),
        leader=_user("leader", Role.LEADER_IN_CHARGE, lead),
        principal=_user("principal", Role.PRINCIPAL, lead),
        liaison_a=_user("liaison_a", Role.LIAISON, a),
        liaison_b=_user("liaison_b", Role.LIAISON, b),
        liaison_c=_user("liaison_c", Role.LIAISON, c),
        liaison_out=_user("liaison_out", Role.LIAISON, outsider),
        auditor=_user("auditor", Role.AUDITOR, gov),
        plan=plan,
        tasks=[t1, t2, t3],
    )


def client_for(user: Any) -> Client:
    """A test client logged in as ``user`` (the web pages and the session-authenticated API)."""
    c = Client()
    c.force_login(user)
    return c


def post_json(client: Client, url: str, data: dict[str, Any]) -> Any:
    """POST ``data`` as a JSON body."""
    return client.post(url, json.dumps(data), content_type="application/json")
