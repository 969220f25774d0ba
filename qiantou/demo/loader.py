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
from qiantou.plans.models import (
    DeadlineKind,
    Plan,
    PlanStatus,
    Resolution,
    Task,
    TaskStatus,
    TaskUnit,
    TaskUnitRole,
)
from qiantou.plans.selectors import today
from qiantou.units.files import read_directory_file, split_list
from qiantou.units.models import Unit, UnitKind

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
    ("sysadmin", "系统管理员", Role.SYSTEM_ADMIN, "QS0101", True),
]


@dataclass
class DemoSummary:
    """What a load did: counts of units written, users and plans created, and the login table."""

    units: int = 0
    users_created: int = 0
    plans_created: int = 0
    logins: list[dict[str, str]] = field(default_factory=list)


# --- units --------------------------------------------------------------------------------------


def _load_units(actor: Any) -> int:
    """Create or update the directory from ``units.csv`` (parents first); returns rows read."""
    table = read_directory_file(UNITS_FILE.name, UNITS_FILE.read_bytes())
    by_code = {u.code: u for u in Unit.objects.all()}
    pending = list(table.rows)
    written = 0
    while pending:
        progressed = False
        rest = []
        for row in pending:
            code = row.get("code") or ""
            parent_code = row.get("parent_code") or ""
            if parent_code and parent_code not in by_code:
                rest.append(row)
                continue
            values = {
                "name": row.get("name") or "",
                "short_names": split_list(row.get("short_names")),
                "former_names": split_list(row.get("former_names")),
                "parent": by_code.get(parent_code) if parent_code else None,
                "kind": row.get("kind") or UnitKind.BUREAU,
                "mandate": row.get("mandate") or "",
            }
            unit = by_code.get(code)
            if unit is None:
                unit = Unit.objects.create(code=code, **values)
                audit_record(
                    actor=actor, action="unit.create", obj=unit, payload={"code": code, "source": "demo"}
                )
                by_code[code] = unit
            elif any(getattr(unit, k) != v for k, v in values.items()):
                for k, v in values.items():
                    setattr(unit, k, v)
                unit.save()
                audit_record(
                    actor=actor, action="unit.update", obj=unit, payload={"code": code, "source": "demo"}
                )
            written += 1
            progressed = True
        if not progressed:
            raise ValueError(f"{UNITS_FILE.name}: unknown parent codes in rows {[r.row for r in rest]}")
        pending = rest
    return written


def _unit_index() -> dict[str, Unit]:
    """Exact lookup of a printed name: full names and short names (the resolver does the fuzzy part)."""
    index: dict[str, Unit] = {}
    for unit in Unit.objects.filter(active=True):
        index.setdefault(unit.name, unit)
        for alias in [*unit.short_names, *unit.former_names]:
            index.setdefault(alias, unit)
    return index


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
                is_superuser=staff,
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
    return (
        text,
        spec.get("deadline_kind") or (DeadlineKind.NONE if not text else DeadlineKind.OPEN_ENDED),
        None,
    )


def _create_plan(spec: dict[str, Any], index: dict[str, Unit], actor: User, day: dt.date) -> Plan:
    """Create one plan with its tasks and named units, in printed order, with its audit events."""
    plan = Plan.objects.create(
        title=spec["title"],
        doc_number=spec.get("doc_number", ""),
        lead_unit=index[spec["lead_unit"]],
        issuing_unit=index.get(spec.get("issuing_unit", "")),
        status=PlanStatus.DRAFT,
        year=day.year,
        lead_rule=spec.get("lead_rule", ""),
        source_name="demo/plans.json",
        created_by=actor,
    )
    audit_record(actor=actor, action="plan.create", obj=plan, payload={"title": plan.title, "source": "demo"})
    by_no: dict[str, Task] = {}
    for position, t in enumerate(spec["tasks"]):
        text, kind, date = _deadline(t, day)
        parent = by_no.get(t["parent"]) if t.get("parent") else None
        task = Task.objects.create(
            plan=plan,
            parent=parent,
            no=t.get("no") or "",
            position=position,
            path=f"{parent.path}.{position}" if parent else str(position),
            text=t["text"],
            deadline_text=text,
            deadline_kind=kind,
            deadline=date,
            warnings=t.get("warnings", []),
        )
        if t.get("no") and not t.get("parent"):
            by_no.setdefault(t["no"], task)
        for role, names in (
            (TaskUnitRole.LEAD, t["lead"]),
            (TaskUnitRole.COOPERATING, t["cooperating"]),
            (TaskUnitRole.GENERIC, t.get("generic", [])),
        ):
            for i, name in enumerate(names):
                unit = index.get(name)
                if unit is None:
                    resolution = Resolution.GENERIC if role == TaskUnitRole.GENERIC else Resolution.UNKNOWN
                elif unit.kind == UnitKind.GROUP:
                    resolution = Resolution.GROUP
                else:
                    resolution = Resolution.MATCHED
                TaskUnit.objects.create(
                    task=task, unit=unit, role=role, position=i, printed_name=name, resolution=resolution
                )
        audit_record(actor=actor, action="task.create", obj=task, payload={"plan": plan.pk, "no": task.no})
        if t.get("status") == TaskStatus.DONE:
            task.status = TaskStatus.DONE
            task.save(update_fields=["status"])
            audit_record(actor=actor, action="task.done", obj=task, payload={"source": "demo"})
    status = spec.get("status", PlanStatus.DRAFT)
    if status != PlanStatus.DRAFT:
        plan.status = status
        if status == PlanStatus.ISSUED:
            plan.issued_on = day + dt.timedelta(days=int(spec.get("issued_in_days", 0)))
        plan.save(update_fields=["status", "issued_on"])
        audit_record(actor=actor, action=f"plan.{status}", obj=plan, payload={"source": "demo"})
    return plan


def _ensure_plans(summary: DemoSummary, day: dt.date) -> None:
    """Create each fixture plan unless a plan with that title and lead unit exists."""
    specs = json.loads(PLANS_FILE.read_text(encoding="utf-8"))["plans"]
    index = _unit_index()
    for spec in specs:
        lead = index[spec["lead_unit"]]
        if Plan.objects.filter(title=spec["title"], lead_unit=lead).exists():
            continue
        handler = (
            User.objects.filter(unit=lead, role=Role.HANDLER).first()
            or User.objects.filter(username="sysadmin").first()
        )
        assert handler is not None
        _create_plan(spec, index, handler, day)
        summary.plans_created += 1


def demo_load(*, day: dt.date | None = None) -> DemoSummary:
    """Load the demo city in one transaction; running it again changes nothing that is already there."""
    summary = DemoSummary()
    day = day or today()
    with transaction.atomic():
        summary.units = _load_units(actor=None)
        _ensure_users(summary)
        _ensure_plans(summary, day)
    return summary
