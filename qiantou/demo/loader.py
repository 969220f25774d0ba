"""The demo city 青山市: its unit directory, three plans and one user per role. Idempotent.

The unit directory comes from ``data/units.csv`` (the fixture directory of the import test cases);
the plans from ``data/plans.json`` (derived from the labelled fixtures until the importer creates
them from the published documents). Deadlines in the JSON are days from the load date, so a demo
always shows overdue, due-soon and on-track tasks.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction

from qiantou.accounts.models import Role, User
from qiantou.audit.services import audit_record
from qiantou.consultation.demo import load_demo_round
from qiantou.plans.models import (
    DeadlineKind,
    Plan,
    PlanStatus,
    PlanVersion,
    Resolution,
    Task,
    TaskStatus,
    TaskUnitRole,
)
from qiantou.plans.selectors import today
from qiantou.plans.services import (
    NamedUnit,
    plan_create,
    plan_set_status,
    plan_update,
    plan_version_create,
    task_create,
    task_update,
)
from qiantou.units.models import Unit
from qiantou.units.resolver import resolve
from qiantou.units.services import unit_directory_import

DATA_DIR = Path(__file__).resolve().parent / "data"
UNITS_FILE = DATA_DIR / "units.csv"
PLANS_FILE = DATA_DIR / "plans.json"

#: Every demo user has this password; the printed table says so. Change it on a real system.
DEMO_PASSWORD = "qiantou-demo"

#: (username, display name, role, unit code, staff)
DEMO_USERS: list[tuple[str, str, str, str, bool]] = [
    ("mzj_handler", "张敏（经办人）", Role.HANDLER, "QS0206", False),
    ("sfj_liaison", "李强（联络员）", Role.LIAISON, "QS0207", False),
    ("czj_liaison", "王芳（联络员）", Role.LIAISON, "QS0208", False),
    ("mzj_unit_head", "赵刚（单位负责人）", Role.UNIT_HEAD, "QS0206", False),
    ("mzj_leader", "陈立（分管领导）", Role.LEADER_IN_CHARGE, "QS0206", False),
    ("mzj_principal", "周伟（主要负责人）", Role.PRINCIPAL, "QS0206", False),
    ("dcs_officer", "孙丽（督查室）", Role.SUPERVISION_OFFICE, "QS0102", False),
    ("sjj_auditor", "吴涛（审计）", Role.AUDITOR, "QS0222", False),
    # The two sides of the demo data check: civil affairs asks, justice answers (PRODUCT.md's story).
    ("mzj_data", "刘洋（数据核对专员）", Role.DATA_OFFICER, "QS0206", False),
    ("sfj_data", "黄静（数据核对专员）", Role.DATA_OFFICER, "QS0207", False),
    ("sysadmin", "系统管理员", Role.SYSTEM_ADMIN, "QS0101", True),
]
DEMO_USERNAMES = [row[0] for row in DEMO_USERS]


@dataclass
class DemoSummary:
    """What a load did: counts of units written, users and plans created, and the login table."""

    units: int = 0
    users_created: int = 0
    plans_created: int = 0
    logins: list[dict[str, str]] = field(default_factory=list)


# --- units --------------------------------------------------------------------------------------


def _load_units() -> int:
    """Create or update the directory from ``units.csv`` through the directory import; rows read."""
    report = unit_directory_import(actor=None, file_name=UNITS_FILE.name, data=UNITS_FILE.read_bytes())
    return report.rows


def _named(printed: str, role: str) -> NamedUnit:
    """A printed unit name resolved against the directory (unit, group, generic party or unknown)."""
    found = resolve(printed)
    unit = Unit.objects.get(pk=found.unit_id) if found.matched and found.unit_id else None
    if unit is not None:
        resolution = Resolution.GROUP if found.kind == "group" else Resolution.MATCHED
    elif found.kind == "generic" or role == TaskUnitRole.GENERIC:
        resolution = Resolution.GENERIC
    else:
        resolution = Resolution.UNKNOWN
    return NamedUnit(unit=unit, printed_name=printed, resolution=resolution, confidence=found.confidence)


# --- users --------------------------------------------------------------------------------------


def _ensure_users(summary: DemoSummary) -> None:
    """One user per role; an existing user keeps its password unless it is still the demo one."""
    units = {u.code: u for u in Unit.objects.filter(code__in=[row[3] for row in DEMO_USERS])}
    for username, display_name, role, unit_code, staff in DEMO_USERS:
        unit = units[unit_code]
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User.objects.create_user(
                username=username,
                password=DEMO_PASSWORD,
                display_name=display_name,
                role=role,
                unit=unit,
                is_staff=staff,
                is_superuser=False,  # 三员分立: the system administrator is no superuser
            )
            audit_record(
                actor=None,
                action="user.create",
                obj=user,
                payload={"username": username, "role": str(role), "unit": unit.code, "source": "demo"},
            )
            summary.users_created += 1
        summary.logins.append(
            {
                "username": username,
                "password": DEMO_PASSWORD,
                "role": str(Role(role).label),
                "unit": unit.name,
                "name": display_name,
            }
        )


# --- plans --------------------------------------------------------------------------------------


def _deadline(spec: dict[str, Any], day: dt.date) -> tuple[str, str, dt.date | None]:
    """(text as printed, kind, resolved date) for one task of the JSON fixture."""
    if "due_in_days" in spec:
        date = day + dt.timedelta(days=int(spec["due_in_days"]))
        return f"{date.year}年{date.month}月{date.day}日前", DeadlineKind.DATE, date
    text = spec.get("deadline_text") or ""
    if not text:
        return "", DeadlineKind.NONE, None
    return text, spec.get("deadline_kind") or DeadlineKind.OPEN_ENDED, None


def _import_plan(spec: dict[str, Any], actor: User | None, day: dt.date) -> Plan:
    """Import the published document ``spec["source_file"]`` with the importer (qiantou.plans.importing),
    then give it the demo's title, deadlines counted from ``day`` and done tasks (``spec["tasks"]``, by
    position; the document and the spec must list the same tasks)."""
    from qiantou.plans.importing import plan_import

    path = DATA_DIR / spec["source_file"]
    lead = _named(spec["lead_unit"], TaskUnitRole.LEAD).unit
    issuing = _named(spec["issuing_unit"], TaskUnitRole.LEAD).unit if spec.get("issuing_unit") else None
    plan = plan_import(actor=actor, data=path.read_bytes(), filename=path.name, lead_unit=lead, year=day.year)
    plan = plan_update(
        actor=actor, plan=plan, lock_version=plan.lock_version, title=spec["title"],
        doc_number=spec.get("doc_number", plan.doc_number), issuing_unit=issuing,
    )
    tasks = list(plan.tasks.order_by("position"))
    nos = [t.no for t in tasks]
    assert nos == [t.get("no") or "" for t in spec["tasks"]], (path.name, nos)
    for task, t in zip(tasks, spec["tasks"], strict=True):
        text, kind, date = _deadline(t, day)
        fields: dict[str, Any] = {"deadline_text": text, "deadline_kind": kind, "deadline": date}
        if t.get("status") == TaskStatus.DONE:
            fields["status"] = TaskStatus.DONE
        task_update(actor=actor, task=task, lock_version=task.lock_version, **fields)
    return plan


def _create_plan(spec: dict[str, Any], actor: User | None, day: dt.date) -> Plan:
    """Create one plan through the plan services: draft, tasks in printed order, then its status."""
    if spec.get("source_file"):
        return _set_status(spec, _import_plan(spec, actor, day), actor, day)
    lead = _named(spec["lead_unit"], TaskUnitRole.LEAD).unit
    issuing = _named(spec["issuing_unit"], TaskUnitRole.LEAD).unit if spec.get("issuing_unit") else None
    assert lead is not None, spec["lead_unit"]
    plan = plan_create(
        actor=actor,
        title=spec["title"],
        lead_unit=lead,
        issuing_unit=issuing,
        doc_number=spec.get("doc_number", ""),
        year=day.year,
        lead_rule=spec.get("lead_rule", ""),
        source_name=PLANS_FILE.name,
    )
    by_no: dict[str, Task] = {}
    for position, t in enumerate(spec["tasks"], start=1):
        text, kind, date = _deadline(t, day)
        task = task_create(
            actor=actor,
            plan=plan,
            no=t.get("no") or "",
            text=t["text"],
            position=position,
            parent=by_no.get(t["parent"]) if t.get("parent") else None,
            lead_units=[_named(n, TaskUnitRole.LEAD) for n in t["lead"]],
            cooperating_units=[_named(n, TaskUnitRole.COOPERATING) for n in t["cooperating"]],
            generic_units=[_named(n, TaskUnitRole.GENERIC) for n in t.get("generic", [])],
            deadline_text=text,
            deadline_kind=kind,
            deadline=date,
            warnings=t.get("warnings", []),
        )
        if t.get("no") and not t.get("parent"):
            by_no.setdefault(t["no"], task)
        if t.get("status") == TaskStatus.DONE:
            task_update(actor=actor, task=task, lock_version=task.lock_version, status=TaskStatus.DONE)
    return _set_status(spec, plan, actor, day)


def _set_status(spec: dict[str, Any], plan: Plan, actor: User | None, day: dt.date) -> Plan:
    """Take a freshly created draft to the spec's status (with the version a real plan would have)."""
    status = spec.get("status", PlanStatus.DRAFT)
    if status == PlanStatus.ISSUED:
        plan.refresh_from_db()
        issued_on = day + dt.timedelta(days=int(spec.get("issued_in_days", 0)))
        plan = plan_update(actor=actor, plan=plan, lock_version=plan.lock_version, issued_on=issued_on)
        plan_version_create(actor=actor, plan=plan, reason=PlanVersion.Reason.ISSUED)
    elif status == PlanStatus.CONSULTING:
        plan_version_create(actor=actor, plan=plan, reason=PlanVersion.Reason.CIRCULATED)
    if status != PlanStatus.DRAFT:
        plan = plan_set_status(actor=actor, plan=plan, status=status, note="demo")
    return plan


def _ensure_plans(summary: DemoSummary, day: dt.date) -> None:
    """Create each fixture plan unless a plan with that title and lead unit exists.

    The actor is the lead unit's demo handler where there is one, else the system.
    """
    specs = json.loads(PLANS_FILE.read_text(encoding="utf-8"))["plans"]
    for spec in specs:
        lead = _named(spec["lead_unit"], TaskUnitRole.LEAD).unit
        if Plan.objects.filter(title=spec["title"], lead_unit=lead).exists():
            continue
        handler = User.objects.filter(unit=lead, role=Role.HANDLER, username__in=DEMO_USERNAMES).first()
        _create_plan(spec, handler, day)
        summary.plans_created += 1


def demo_timeline_load(*, now: dt.datetime | None = None) -> Any:
    """Replay the demo city's recent chasing (lights, reminders, escalations) after :func:`demo_load`
    and its consultation round: ``qiantou.chasing.demo.load_demo_timeline``, which creates nothing
    the second time. Returns its summary, or None when the chasing app is absent."""
    try:
        from qiantou.chasing.demo import load_demo_timeline
    except ImportError:
        return None
    return load_demo_timeline(now=now)


def demo_load(*, day: dt.date | None = None) -> DemoSummary:
    """Load the demo city in one transaction; running it again changes nothing that is already there."""
    summary = DemoSummary()
    day = day or today()
    with transaction.atomic():
        summary.units = _load_units()
        _ensure_users(summary)
        _ensure_plans(summary, day)
        load_demo_round()  # a plan through consultation, sign-off and issue (qiantou.consultation.demo)
    return summary
