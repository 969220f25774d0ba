"""Importing published plan files as draft plans: units resolved, atomic, audited; the two commands."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError

from qiantou.accounts.models import Role
from qiantou.audit.models import AuditEvent
from qiantou.planparse import PlanFileError
from qiantou.plans.importing import plan_import, plan_import_preview
from qiantou.plans.models import Plan, PlanStatus, Task, TaskUnit
from qiantou.plans.tests.factories import make_user
from qiantou.units.models import Unit
from qiantou.units.services import unit_directory_import

CASES = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "cases"
PLANS = CASES / "plans"

pytestmark = pytest.mark.django_db


@pytest.fixture
def directory() -> None:
    data = (CASES / "units" / "qingshan-units.csv").read_bytes()
    unit_directory_import(actor=None, file_name="qingshan-units.csv", data=data)


def _import(name: str, **kwargs: object) -> Plan:
    path = PLANS / name
    return plan_import(actor=None, data=path.read_bytes(), filename=path.name, **kwargs)  # type: ignore[arg-type]


def test_import_creates_a_draft_plan_with_resolved_units(directory: None) -> None:
    plan = _import("dev10-renju-mergedtable.docx", lead_unit="QS0216")
    assert plan.status == PlanStatus.DRAFT
    assert plan.lead_unit.code == "QS0216"
    assert plan.year == 2024
    tasks = list(plan.tasks.order_by("position"))
    assert len(tasks) == 14
    first = tasks[0]
    assert (first.no, first.path, first.deadline_kind, first.deadline_text) == (
        "1",
        "1.1",
        "date",
        "2024年11月底前",
    )
    assert first.deadline is not None and first.deadline.isoformat() == "2024-11-30"
    leads = list(first.task_units.filter(role="lead"))
    assert [(u.printed_name, u.unit.name if u.unit else None, u.resolution) for u in leads] == [
        ("市农业农村局", "青山市农业农村局", "matched")
    ]
    # The typo 市农业农材局 stays unknown, printed name kept, flagged on the task.
    typo = TaskUnit.objects.get(task__plan=plan, printed_name="市农业农材局")
    assert typo.unit is None and typo.resolution == "unknown"
    assert any("市农业农材局" in w for w in typo.task.warnings)
    # Collective parties resolve to their group entry, never expanded.
    group = TaskUnit.objects.filter(task__plan=plan, printed_name="各县（市、区）人民政府").first()
    assert group is not None and group.resolution == "group" and group.unit is not None


def test_import_records_plan_import_in_the_accountability_record(directory: None) -> None:
    plan = _import("dev03-dishouru-mojibake.txt", lead_unit="QS0212")
    event = AuditEvent.objects.get(action="plan.import", object_id=str(plan.pk))
    assert event.payload["tasks"] == plan.tasks.count() == 12
    assert event.payload["source_name"] == "dev03-dishouru-mojibake.txt"


def test_alias_defined_in_the_plan_resolves_like_its_full_name(directory: None) -> None:
    plan = _import("dev03-dishouru-mojibake.txt", lead_unit="QS0212")
    alias = TaskUnit.objects.filter(task__plan=plan, printed_name="各县（市、区）政府")
    assert alias.exists()
    assert all(u.resolution == "group" and u.unit is not None for u in alias)


def test_generic_parties_are_stored_apart(directory: None) -> None:
    plan = _import("dev01-yingshang-gbk.txt", lead_unit="QS0201")
    generic = TaskUnit.objects.filter(task__plan=plan, role="generic")
    assert {u.printed_name for u in generic} == {"有关部门"}
    assert all(u.resolution == "generic" and u.unit is None for u in generic)


def test_nested_tasks_are_linked_to_their_parent(directory: None) -> None:
    plan = _import("dev09-minying-inline.docx", lead_unit="QS0201")
    child = Task.objects.get(plan=plan, path="1.1.1")
    assert child.parent is not None and child.parent.no == "（一）"


def test_handler_imports_for_their_own_unit_only(directory: None) -> None:
    unit = Unit.objects.get(code="QS0216")
    other = Unit.objects.get(code="QS0201")
    handler = make_user("h1", role=Role.HANDLER, unit=unit)
    path = PLANS / "dev10-renju-mergedtable.docx"
    plan = plan_import(actor=handler, data=path.read_bytes(), filename=path.name)
    assert plan.lead_unit == unit and plan.created_by == handler
    with pytest.raises(PermissionDenied):
        plan_import(actor=handler, data=path.read_bytes(), filename=path.name, lead_unit=other)
    assert Plan.objects.count() == 1


def test_a_bad_file_stores_nothing(directory: None) -> None:
    before = (
        Plan.objects.count(),
        Task.objects.count(),
        AuditEvent.objects.filter(action="plan.import").count(),
    )
    with pytest.raises(PlanFileError):
        plan_import(actor=None, data=b"PK\x03\x04broken", filename="bad.docx", lead_unit="QS0201")
    with pytest.raises(ValidationError):
        plan_import(
            actor=None, data="这是一段没有任务的文字。".encode(), filename="empty.txt", lead_unit="QS0201"
        )
    with pytest.raises(ValidationError):
        _import("dev01-yingshang-gbk.txt", lead_unit="NO-SUCH-CODE")
    after = (
        Plan.objects.count(),
        Task.objects.count(),
        AuditEvent.objects.filter(action="plan.import").count(),
    )
    assert before == after


def test_a_failure_half_way_rolls_everything_back(directory: None, monkeypatch: pytest.MonkeyPatch) -> None:
    import qiantou.plans.importing as importing

    real = importing.task_create
    calls = {"n": 0}

    def failing(**kwargs: object) -> Task:
        calls["n"] += 1
        if calls["n"] == 5:
            raise RuntimeError("disk full")
        return real(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(importing, "task_create", failing)
    with pytest.raises(RuntimeError):
        _import("dev01-yingshang-gbk.txt", lead_unit="QS0201")
    assert Plan.objects.count() == 0 and Task.objects.count() == 0 and TaskUnit.objects.count() == 0


def test_preview_lists_unknown_names_without_storing(directory: None) -> None:
    path = PLANS / "dev04-chengguan-boxtable.txt"
    preview = plan_import_preview(data=path.read_bytes(), filename=path.name)
    assert preview.unknown_names == ["青山市智慧城市运营中心"]
    assert Plan.objects.count() == 0


def test_parse_command_prints_one_json_object() -> None:
    out = StringIO()
    call_command("parse", str(PLANS / "dev05-zhunong-big5.html"), "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert len(data["tasks"]) == 10
    assert data["tasks"][1]["lead_units"] == ["市机关事务局", "市教育局", "市卫生健康委"]
    assert data["tasks"][8]["deadline"]["rule"] == {"every": "month", "day": 5}


def test_parse_command_fails_on_an_unreadable_file(tmp_path: Path) -> None:
    bad = tmp_path / "plan.pdf"
    bad.write_bytes(b"%PDF-1.4 truncated")
    with pytest.raises(CommandError) as err:
        call_command("parse", str(bad), "--json", stdout=StringIO())
    assert "plan.pdf" in str(err.value)


def test_import_command_prints_a_summary(directory: None) -> None:
    out = StringIO()
    call_command("import", str(PLANS / "dev12-yanglao-qingdan.xlsx"), "--lead-unit", "QS0212", stdout=out)
    text = out.getvalue()
    assert "任务 11 项" in text
    assert "市市场监督局" in text  # the misspelled unit is reported as unknown
    assert Plan.objects.get().tasks.count() == 11
